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
(`hold_new_call`), which keeps the order: its accounts are locked already, the trunk
row is the one lock it takes.

A transaction takes its accounts in one go: one that locked some accounts and then
wanted others (lower in the order) could wait in a cycle with an Authorize. Spyne-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from db.core_execute import direct_commit, direct_rows
from db.schema import Account, Reservation, Trunk
from db.session import commit_not_sent
from db.types import Money, UtcDateTime

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


# PostgreSQL: a new call's whole hold in one statement (one round trip instead of four:
# the ids, the INSERT, the accounts' `reserved`, the trunk's `open_calls`). Data-modifying
# CTEs all run on one snapshot and see none of each other's changes, only what they
# RETURN; so the rows and the accounts' change are made conditional on `tr` having
# taken the channel, and a full trunk changes nothing (its ids are lost: a sequence
# has gaps anyway). Lock order: the chain's accounts are already locked by Authorize's
# lock statement (the same FOR NO KEY UPDATE lock the UPDATE takes), new rows lock
# nobody, so the trunk row is the one lock this statement takes: last, as the rule says.
# The customer's row gets the smallest id, as `insert_reservations` gives it.
# The rows and both counters, after a `ranked` CTE of the rows' ids (k = 1 the customer's).
_TAKE_AND_WRITE = (
    " tr AS (UPDATE trunks SET open_calls = trunks.open_calls + 1"
    " WHERE trunks.id = :trunk AND (trunks.channel_limit IS NULL"
    " OR trunks.open_calls < trunks.channel_limit) RETURNING trunks.id),"
    " h AS (SELECT ranked.id, ranked.k, a.account_id, a.amount FROM ranked"
    " JOIN unnest(CAST(:accounts AS integer[]), CAST(:amounts AS numeric[]))"
    " WITH ORDINALITY AS a (account_id, amount, k) ON a.k = ranked.k"
    " WHERE EXISTS (SELECT 1 FROM tr)),"
    " ins AS (INSERT INTO reservations (id, parent_id, account_id, number, amount,"
    " max_seconds, reserved_seconds, status, uniqueid, created_at, expires_at, trunk_id)"
    " SELECT h.id, CASE WHEN h.k = 1 THEN NULL ELSE (SELECT id FROM ranked WHERE k = 1) END,"
    " h.account_id, CAST(:number AS varchar), h.amount, CAST(:max_seconds AS integer),"
    " CAST(:reserved_seconds AS integer), 'open', CAST(:uniqueid AS varchar),"
    " CAST(:created_at AS timestamptz), CAST(:expires_at AS timestamptz),"
    " CASE WHEN h.k = 1 THEN CAST(:trunk AS integer) END FROM h RETURNING 1),"
    " acc AS (UPDATE accounts SET reserved = accounts.reserved + h.amount FROM h"
    " WHERE accounts.id = h.account_id AND h.amount <> 0 RETURNING 1)"
)
_TIMES = (
    bindparam("created_at", type_=UtcDateTime()),
    bindparam("expires_at", type_=UtcDateTime()),
)
_HOLD_CALL = text(
    "WITH ids AS MATERIALIZED ("
    " SELECT nextval(pg_get_serial_sequence('reservations', 'id')) AS id"
    " FROM generate_series(1, cardinality(CAST(:accounts AS integer[])))),"
    " ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM ids),"
    + _TAKE_AND_WRITE
    + " SELECT (SELECT id FROM ranked WHERE k = 1), EXISTS (SELECT 1 FROM tr)"
).bindparams(*_TIMES)
# Planned once per connection (db/prepared.py): planning it took longer than running it;
# the CASTs above give the prepared statement its parameters' types.
_HOLD_CALL = _HOLD_CALL.execution_options(prepared="siptar_hold_new_call")

# The same hold with the ids taken beforehand (by Authorize's lock statement), sent with
# the COMMIT as one query string (`hold_and_commit`): the server answers the COMMIT's
# result, not the statement's, so nothing is read from it. A trunk filled since its count
# was read must not commit a call without its channel: then the statement fails whole, by
# a division by zero on purpose (plain SQL has no RAISE; SQLSTATE 22012 is the only error
# this statement can raise by itself), and the rest of the string, the COMMIT, is not run.
_HOLD_AND_COMMIT = text(
    "WITH ranked AS (SELECT i.id, i.k FROM unnest(CAST(:ids AS bigint[]))"
    " WITH ORDINALITY AS i (id, k)),"
    + _TAKE_AND_WRITE
    + " SELECT 1 / CAST(EXISTS (SELECT 1 FROM tr) AS integer)"
).bindparams(*_TIMES)
_HOLD_AND_COMMIT = _HOLD_AND_COMMIT.execution_options(prepared="siptar_hold_and_commit")
_TRUNK_TAKEN = "22012"  # division_by_zero: the first trunk had no channel left


class TrunkTaken(Exception):
    """`hold_and_commit`: the first trunk filled since the route read its count. Nothing
    was written and the transaction failed: roll back, and hold the call again with the
    plain statements, which take the next trunk."""


def _hold_params(session: Session, rows: list[dict[str, object]], trunk_id: int) -> dict[str, Any]:
    dialect = session.get_bind().dialect
    money = Money()
    first = rows[0]
    return {
        "accounts": [row["account_id"] for row in rows],
        "amounts": [money.process_bind_param(row["amount"], dialect) for row in rows],
        "trunk": trunk_id,
        "number": first["number"],
        "max_seconds": first["max_seconds"],
        "reserved_seconds": first["reserved_seconds"],
        "uniqueid": first["uniqueid"],
        "created_at": first["created_at"],
        "expires_at": first["expires_at"],
    }


def hold_new_call(session: Session, rows: list[dict[str, object]], trunk_id: int) -> int | None:
    """PostgreSQL only: a new call's reservation rows (customer's first, as for
    `insert_reservations`, all with the same call fields), the accounts' `reserved` and
    one more open call on the trunk, if it has a channel free, in one statement (the
    accounts' locks held). Returns the customer's row id; None when the trunk is full,
    and then nothing changed."""
    (found,) = direct_rows(session, _HOLD_CALL, _hold_params(session, rows, trunk_id))
    if not found[1]:
        return None
    _loaded_changed(session, rows, trunk_id)
    return int(found[0])


def hold_and_commit(
    session: Session,
    rows: list[dict[str, object]],
    trunk_id: int,
    ids: tuple[int, ...],
    *,
    wait_for_disk: bool,
) -> bool:
    """`hold_new_call` with the rows' `ids` given (customer's first) and the COMMIT of the
    transaction in the same round trip, so that the trunk's row, which every call through
    the trunk updates, is locked for the server's time alone, not until this thread gets
    the interpreter back to send a COMMIT of its own. False: not possible on this
    connection (not db/merged_begin.py's, or SQLite), nothing sent. TrunkTaken: the trunk
    filled meanwhile, nothing written. True: held and committed (the unit of work's own
    commit then sends nothing)."""
    params = {**_hold_params(session, rows, trunk_id), "ids": list(ids)}
    try:
        sent = direct_commit(session, _HOLD_AND_COMMIT, params, wait_for_disk=wait_for_disk)
    except DBAPIError as error:
        if getattr(error.orig, "pgcode", None) == _TRUNK_TAKEN:
            commit_not_sent(session)
            raise TrunkTaken from None
        raise
    if sent:
        _loaded_changed(session, rows, trunk_id)
    return sent


def _loaded_changed(session: Session, rows: list[dict[str, object]], trunk_id: int) -> None:
    refresh_loaded(session, Account, [row["account_id"] for row in rows], "reserved")
    refresh_loaded(session, Trunk, [trunk_id], "open_calls")
