"""The maintained holds: `accounts.reserved` and `trunks.open_calls`.

`accounts.reserved` is the sum of the account's open reservations, `trunks.open_calls`
the number of open customer-level reservations that offered the trunk first. Every
writer of reservations keeps them in the same transaction, under the row locks it holds:
Authorize (a new call), settlement (a CDR closes its call), expiry and release (a call
that no CDR closed), the listener's slice extension (a bigger amount). So Authorize
reads what the chain holds from the account rows it has locked anyway, and a trunk's
count from its row, instead of summing or counting open reservations on every call.

The one lock order (docs/credit_control.md, "Lock order"), the same in every writer:

1. accounts, deepest first, then by id (`lock_accounts`; one statement). A chain locked
   customer-first (Authorize's `lock_chain`) is in this order: a reseller's path is a
   strict prefix of its customers' paths, so it always sorts after them;
2. then reservation rows;
3. then trunks, by id (`add_open_calls`, Authorize's claim), last.

On PostgreSQL an ordinary Authorize writes its rows and both counters in one statement
(services/credit/call_hold.py), which keeps the order: its accounts are locked already,
the trunk row is the one lock it takes.

A transaction takes its accounts in one go: one that locked some accounts and then
wanted others (lower in the order) could wait in a cycle with an Authorize. Spyne-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from db.schema import Account, Reservation, Trunk
from db.types import Money

ACCOUNTS = cast(Table, Account.__table__)
TRUNKS = cast(Table, Trunk.__table__)

_ADD_RESERVED = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("h_id"))
    .values(reserved=ACCOUNTS.c.reserved + bindparam("h_amount", type_=Money()))
)
# PostgreSQL: every account's change in one statement (the text is the same whatever
# their number, so it is prepared once).
_ADD_RESERVED_ALL = text(
    "UPDATE accounts SET reserved = accounts.reserved + h.amount "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:amounts AS numeric[])) AS h (id, amount) "
    "WHERE accounts.id = h.id"
)
_ADD_OPEN_CALLS = (
    update(TRUNKS)
    .where(TRUNKS.c.id == bindparam("h_id"))
    .values(open_calls=TRUNKS.c.open_calls + bindparam("h_calls"))
)

# What closing a reservation row needs of it (selected under its lock).
ROW = (
    Reservation.id,
    Reservation.account_id,
    Reservation.amount,
    Reservation.parent_id,
    Reservation.trunk_id,
    Reservation.status,
)


def row_locks(session: Session) -> bool:
    """Does the database take row locks? SQLite does not: every transaction there is
    BEGIN IMMEDIATE (db/session.py), writers are serialised whole, and a lock statement
    would be a round trip for nothing."""
    return session.get_bind().dialect.name == "postgresql"


def lock_accounts(session: Session, ids: Iterable[int]) -> None:
    """Lock these accounts in the one order (deepest first, then by id)."""
    wanted = sorted(set(ids))
    if not wanted or not row_locks(session):
        return
    session.execute(
        select(Account.id)
        .where(Account.id.in_(wanted))
        .order_by(func.length(Account.path).desc(), Account.id)
        .with_for_update(key_share=True)
    ).all()


def lock_accounts_of_calls(session: Session, call_ids: Iterable[int], also: Iterable[int]) -> None:
    """`lock_accounts` for the accounts of these calls' reservation rows (the customer's
    row ids: its own and its resellers' rows) and the accounts `also`: one statement."""
    calls, extra = sorted(set(call_ids)), sorted(set(also))
    if (not calls and not extra) or not row_locks(session):
        return
    if calls:
        session.execute(_LOCK_ACCOUNTS_OF_CALLS, {"calls": calls, "extra": extra}).all()
        return
    owners = select(Reservation.account_id).where(
        or_(Reservation.id.in_(calls), Reservation.parent_id.in_(calls))
    )
    session.execute(
        select(Account.id)
        .where(or_(Account.id.in_(owners), Account.id.in_(extra)))
        .order_by(func.length(Account.path).desc(), Account.id)
        .with_for_update(key_share=True)
    ).all()


# The same on PostgreSQL with call ids, written so that its plan does not hang on the
# statistics of `reservations`: right after a burst of calls (thousands of rows nobody
# has analyzed yet) `id IN (...) OR parent_id IN (...)` was planned as a sequential scan
# of the whole table (and the accounts' `IN (subquery) OR id IN (...)` as one of
# `accounts`), ~10 ms a batch of 200 CDRs; a join on the ids probes the indexes per id.
_LOCK_ACCOUNTS_OF_CALLS = text(
    "SELECT a.id FROM accounts AS a WHERE a.id IN ("
    " SELECT r.account_id FROM unnest(CAST(:calls AS bigint[])) AS c (id)"
    " JOIN reservations AS r ON r.id = c.id OR r.parent_id = c.id"
    " UNION ALL SELECT unnest(CAST(:extra AS integer[])))"
    " ORDER BY length(a.path) DESC, a.id FOR NO KEY UPDATE OF a"
)


def refresh_loaded(session: Session, model: type, ids: Iterable[object], column: str) -> None:
    """Expire `column` of the loaded `model` objects of `ids` (a counter just changed by a
    statement): a loaded object stays in step, and the next read fetches the new value."""
    if not len(session.identity_map):  # nothing loaded (PostgreSQL's ordinary Authorize)
        return
    for row_id in ids:
        loaded = session.identity_map.get(identity_key(model, row_id))
        if loaded is not None:
            session.expire(loaded, [column])


def add_reserved(session: Session, deltas: Mapping[int, Decimal]) -> None:
    """Add each amount to its account's `reserved`. The caller holds the accounts' locks."""
    changes = {a: d for a, d in sorted(deltas.items()) if d}
    if not changes:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        money = Money()  # rounded as the reservation rows' amounts were
        amounts = [money.process_bind_param(d, dialect) for d in changes.values()]
        session.execute(_ADD_RESERVED_ALL, {"ids": list(changes), "amounts": amounts})
    else:
        session.execute(_ADD_RESERVED, [{"h_id": a, "h_amount": d} for a, d in changes.items()])
    refresh_loaded(session, Account, changes, "reserved")


def add_open_calls(session: Session, deltas: Mapping[int, int]) -> None:
    """Add each count to its trunk's `open_calls`, one trunk after the other in id order
    (each UPDATE takes its row's lock: trunks are locked in the one order). Call it
    after every account lock of the transaction."""
    changes = [{"h_id": t, "h_calls": n} for t, n in sorted(deltas.items()) if n]
    if not changes:
        return
    session.execute(_ADD_OPEN_CALLS, changes)
    refresh_loaded(session, Trunk, [c["h_id"] for c in changes], "open_calls")


class Closed:
    """What closing open reservation rows gives back: per account, per trunk."""

    def __init__(self) -> None:
        self.reserved: dict[int, Decimal] = {}
        self.calls: Counter[int] = Counter()

    def row(
        self, account_id: int, amount: Decimal, parent_id: int | None, trunk_id: int | None
    ) -> None:
        """One row that was open and is not any more."""
        self.reserved[account_id] = self.reserved.get(account_id, Decimal(0)) - amount
        if parent_id is None and trunk_id is not None:
            self.calls[trunk_id] -= 1

    def apply(self, session: Session, *, trunks: bool = True) -> None:
        """The accounts' part (their locks are held); the trunks' part too unless the
        caller applies it later (`Closed.calls`) with other trunk changes, in id order."""
        add_reserved(session, self.reserved)
        if trunks:
            add_open_calls(session, self.calls)
