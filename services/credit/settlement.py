"""Settlement: what a stored CDR does to credit control and to the operator's costs.

Called by services/cdr/usecases.record_cdr, in its transaction, after the CDR was
rated and every level charged (the AMI listener, imports and `SettleCall` all go
through there):

- the reservation the call was authorized with (matched by the channel's UniqueID,
  stored on the reservation at Authorize time) and its reseller-level rows are closed:
  `settled` (`released` when the CDR could not be rated), with the CDR's id. A
  reservation that already expired is linked to the CDR but stays `expired`. A CDR
  with no reservation is charged all the same.
- the trunk that carried the call is recorded on the CDR (`cdrs.trunk_id`): from the
  CDR's `Trunk` field (cdr_manager mapping `siptar_trunk => Trunk`, or SettleCall's
  trunk_id), else from the destination channel (`PJSIP/carrier1-00000002` is trunk
  `carrier1`, or the trunk whose dial string ends in `@carrier1`).
- the operator's buy cost for a rated, answered call is a `charges` row with
  `account_id` NULL and `provider_id` set, at the provider's buy sheet, one level above
  the top reseller. It moves no balance (the provider is paid outside the system).

Spyne-free.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from db.rates import plans
from db.schema import Account, Cdr, Charge, Provider, Reservation, Trunk
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import BillingError
from rating.model import CallToRate
from services.cdr.commands import CdrRecord

logger = logging.getLogger(__name__)
T = TypeVar("T")

# SettleCall passes the account it settles for here (never trusted from AMI).
ACCOUNT_FIELD = "SiptarAccount"
TRUNK_FIELD = "Trunk"
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/(?P<peer>.+?)-[0-9a-fA-F;.]+$")


def find_account(session: Session, record: CdrRecord) -> Account | None:
    """The account a CDR bills: by accountcode, else (SettleCall) the account it names,
    else the account of the reservation made for its channel."""
    if record.accountcode:
        found = session.scalars(
            select(Account).where(Account.accountcode == record.accountcode)
        ).first()
        if found is not None:
            return found
    named = record.extra.get(ACCOUNT_FIELD, "") if record.source == "soap" else ""
    if named.isdigit():
        return session.get(Account, int(named))
    if record.uniqueid:
        held = reservation_for(session, record.uniqueid)
        if held is not None:
            return session.get(Account, held.account_id)
    return None


def settle(uow: UnitOfWork, cdr: Cdr, record: CdrRecord, levels: int | None) -> None:
    """`levels`: how many account levels were charged (None: the CDR is unrated)."""
    record_costs(uow, cdr, record, levels)
    close_reservation(uow, cdr, record, levels)


def record_costs(uow: UnitOfWork, cdr: Cdr, record: CdrRecord, levels: int | None) -> None:
    """The trunk that carried the call, and the operator's buy cost. Needs no stored
    CDR row yet (the batch path calls it before the CDRs are inserted)."""
    session = uow.session
    trunk = find_trunk(session, record)
    if trunk is not None:
        cdr.trunk_id = trunk.id
        if levels is not None and record.answered and record.billsec > 0:
            _charge_buy_cost(session, cdr, record, trunk, levels)


def close_reservation(uow: UnitOfWork, cdr: Cdr, record: CdrRecord, levels: int | None) -> None:
    """Settle (or release) the reservation of the call's channel; the CDR row must exist,
    since the reservation then points at it."""
    session = uow.session
    held = reservation_for(session, record.uniqueid) if record.uniqueid else None
    if held is not None and (cdr.account_id is None or held.account_id == cdr.account_id):
        # An unrated call charged nothing: its money is released, not settled.
        closed = "settled" if levels is not None else "released"
        status = closed if held.status == "open" else held.status
        session.execute(
            update(Reservation)
            .where(or_(Reservation.id == held.id, Reservation.parent_id == held.id))
            .values(status=status, cdr_id=cdr.id)
        )
        memo = session.info.get(_MEMO)
        if memo is not None:  # a ring group's second CDR must not settle it again
            memo["reservations"].pop(record.uniqueid, None)


# session.info key of what a batch of CDRs looked up once (see `batch`).
_MEMO = "siptar.settlement"


@contextmanager
def batch(session: Session, uniqueids: Iterable[str]) -> Iterator[None]:
    """For a batch of CDRs in one transaction: the reservations of their channels are
    fetched with one query, and trunks, providers and plans are looked up once, instead
    of a few queries per CDR."""
    wanted = sorted({u for u in uniqueids if u})
    found: dict[str, Reservation] = {}
    for start in range(0, len(wanted), 500):
        rows = session.scalars(
            _open_reservations().where(Reservation.uniqueid.in_(wanted[start : start + 500]))
        )
        for row in rows:  # by id: the newest of a channel wins
            found[row.uniqueid] = row
    session.info[_MEMO] = {"reservations": found}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


def _cached(session: Session, key: tuple[object, ...], load: Callable[[], T]) -> T:
    memo = session.info.get(_MEMO)
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return cast(T, memo[key])


def _open_reservations() -> Select[Reservation]:
    return (
        select(Reservation)
        .where(
            Reservation.parent_id.is_(None),
            Reservation.cdr_id.is_(None),
            Reservation.status.in_(("open", "expired")),
        )
        .order_by(Reservation.id)
    )


def reservation_for(session: Session, uniqueid: str) -> Reservation | None:
    """The newest customer-level reservation of this channel not yet tied to a CDR."""
    memo = session.info.get(_MEMO)
    if memo is not None:
        return cast(Reservation | None, memo["reservations"].get(uniqueid))
    return session.scalars(
        _open_reservations()
        .where(Reservation.uniqueid == uniqueid)
        .order_by(None)
        .order_by(Reservation.id.desc())
        .limit(1)
    ).first()


def find_trunk(session: Session, record: CdrRecord) -> Trunk | None:
    name = record.extra.get(TRUNK_FIELD, "").strip()
    match = _CHANNEL.match(record.dstchannel.strip())
    peer = match.group("peer") if match is not None else ""
    return _cached(session, ("trunk", name, peer), lambda: _find_trunk(session, name, peer))


def _find_trunk(session: Session, name: str, peer: str) -> Trunk | None:
    if name:
        found = session.scalars(select(Trunk).where(Trunk.name == name)).first()
        if found is not None:
            return found
    if not peer:
        return None
    return session.scalars(
        select(Trunk)
        .where(or_(Trunk.name == peer, Trunk.dial_string.endswith(f"@{peer}")))
        .order_by(Trunk.id)
        .limit(1)
    ).first()


def _charge_buy_cost(
    session: Session, cdr: Cdr, record: CdrRecord, trunk: Trunk, level: int
) -> None:
    provider = _cached(
        session, ("provider", trunk.provider_id), lambda: session.get(Provider, trunk.provider_id)
    )
    if provider is None or provider.buy_sheet_id is None:
        logger.warning("trunk %s: its provider has no buy sheet; no buy cost", trunk.name)
        return
    try:
        number = normalise_number(record.dst)
        call = CallToRate(number, record.answer or record.start, record.billsec, True)
        sheet_id = provider.buy_sheet_id
        plan = _cached(session, ("plan", sheet_id), lambda: plans.plan(session, sheet_id))
        cost = plan.rate_call(call)
    except BillingError as e:
        logger.warning("CDR %s: no buy cost at trunk %s: %s", cdr.uniqueid, trunk.name, e)
        return
    session.add(
        Charge(
            cdr_id=cdr.id,
            level=level,
            account_id=None,
            provider_id=provider.id,
            sheet_id=provider.buy_sheet_id,
            prefix=cost.prefix,
            billed_seconds=cost.billed_seconds,
            exact_cost=cost.exact_cost,
            cost=cost.cost,
        )
    )
