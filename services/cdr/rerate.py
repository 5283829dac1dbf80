"""Re-rating stored CDRs (config service `RerateCdrs`, admin only).

- An unrated CDR (no account, no rate when it came) is priced again through the same
  path as a new one (`price_levels`, `charge_levels`): if it can be rated now, every level is
  charged (ledger kind `call`); if not, its reason is brought up to date.
- With `include_rated`, a rated CDR is priced again (after a rate correction) and, per
  level, only the difference from what was charged is booked (ledger kind
  `adjustment`, with the CDR's id), and the charge row is updated. A level that is no
  longer in the chain is refunded; a new one is charged. A rated CDR that can't be
  priced now keeps its charges (counted in `failed`).

All in one transaction: a fault changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from db import ledger
from db.schema import Account, Cdr, Charge
from db.session import UnitOfWork
from services.cdr.commands import CdrRecord
from services.cdr.pricing import LevelCharge, Unratable
from services.cdr.usecases import CdrFilter, charge_levels, price_levels
from services.common.caller import Caller, require_role, visible_account
from services.currency.amounts import fx_columns

ZERO = Decimal(0)


@dataclass
class RerateReport:
    examined: int = 0
    rated: int = 0  # unrated before, rated now
    still_unrated: int = 0
    adjusted: int = 0  # rated CDRs whose charges changed
    unchanged: int = 0
    failed: int = 0  # rated CDRs that can't be priced now (charges kept)
    difference: Decimal = ZERO  # total booked, customer side (negative = charged more)


def rerate_cdrs(
    uow: UnitOfWork, caller: Caller, flt: CdrFilter, include_rated: bool
) -> RerateReport:
    require_role(caller, "admin")
    session = uow.session
    query = select(Cdr)
    if flt.account_id is not None:
        account = visible_account(session, caller, flt.account_id)
        query = query.join(Account, Cdr.account_id == Account.id).where(
            Account.path.startswith(account.path)
        )
    if flt.start_from is not None:
        query = query.where(Cdr.start_time >= flt.start_from)
    if flt.start_to is not None:
        query = query.where(Cdr.start_time < flt.start_to)
    if not include_rated:
        query = query.where(Cdr.status == "unrated")
    report = RerateReport()
    for cdr in session.scalars(query.order_by(Cdr.id)).all():
        report.examined += 1
        if cdr.status == "unrated":
            _rate_unrated(uow, cdr, report)
        else:
            _rerate_rated(uow, cdr, report)
    uow.commit()
    return report


def record_of(cdr: Cdr) -> CdrRecord:
    return CdrRecord(
        uniqueid=cdr.uniqueid,
        sequence=cdr.sequence,
        accountcode=cdr.accountcode,
        src=cdr.src,
        dst=cdr.dst,
        dcontext=cdr.dcontext,
        callerid=cdr.callerid,
        channel=cdr.channel,
        dstchannel=cdr.dstchannel,
        lastapp=cdr.lastapp,
        lastdata=cdr.lastdata,
        start=cdr.start_time,
        answer=cdr.answer_time,
        end=cdr.end_time,
        duration=cdr.duration,
        billsec=cdr.billsec,
        disposition=cdr.disposition,
        amaflags=cdr.amaflags,
        userfield=cdr.userfield,
        linkedid=cdr.linkedid,
        peeraccount=cdr.peeraccount,
        extra=json.loads(cdr.extra) if cdr.extra else {},
        source=cdr.source,
    )


def _rate_unrated(uow: UnitOfWork, cdr: Cdr, report: RerateReport) -> None:
    try:
        levels = price_levels(uow, cdr, record_of(cdr))
    except Unratable as why:
        cdr.unrated_reason = str(why)[:255]
        report.still_unrated += 1
        return
    cdr.unrated_reason = ""
    charge_levels(uow, cdr, levels)
    report.rated += 1
    if levels:
        report.difference -= levels[0].cost.cost


def _rerate_rated(uow: UnitOfWork, cdr: Cdr, report: RerateReport) -> None:
    try:
        levels = price_levels(uow, cdr, record_of(cdr))
    except Unratable:
        report.failed += 1
        return
    session = uow.session
    old = {
        c.account_id: c
        for c in session.scalars(
            select(Charge).where(Charge.cdr_id == cdr.id, Charge.account_id.is_not(None))
        )
    }
    changed = False
    for lc in levels:
        charge = old.pop(lc.account.id, None)
        before = charge.cost if charge is not None else ZERO
        if charge is None:
            charge = Charge(cdr_id=cdr.id, account_id=lc.account.id)
            session.add(charge)
        if _update(charge, lc) or before != lc.cost.cost:
            changed = True
        _book(uow, cdr, lc.account.id, before - lc.cost.cost, report, lc.level)
    for gone in old.values():  # a level no longer in the chain: refunded
        assert gone.account_id is not None
        _book(uow, cdr, gone.account_id, gone.cost, report, gone.level)
        gone.cost = gone.exact_cost = ZERO
        changed = True
    if levels:
        customer = levels[0].cost
        cdr.prefix, cdr.destination = customer.prefix, customer.destination[:128]
        cdr.billed_seconds = customer.billed_seconds
        cdr.cost, cdr.exact_cost = customer.cost, customer.exact_cost
    cdr.rated_at = datetime.now(cdr.start_time.tzinfo)
    if changed:
        report.adjusted += 1
    else:
        report.unchanged += 1


def _update(charge: Charge, lc: LevelCharge) -> bool:
    values = {
        "level": lc.level,
        "sheet_id": lc.sheet_id,
        "prefix": lc.cost.prefix,
        "billed_seconds": lc.cost.billed_seconds,
        "exact_cost": lc.cost.exact_cost,
        "cost": lc.cost.cost,
        **fx_columns(lc.sheet_amount, lc.operator_cost),
    }
    changed = any(getattr(charge, k) != v for k, v in values.items())
    for key, value in values.items():
        setattr(charge, key, value)
    return changed


def _book(
    uow: UnitOfWork, cdr: Cdr, account_id: int, amount: Decimal, report: RerateReport, level: int
) -> None:
    """Post `amount` (positive: a refund to the account) as an adjustment."""
    if not amount:
        return
    ledger.post(
        uow.session,
        account_id,
        "adjustment",
        amount,
        reference=f"rerate of call to {cdr.dst}",
        cdr_id=cdr.id,
    )
    if level == 0:
        report.difference += amount
