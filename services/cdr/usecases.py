"""CDR use cases: store and rate a call (for the AMI listener and imports), and the
call history. Spyne-free, so ami_listener may import it.

Storing is idempotent on (uniqueid, sequence) and all-or-nothing: the CDR, one charge
row per level of the account tree, and one ledger row per balance change are written
in one transaction. A CDR that can't be rated is stored unrated with the reason, and
nothing is charged; it is never dropped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from db import ledger
from db.schema import Account, CallIntervention, Cdr, Charge
from db.session import UnitOfWork
from services.cdr import pricing
from services.cdr.commands import CdrRecord
from services.common.caller import Caller, visible_account
from services.credit import settlement

CHARGES = cast(Table, Charge.__table__)
logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    RATED = "rated"
    UNRATED = "unrated"
    DUPLICATE = "duplicate"


def record_cdr(uow: UnitOfWork, record: CdrRecord) -> Outcome:
    """Store and rate one CDR and commit (the one-record form of batches.store_batch)."""
    outcome = store_cdr_safely(uow, record)
    uow.commit()
    return outcome


def store_cdr_safely(uow: UnitOfWork, record: CdrRecord) -> Outcome:
    """`store_cdr` inside a savepoint: a failure undoes this record only, and a
    duplicate that another writer inserted meanwhile is recognised by the constraints."""
    try:
        with uow.session.begin_nested():
            return store_cdr(uow, record)
    except IntegrityError:
        print_ = fingerprint(record)
        if _exists(uow, record.uniqueid, sequence_of(record, print_), print_):
            return Outcome.DUPLICATE
        raise


def store_cdr(uow: UnitOfWork, record: CdrRecord) -> Outcome:
    """Store and rate one CDR in the current transaction; no commit.

    Idempotent on (uniqueid, sequence) and on the fingerprint (what AMI and Master.csv
    both carry): a CDR already stored by either source is a DUPLICATE and changes nothing.
    """
    session = uow.session
    print_ = fingerprint(record)
    sequence = sequence_of(record, print_)
    if _exists(uow, record.uniqueid, sequence, print_):
        return Outcome.DUPLICATE
    cdr = Cdr(**pricing.cdr_values(record, sequence, print_))
    cdr.hangup_reason = _hangup_reason(uow, record.uniqueid)
    session.add(cdr)
    session.flush()
    try:
        levels = price_levels(uow, cdr, record)
    except pricing.Unratable as why:
        for name, value in pricing.unrated_columns(why).items():
            setattr(cdr, name, value)
        settlement.settle(uow, cdr, record, None)
        return Outcome.UNRATED
    charge_levels(uow, cdr, levels)
    settlement.settle(uow, cdr, record, len(levels))
    return Outcome.RATED


def price_levels(uow: UnitOfWork, cdr: Cdr, record: CdrRecord) -> list[pricing.LevelCharge]:
    """`pricing.price_call` for a CDR object: sets its account, also when Unratable is
    raised but the account was found."""
    try:
        priced = pricing.price_call(uow, record, cdr.id)
    except pricing.Unratable as why:
        if why.account_id is not None:
            cdr.account_id = why.account_id
        raise
    cdr.account_id = priced.account_id
    cdr.onnet_account_id = priced.onnet_account_id
    return priced.levels


def charge_levels(uow: UnitOfWork, cdr: Cdr, levels: list[pricing.LevelCharge]) -> None:
    """Rate the CDR object: its columns, a charge row and a ledger row per level."""
    session = uow.session
    for name, value in pricing.rated_columns(levels, datetime.now(UTC)).items():
        setattr(cdr, name, value)
    rows = pricing.charge_rows(cdr.id, levels)
    if rows:
        session.execute(insert(CHARGES), rows)
    for p in pricing.postings(cdr.id, cdr.dst, levels):
        ledger.post(session, p.account_id, p.kind, p.amount, reference=p.reference, cdr_id=p.cdr_id)


def fingerprint(record: CdrRecord) -> str:
    """A digest of the fields both cdr_manager (AMI) and cdr_csv (Master.csv) carry."""
    parts = (
        record.uniqueid,
        record.start.isoformat(),
        record.answer.isoformat() if record.answer else "",
        record.end.isoformat(),
        record.channel,
        record.dstchannel,
        record.disposition,
        str(record.billsec),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def sequence_of(record: CdrRecord, print_: str) -> int:
    """Asterisk's Sequence; for a source without one (Master.csv), a negative number
    derived from the fingerprint: one UniqueID can have several CDRs (a ring group)."""
    if record.sequence is not None:
        return record.sequence
    return -1 - int(print_[:15], 16)


def _exists(uow: UnitOfWork, uniqueid: str, sequence: int, print_: str) -> bool:
    found = uow.session.execute(
        select(Cdr.id).where(
            or_(
                and_(Cdr.uniqueid == uniqueid, Cdr.sequence == sequence),
                Cdr.fingerprint == print_,
            )
        )
    ).first()
    return found is not None


def _hangup_reason(uow: UnitOfWork, uniqueid: str) -> str:
    reason = uow.session.execute(
        select(CallIntervention.reason).where(CallIntervention.uniqueid == uniqueid)
    ).scalar_one_or_none()
    return reason or ""


@dataclass(frozen=True)
class CdrFilter:
    account_id: int | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None


def list_cdrs(
    uow: UnitOfWork, caller: Caller, flt: CdrFilter, offset: int, limit: int
) -> tuple[list[Cdr], int]:
    """Calls the caller may see: the admin all, a reseller its subtree's, a customer
    its own; newest first. `start_to` is exclusive."""
    query = select(Cdr)
    if flt.account_id is not None:
        account = visible_account(uow.session, caller, flt.account_id)
        query = query.join(Account, Cdr.account_id == Account.id).where(
            Account.path.startswith(account.path)
        )
    elif not caller.is_admin:
        query = query.join(Account, Cdr.account_id == Account.id).where(
            Account.path.startswith(caller.path)
        )
    if flt.start_from is not None:
        query = query.where(Cdr.start_time >= flt.start_from)
    if flt.start_to is not None:
        query = query.where(Cdr.start_time < flt.start_to)
    total = uow.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = uow.session.scalars(
        query.order_by(Cdr.start_time.desc(), Cdr.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total
