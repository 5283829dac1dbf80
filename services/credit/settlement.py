"""Settlement: what a stored CDR does to credit control and to the operator's costs.

Called by services/cdr (`settle` for one CDR, `trunk_costs`, `to_close` and `close_calls`
for the listener's batches), in its transaction, after the CDR was rated and every
level charged (the AMI listener, imports and `SettleCall` all go through there):

- the reservation the call was authorized with (matched by the channel's UniqueID,
  stored on the reservation at Authorize time) and its reseller-level rows are closed:
  `settled` (`released` when the CDR could not be rated), with the CDR's id. A
  reservation that already expired is linked to the CDR but stays `expired`; one
  released because its channel was gone (services/credit/expiry.release_gone) is
  settled after all. A CDR
  with no reservation is charged all the same.
- the trunk that carried the call is recorded on the CDR (`cdrs.trunk_id`): the one
  its `Trunk` field, its destination channel or its reservation names
  (services/credit/trunk_match.py).
- the operator's buy cost for a rated, answered call is a `charges` row with
  `account_id` NULL and `provider_id` set, at the provider's buy sheet, one level above
  the top reseller. It moves no balance (the provider is paid outside the system).

Spyne-free.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, insert, or_, select, text, update
from sqlalchemy.orm import Session

from db.rates import plans
from db.schema import Account, Cdr, Charge, Provider, Reservation, Trunk
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import BillingError
from rating.model import CallToRate
from services.bundles import holds as bundle_holds
from services.cdr.commands import CdrRecord
from services.credit.buy_cost import BuyCost
from services.credit.cdr_batch import forget_held, held_for, remembered
from services.credit.holds import ROW, Closed, lock_accounts_of_calls
from services.credit.trunk_match import find_trunk, reserved_trunk
from services.currency.charges import convert_buy

logger = logging.getLogger(__name__)

# SettleCall passes the account it settles for here (never trusted from AMI).
ACCOUNT_FIELD = "SiptarAccount"


def find_account(session: Session, record: CdrRecord) -> Account | None:
    """The account a CDR bills when its accountcode names none (its callers,
    services/cdr/pricing and services/onnet/pricing, look the accountcode up first, from
    their batch's memo): the account SettleCall names, else the account of the
    reservation made for its channel."""
    named = record.extra.get(ACCOUNT_FIELD, "") if record.source == "soap" else ""
    if named.isdigit():
        return session.get(Account, int(named))
    if record.uniqueid:
        held = held_for(session, record.uniqueid)
        if held is not None:
            return session.get(Account, held.account_id)
    return None


def settle(uow: UnitOfWork, cdr: Cdr, record: CdrRecord, levels: int | None) -> None:
    """The single-CDR form (the CDR row exists): the trunk and the buy cost on the CDR,
    and its reservation closed. `levels`: how many account levels were charged (None:
    the CDR is unrated)."""
    session = uow.session
    costs = trunk_costs(session, cdr.uniqueid, record, levels)
    cdr.trunk_id = costs.trunk_id
    if costs.buy is not None:
        session.execute(insert(CHARGES), [costs.buy.row(cdr.id)])
    close_reservations(session, [Closing(cdr.id, cdr.account_id, record.uniqueid, levels)])


@dataclass(frozen=True)
class TrunkCosts:
    trunk_id: int | None
    buy: BuyCost | None


def trunk_costs(
    session: Session, uniqueid: str, record: CdrRecord, levels: int | None
) -> TrunkCosts:
    """The trunk that carried the call, and the operator's buy cost (for a rated,
    answered call). Needs no stored CDR row (the batch path calls it before the CDRs
    are inserted)."""
    trunk = find_trunk(session, record) or reserved_trunk(session, uniqueid)
    if trunk is None:
        return TrunkCosts(None, None)
    buy = None
    if levels is not None and record.answered and record.billsec > 0:
        buy = _buy_cost(session, uniqueid, record, trunk, levels)
    return TrunkCosts(trunk.id, buy)


@dataclass(frozen=True)
class Closing:
    """A stored CDR whose channel's reservation is to be closed."""

    cdr_id: int
    account_id: int | None
    uniqueid: str
    levels: int | None  # None: the CDR is unrated


def close_reservations(
    session: Session, closings: Iterable[Closing], *, accounts_locked: bool = False
) -> None:
    """Settle (or release) the reservation of each call's channel, and tie it to the
    CDR; the CDR rows must exist: `close_calls` of `to_close`."""
    close_calls(session, to_close(session, closings), accounts_locked=accounts_locked)


def to_close(session: Session, closings: Iterable[Closing]) -> dict[int, tuple[str, int]]:
    """The reservations these CDRs close: the call's row id -> (its new status, the CDR's
    id). Each is then no longer its channel's (`held_for`): a ring group's second CDR
    must not settle it again."""
    wanted: dict[int, tuple[str, int]] = {}
    for c in closings:
        held = held_for(session, c.uniqueid) if c.uniqueid else None
        if held is None or (c.account_id is not None and held.account_id != c.account_id):
            continue
        # An unrated call charged nothing: its money is released, not settled.
        wanted[held.id] = ("settled" if c.levels is not None else "released", c.cdr_id)
        forget_held(session, c.uniqueid)
    return wanted


def close_calls(
    session: Session, wanted: dict[int, tuple[str, int]], *, accounts_locked: bool = False
) -> None:
    """Close the calls of `to_close`: one lock statement and one UPDATE for a batch
    (PostgreSQL: `_close_all`; SQLite: `_close_each`, an executemany). What the open
    rows held comes off their accounts' `reserved` and their trunks' `open_calls`
    (services/credit/holds.py): the accounts locked first (the chain's, usually held
    already by the ledger postings; `accounts_locked`: all of them, by the caller, with
    `lock_accounts_of_calls`), then the rows, then the trunks."""
    if not wanted:
        return
    if not accounts_locked:
        lock_accounts_of_calls(session, wanted, ())
    if session.get_bind().dialect.name == "postgresql":
        freed = _close_all(session, wanted)
    else:
        freed = _close_each(session, wanted)
    # Bundle units a closed call still holds go back to their counters (docs/bundles.md).
    if remembered(session, bundle_holds.ANY_BUNDLES, lambda: bundle_holds.any_bundles(session)):
        bundle_holds.release(session, list(wanted))
    # A Core UPDATE leaves loaded objects as they were: reload them when read.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Reservation) and (obj.id in wanted or obj.parent_id in wanted):
            session.expire(obj, ["status", "cdr_id"])
    freed.apply(session)


def _closed_status(closed: str, was: str | None) -> str:
    """A call's new status: an open (or released: its channel was gone) call is closed;
    an expired one stays expired."""
    return closed if was in (None, "open", "released") else was


def _close_each(session: Session, wanted: dict[int, tuple[str, int]]) -> Closed:
    """SQLite: the rows read, then one executemany UPDATE (no round trips to save, and
    no row locks: the transaction holds the database's write lock)."""
    rows = session.execute(
        select(*ROW)
        .where(or_(Reservation.id.in_(list(wanted)), Reservation.parent_id.in_(list(wanted))))
        .with_for_update()
    ).all()
    # The status as it is under the locks (not as the batch first read it).
    now = {r.id: r.status for r in rows if r.parent_id is None}
    changes = [
        {"r_id": call_id, "r_status": _closed_status(closed, now.get(call_id)), "r_cdr_id": cdr_id}
        for call_id, (closed, cdr_id) in wanted.items()
    ]
    freed = Closed()
    for r in rows:  # every row of the call takes the call's new status, never "open"
        if r.status == "open":
            freed.row(r.account_id, r.amount, r.parent_id, r.trunk_id)
    session.execute(_CLOSE, changes)
    return freed


def _close_all(session: Session, wanted: dict[int, tuple[str, int]]) -> Closed:
    """PostgreSQL: the calls' rows locked and read (`_LOCK_CALLS`), then ONE UPDATE for
    them all. Both take the calls as arrays, so their texts are the same whatever the
    number of calls (compiled once)."""
    ids = list(wanted)
    rows = session.execute(_LOCK_CALLS, {"ids": ids}).all()
    # The status as it is under the locks (not as the batch first read it).
    now = {r.id: r.status for r in rows if r.parent_id is None}
    freed = Closed()
    for r in rows:  # every row of the call takes the call's new status, never "open"
        if r.status == "open":
            freed.row(r.account_id, r.amount, r.parent_id, r.trunk_id)
    session.execute(
        _CLOSE_ALL,
        {
            "ids": ids,
            "statuses": [_closed_status(closed, now.get(i)) for i, (closed, _) in wanted.items()],
            "cdr_ids": [cdr_id for _, cdr_id in wanted.values()],
        },
    )
    return freed


# The calls' rows (the customer's and its resellers'), locked. A join on the ids probes
# the primary key and the parent_id index per call whatever the table's statistics:
# `id IN (...) OR parent_id IN (...)` was planned as a sequential scan of the whole table
# right after a burst of calls nobody had analyzed yet (~5 ms a batch of 200 CDRs).
_LOCK_CALLS = text(
    "SELECT r.id, r.account_id, r.amount, r.parent_id, r.trunk_id, r.status"
    " FROM unnest(CAST(:ids AS bigint[])) AS c (id)"
    " JOIN reservations AS r ON r.id = c.id OR r.parent_id = c.id FOR UPDATE OF r"
)
_CLOSE_ALL = text(
    "UPDATE reservations SET status = closing.status, cdr_id = closing.cdr_id "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), "
    "CAST(:cdr_ids AS bigint[])) AS closing (id, status, cdr_id) "
    "WHERE reservations.id = closing.id OR reservations.parent_id = closing.id"
)


RESERVATIONS = cast(Table, Reservation.__table__)
CHARGES = cast(Table, Charge.__table__)
# The reservation and its reseller-level rows (parent_id), per CDR.
_CLOSE = (
    update(RESERVATIONS)
    .where(
        or_(
            RESERVATIONS.c.id == bindparam("r_id"),
            RESERVATIONS.c.parent_id == bindparam("r_id"),
        )
    )
    .values(status=bindparam("r_status"), cdr_id=bindparam("r_cdr_id"))
)


def _buy_cost(
    session: Session, uniqueid: str, record: CdrRecord, trunk: Trunk, level: int
) -> BuyCost | None:
    provider = remembered(
        session, ("provider", trunk.provider_id), lambda: session.get(Provider, trunk.provider_id)
    )
    if provider is None or provider.buy_sheet_id is None:
        logger.warning("trunk %s: its provider has no buy sheet; no buy cost", trunk.name)
        return None
    sheet_id = provider.buy_sheet_id
    try:
        number = normalise_number(record.dst)
        call = CallToRate(number, record.answer or record.start, record.billsec, True)
        plan = remembered(session, ("plan", sheet_id), lambda: plans.plan(session, sheet_id))
        cost = plan.rate_call(call)
    except BillingError as e:
        logger.warning("CDR %s: no buy cost at trunk %s: %s", uniqueid, trunk.name, e)
        return None
    # In the operator's currency at the call's start (docs/currencies.md).
    return convert_buy(session, BuyCost(provider.id, sheet_id, level, cost), call.start)
