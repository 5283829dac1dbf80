"""SettleCall: a switch (or a test) reports a finished call over SOAP instead of AMI.

The call becomes an ordinary CDR (source `soap`) and goes through the same
services/cdr/usecases.record_cdr as the AMI listener: rated and charged at every level,
its reservation settled, its trunk and buy cost recorded. Idempotent on the uniqueid:
settling the same call twice charges once. Spyne-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from db.schema import Account, Cdr, Reservation, Trunk
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from rating.money import ZERO
from services.cdr.commands import CdrRecord
from services.cdr.usecases import record_cdr
from services.common.caller import Caller, require_role
from services.credit.cdr_batch import reservation_for
from services.credit.settlement import ACCOUNT_FIELD
from services.credit.trunk_match import TRUNK_FIELD

MAX_BILLSEC = 86_400
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")


@dataclass(frozen=True)
class SettleCommand:
    uniqueid: str
    billsec: int
    reservation_id: int | None = None
    account_id: int | None = None
    number: str = ""
    answer: datetime | None = None  # default: when the reservation was made (or now)
    disposition: str = ""  # default: ANSWERED when billsec > 0, else NO ANSWER
    trunk_id: int | None = None


@dataclass(frozen=True)
class Settled:
    cdr_id: int
    outcome: str
    status: str
    account_id: int | None
    cost: Decimal
    reservation_id: int | None
    reservation_status: str


def settle_call(uow: UnitOfWork, caller: Caller, cmd: SettleCommand) -> Settled:
    require_role(caller, "admin")
    session = uow.session
    uniqueid = cmd.uniqueid.strip()
    if not uniqueid or len(uniqueid) > 64:
        raise InvalidInput("uniqueid: 1 to 64 characters")
    if not 0 <= cmd.billsec <= MAX_BILLSEC:
        raise InvalidInput(f"billsec: 0 to {MAX_BILLSEC}")
    done = _cdr(uow, uniqueid)
    if done is not None:
        return _settled(uow, done, "duplicate")
    held = _reservation(uow, cmd, uniqueid)
    account_id = held.account_id if held is not None else cmd.account_id
    if account_id is None:
        raise InvalidInput("give reservation_id or account_id")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    number = cmd.number.strip() or (held.number if held is not None else "")
    if not number:
        raise InvalidInput("number: required without a reservation")
    record = _record(cmd, uniqueid, account, number, held, _trunk_name(uow, cmd.trunk_id))
    outcome = record_cdr(uow, record)
    cdr = _cdr(uow, uniqueid)
    assert cdr is not None  # stored just now, or by a concurrent settle of the same call
    return _settled(uow, cdr, outcome.value)


def _cdr(uow: UnitOfWork, uniqueid: str) -> Cdr | None:
    """The call's CDR, whoever stored it (SettleCall, AMI or Master.csv): a source
    without Asterisk's Sequence stores a negative one derived from the CDR's fields, so
    the uniqueid alone identifies the call here."""
    return uow.session.scalars(
        select(Cdr).where(Cdr.uniqueid == uniqueid).order_by(Cdr.id).limit(1)
    ).first()


def _settled(uow: UnitOfWork, cdr: Cdr, outcome: str) -> Settled:
    # The reservation the CDR settled. No index holds `cdr_id` (each would cost an entry
    # at every settlement), so the row is found by its channel: a CDR only ever settles
    # a reservation of its own uniqueid (services/credit/settlement.py
    # close_reservations), so the uniqueid narrows the rows without changing the answer.
    held = uow.session.scalars(
        select(Reservation).where(
            Reservation.uniqueid == cdr.uniqueid,
            Reservation.cdr_id == cdr.id,
            Reservation.parent_id.is_(None),
        )
    ).first()
    return Settled(
        cdr_id=cdr.id,
        outcome=outcome,
        status=cdr.status,
        account_id=cdr.account_id,
        cost=cdr.cost if cdr.status == "rated" else ZERO,
        reservation_id=held.id if held is not None else None,
        reservation_status=held.status if held is not None else "",
    )


def _reservation(uow: UnitOfWork, cmd: SettleCommand, uniqueid: str) -> Reservation | None:
    if cmd.reservation_id is None:
        return reservation_for(uow.session, uniqueid)
    held = uow.session.get(Reservation, cmd.reservation_id)
    if held is None or held.parent_id is not None:
        raise NotFound(f"reservation {cmd.reservation_id} not found")
    if held.uniqueid and held.uniqueid != uniqueid:
        raise InvalidInput("uniqueid: the reservation was made for another channel")
    if cmd.account_id is not None and cmd.account_id != held.account_id:
        raise InvalidInput("account_id: the reservation is another account's")
    if not held.uniqueid:
        held.uniqueid = uniqueid  # how settlement finds it
        uow.session.flush()
    return held


def _trunk_name(uow: UnitOfWork, trunk_id: int | None) -> str:
    if trunk_id is None:
        return ""
    trunk = uow.session.get(Trunk, trunk_id)
    if trunk is None:
        raise NotFound(f"trunk {trunk_id} not found")
    return trunk.name


def _record(
    cmd: SettleCommand,
    uniqueid: str,
    account: Account,
    number: str,
    held: Reservation | None,
    trunk: str,
) -> CdrRecord:
    disposition = cmd.disposition or ("ANSWERED" if cmd.billsec > 0 else "NO ANSWER")
    if disposition not in DISPOSITIONS:
        raise InvalidInput(f"disposition: one of {', '.join(DISPOSITIONS)}")
    start = cmd.answer or (held.created_at if held is not None else datetime.now(UTC))
    answered = disposition == "ANSWERED"
    extra = {ACCOUNT_FIELD: str(account.id)}
    if trunk:
        extra[TRUNK_FIELD] = trunk
    return CdrRecord(
        uniqueid=uniqueid,
        sequence=None,
        accountcode=account.accountcode or "",
        src="",
        dst=number,
        dcontext="",
        callerid="",
        channel="",
        dstchannel="",
        lastapp="Dial",
        lastdata="",
        start=start,
        answer=start if answered else None,
        end=start + timedelta(seconds=cmd.billsec),
        duration=cmd.billsec,
        billsec=cmd.billsec if answered else 0,
        disposition=disposition,
        extra=extra,
        source="soap",
    )
