"""CDR use cases: store and rate a call (for the AMI listener and imports), and the
call history. Spyne-free, so ami_listener may import it.

Storing is idempotent on (uniqueid, sequence) and all-or-nothing: the CDR, one charge
row per level of the account tree, and one ledger row per balance change are written
in one transaction. A CDR that can't be rated is stored unrated with the reason, and
nothing is charged; it is never dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import and_, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db import ledger
from db.rates import plans
from db.schema import Account, CallIntervention, Cdr, Charge, utcnow
from db.session import UnitOfWork
from rating import RatingPlan, normalise_number
from rating.errors import BillingError
from rating.model import CallCost, CallToRate
from rating.money import ZERO
from services.cdr.commands import CdrRecord
from services.common.caller import Caller, visible_account
from services.credit import settlement

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    RATED = "rated"
    UNRATED = "unrated"
    DUPLICATE = "duplicate"


class Unratable(Exception):
    """Why a CDR can't be rated; stored as its `unrated_reason`."""


@dataclass(frozen=True)
class LevelCharge:
    account: Account
    level: int
    sheet_id: int
    cost: CallCost


def record_cdr(uow: UnitOfWork, record: CdrRecord) -> Outcome:
    """Store and rate one CDR and commit (the one-record form of `store_batch`)."""
    outcome = store_cdr_safely(uow, record)
    uow.commit()
    return outcome


def store_batch(uow: UnitOfWork, records: Sequence[CdrRecord]) -> list[Outcome | None]:
    """Store and rate many CDRs in ONE transaction and commit; one outcome per record.

    Fast path (`_store_many`): the whole batch with a constant number of statements. If
    anything fails (a duplicate racing in from another listener, a bad value), the
    transaction is rolled back and redone record by record, each in a savepoint, so one
    bad record costs only itself: its outcome is None (logged), the others are
    committed. A lost connection (OperationalError) is raised: nothing of the batch is
    committed; retry it whole.
    """
    try:
        outcomes: list[Outcome | None] = list(_store_many(uow, records))
        uow.commit()
        return outcomes
    except OperationalError:
        uow.rollback()
        raise
    except Exception as exc:
        uow.rollback()
        logger.info("batch of %d CDRs redone one by one: %s", len(records), exc)
    outcomes = []
    for record in records:
        try:
            outcomes.append(store_cdr_safely(uow, record))
        except OperationalError:
            raise
        except Exception:
            logger.exception(
                "CDR UniqueID=%s Sequence=%s can't be stored", record.uniqueid, record.sequence
            )
            outcomes.append(None)
    uow.commit()
    return outcomes


def _store_many(uow: UnitOfWork, records: Sequence[CdrRecord]) -> list[Outcome]:
    """`store_cdr` for a whole batch, with one query for the duplicates, one insert of
    the new CDRs, the accounts and plans looked up once, and the ledger posted per
    account (ledger.batch). No commit."""
    session = uow.session
    uniqueids = {r.uniqueid for r in records}
    known = session.execute(
        select(Cdr.uniqueid, Cdr.sequence, Cdr.fingerprint).where(Cdr.uniqueid.in_(uniqueids))
    ).all()
    keys = {(u, s) for u, s, _ in known}
    prints = {f for _, _, f in known if f}
    reasons = {
        u: reason
        for u, reason in session.execute(
            select(CallIntervention.uniqueid, CallIntervention.reason).where(
                CallIntervention.uniqueid.in_(uniqueids)
            )
        )
    }
    outcomes = [Outcome.DUPLICATE] * len(records)
    new: list[tuple[int, CdrRecord, Cdr]] = []
    for i, record in enumerate(records):
        print_ = fingerprint(record)
        sequence = _sequence(record, print_)
        if (record.uniqueid, sequence) in keys or print_ in prints:
            continue
        keys.add((record.uniqueid, sequence))
        prints.add(print_)
        cdr = _new_cdr(record, sequence)
        cdr.fingerprint, cdr.hangup_reason = print_, reasons.get(record.uniqueid, "")
        new.append((i, record, cdr))
    # Ids first, so each CDR is inserted once, already priced (no UPDATE per row).
    for (_, _, cdr), cdr_id in zip(new, _allocate_cdr_ids(session, len(new)), strict=True):
        cdr.id = cdr_id
    session.add_all([cdr for _, _, cdr in new])
    session.info[_LOOKUPS] = {}
    settles: list[tuple[Cdr, CdrRecord, int | None]] = []
    try:
        with settlement.batch(session, [record.uniqueid for _, record, _ in new]):
            with session.no_autoflush, ledger.batch(session):
                for i, record, cdr in new:
                    try:
                        levels = _price_levels(uow, cdr, record)
                    except Unratable as why:
                        cdr.status, cdr.unrated_reason = "unrated", str(why)[:255]
                        outcomes[i] = Outcome.UNRATED
                        settles.append((cdr, record, None))
                    else:
                        _charge(uow, cdr, levels)
                        outcomes[i] = Outcome.RATED
                        settles.append((cdr, record, len(levels)))
                    settlement.record_costs(uow, cdr, record, settles[-1][2])
                _same_columns([cdr for _, _, cdr in new])
                charges = _take_pending(session, Charge)  # every level's and the buy costs
            # Leaving ledger.batch flushed the CDRs and wrote the ledger rows; only now
            # can a reservation point at its CDR.
            for cdr, record, charged in settles:
                settlement.close_reservation(uow, cdr, record, charged)
    finally:
        session.info.pop(_LOOKUPS, None)
    if charges:
        session.execute(insert(Charge), charges)
    session.flush()
    return outcomes


def _same_columns(cdrs: list[Cdr]) -> None:
    """Give every CDR a value for the columns pricing may leave unset: the ORM inserts
    runs of objects with the same columns in one statement, so mixed rated and unrated
    CDRs would otherwise cost one INSERT per run."""
    now = utcnow()
    for cdr in cdrs:
        for name, value in _PRICED_DEFAULTS:
            if name not in cdr.__dict__:
                setattr(cdr, name, now if name == "received_at" else value)


_PRICED_DEFAULTS = (
    ("account_id", None),
    ("trunk_id", None),
    ("prefix", ""),
    ("destination", ""),
    ("billed_seconds", 0),
    ("exact_cost", ZERO),
    ("cost", ZERO),
    ("rated_at", None),
    ("unrated_reason", ""),
    ("received_at", None),
)


def _take_pending(session: Session, kind: type[Charge]) -> list[dict[str, object]]:
    """Pending `kind` objects out of the session, as rows for one multi-row INSERT (an
    ORM object waits for its id: one INSERT ... RETURNING per row)."""
    rows = []
    for obj in [o for o in session.new if isinstance(o, kind)]:
        session.expunge(obj)
        rows.append({k: v for k, v in vars(obj).items() if not k.startswith("_")})
    rows.sort(key=lambda r: (r["cdr_id"], r["level"]))
    for row in rows:
        row.setdefault("created_at", utcnow())
    return rows


def _allocate_cdr_ids(session: Session, count: int) -> list[int]:
    """`count` new ids of `cdrs`: from its sequence on PostgreSQL; on SQLite after the
    largest one (every transaction there holds the write lock from its BEGIN
    IMMEDIATE, so nobody else can take the same ids)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('cdrs', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return sorted(int(r[0]) for r in rows)
    last = session.execute(select(func.coalesce(func.max(Cdr.id), 0))).scalar_one()
    return list(range(int(last) + 1, int(last) + 1 + count))


# session.info key: accounts by accountcode and plans by sheet, for one batch.
_LOOKUPS = "siptar.cdr_lookups"


def _account_by_code(uow: UnitOfWork, accountcode: str) -> Account | None:
    cache = uow.session.info.get(_LOOKUPS)
    key = ("account", accountcode)
    if cache is not None and key in cache:
        return cast(Account | None, cache[key])
    account = uow.session.execute(
        select(Account).where(Account.accountcode == accountcode)
    ).scalar_one_or_none()
    if cache is not None:
        cache[key] = account
    return account


def _account_by_id(uow: UnitOfWork, account_id: int) -> Account | None:
    # Cached: the session's identity map holds objects weakly, so a parent account
    # nobody references would be loaded again for every call of the batch.
    cache = uow.session.info.get(_LOOKUPS)
    key = ("account_id", account_id)
    if cache is not None and key in cache:
        return cast(Account | None, cache[key])
    account = uow.session.get(Account, account_id)
    if cache is not None:
        cache[key] = account
    return account


def _plan(uow: UnitOfWork, sheet_id: int) -> RatingPlan:
    cache = uow.session.info.get(_LOOKUPS)
    key = ("plan", sheet_id)
    if cache is not None and key in cache:
        return cast(RatingPlan, cache[key])
    plan = plans.plan(uow.session, sheet_id)
    if cache is not None:
        cache[key] = plan
    return plan


def store_cdr_safely(uow: UnitOfWork, record: CdrRecord) -> Outcome:
    """`store_cdr` inside a savepoint: a failure undoes this record only, and a
    duplicate that another writer inserted meanwhile is recognised by the constraints."""
    try:
        with uow.session.begin_nested():
            return store_cdr(uow, record)
    except IntegrityError:
        print_ = fingerprint(record)
        if _exists(uow, record.uniqueid, _sequence(record, print_), print_):
            return Outcome.DUPLICATE
        raise


def store_cdr(uow: UnitOfWork, record: CdrRecord) -> Outcome:
    """Store and rate one CDR in the current transaction; no commit.

    Idempotent on (uniqueid, sequence) and on the fingerprint (what AMI and Master.csv
    both carry): a CDR already stored by either source is a DUPLICATE and changes nothing.
    """
    session = uow.session
    print_ = fingerprint(record)
    sequence = _sequence(record, print_)
    if _exists(uow, record.uniqueid, sequence, print_):
        return Outcome.DUPLICATE
    cdr = _new_cdr(record, sequence)
    cdr.fingerprint = print_
    cdr.hangup_reason = _hangup_reason(uow, record.uniqueid)
    session.add(cdr)
    session.flush()
    try:
        levels = _price_levels(uow, cdr, record)
    except Unratable as why:
        cdr.status, cdr.unrated_reason = "unrated", str(why)[:255]
        settlement.settle(uow, cdr, record, None)
        return Outcome.UNRATED
    _charge(uow, cdr, levels)
    settlement.settle(uow, cdr, record, len(levels))
    return Outcome.RATED


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


def _sequence(record: CdrRecord, print_: str) -> int:
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


def _new_cdr(r: CdrRecord, sequence: int) -> Cdr:
    return Cdr(
        uniqueid=r.uniqueid,
        sequence=sequence,
        linkedid=r.linkedid,
        accountcode=r.accountcode,
        src=r.src,
        dst=r.dst,
        dcontext=r.dcontext,
        callerid=r.callerid,
        channel=r.channel,
        dstchannel=r.dstchannel,
        lastapp=r.lastapp,
        lastdata=r.lastdata[:255],
        start_time=r.start,
        answer_time=r.answer,
        end_time=r.end,
        duration=r.duration,
        billsec=r.billsec,
        disposition=r.disposition,
        amaflags=r.amaflags,
        userfield=r.userfield[:255],
        peeraccount=r.peeraccount,
        extra=json.dumps(dict(r.extra), sort_keys=True),
        source=r.source,
        status="unrated",
    )


def _price_levels(uow: UnitOfWork, cdr: Cdr, record: CdrRecord) -> list[LevelCharge]:
    """The cost of the call at every level: the customer, then each reseller above
    it, each at its own sheet. Raises Unratable if any level can't be priced."""
    account = _account_by_code(uow, record.accountcode) if record.accountcode else None
    if account is None:
        # SettleCall's named account, or the account whose reservation this channel holds.
        account = settlement.find_account(uow.session, record)
    if account is None:
        raise Unratable(f"no account with accountcode {record.accountcode!r}")
    cdr.account_id = account.id
    if not record.answered or record.billsec <= 0:
        return []
    try:
        number = normalise_number(record.dst)
    except BillingError:
        raise Unratable(f"destination {record.dst!r} is not a dialled number") from None
    call = CallToRate(
        number=number, start=record.answer or record.start, billsec=record.billsec, answered=True
    )
    return [_price_one(uow, acc, level, call) for level, acc in enumerate(_chain(uow, account))]


def _chain(uow: UnitOfWork, account: Account) -> list[Account]:
    """The account and every reseller above it (the admin pays nobody)."""
    chain: list[Account] = []
    current: Account | None = account
    while current is not None and current.role != "admin":
        chain.append(current)
        current = _account_by_id(uow, current.parent_id) if current.parent_id else None
    return chain


def _price_one(uow: UnitOfWork, account: Account, level: int, call: CallToRate) -> LevelCharge:
    if account.rate_sheet_id is None:
        raise Unratable(f"account {account.id} ({account.name}) has no rate sheet")
    plan = _plan(uow, account.rate_sheet_id)
    try:
        cost = plan.rate_call(call)
    except BillingError as e:
        raise Unratable(f"account {account.id} ({account.name}): {e.message}") from None
    return LevelCharge(account, level, account.rate_sheet_id, cost)


def _charge(uow: UnitOfWork, cdr: Cdr, levels: list[LevelCharge]) -> None:
    session = uow.session
    cdr.status, cdr.rated_at = "rated", datetime.now(UTC)
    if levels:
        customer = levels[0].cost
        cdr.prefix, cdr.destination = customer.prefix, customer.destination[:128]
        cdr.billed_seconds = customer.billed_seconds
        cdr.cost, cdr.exact_cost = customer.cost, customer.exact_cost
    for lc in levels:
        session.add(
            Charge(
                cdr_id=cdr.id,
                level=lc.level,
                account_id=lc.account.id,
                sheet_id=lc.sheet_id,
                prefix=lc.cost.prefix,
                billed_seconds=lc.cost.billed_seconds,
                exact_cost=lc.cost.exact_cost,
                cost=lc.cost.cost,
            )
        )
        if lc.cost.cost:
            ledger.post(
                session,
                lc.account.id,
                "call",
                -lc.cost.cost,
                reference=f"call to {cdr.dst}",
                cdr_id=cdr.id,
            )


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
