"""What an account's invoice for a period says, read from its ledger. No spyne here.

Every line comes from the ledger rows of THIS account (`ledger.account_id`) created in
[start, end): nothing is looked up by accountcode, destination or a CDR's account, so
no line can belong to another account (the peers' "items on another customer's
invoice" bug). Rows are grouped by kind, generically: a ledger kind added later (DID
fees, subscriptions) shows as its own lines with no change here.

- charges: every kind except the money movements; `call` rows grouped by the CDR's
  destination (calls, billed seconds, amount), other kinds by (kind, reference).
  Amounts are shown positive (a charge lowers the balance).
- movements: payments, refunds, adjustments and taxes, one line per row, signed.
- opening balance (sum of the rows before `start`) + every row = closing balance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from db.recurring_schema import CatalogService, Did, RecurringCharge, Subscription
from db.schema import Cdr, Charge, LedgerEntry

# A redeemed voucher is money in, like a payment (issue 14), not a charge line.
MOVEMENT_KINDS = ("payment", "refund", "adjustment", "tax", "voucher")
# `bundle`: the minutes a bundle covered (issue 14 posts them as ledger rows of amount
# zero); they show as their own lines, at no cost.
TITLES = {"call": "Calls", "recurring": "Recurring fees", "bundle": "Bundle usage (no charge)"}


@dataclass(frozen=True)
class ChargeLine:
    kind: str
    description: str
    calls: int
    seconds: int
    amount: Decimal


@dataclass(frozen=True)
class Movement:
    at: datetime
    kind: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class CallDetail:
    start: datetime
    number: str
    destination: str
    seconds: int
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    opening: Decimal
    charges: list[ChargeLine]
    movements: list[Movement]

    @property
    def charged(self) -> Decimal:
        return sum((c.amount for c in self.charges), Decimal(0))

    @property
    def closing(self) -> Decimal:
        moved = sum((m.amount for m in self.movements), Decimal(0))
        return self.opening - self.charged + moved


def _in_period(account_id: int, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        LedgerEntry.account_id == account_id,
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < end,
    ]


def _own_charge() -> ColumnElement[bool]:
    return and_(Charge.cdr_id == LedgerEntry.cdr_id, Charge.account_id == LedgerEntry.account_id)


_CHARGE_REF = re.compile(r"recurring_charge:(\d+) ")
WHAT = {"fee": "fee", "setup": "setup fee", "credit": "credit for unused days"}


def _recurring_names(session: Session, references: list[str]) -> dict[str, str]:
    """What a recurring fee's line says: the service (or the DID's number), what was
    charged and the period (`Backup line: fee 2026-12-01 to 2027-01-01`), read from the
    charge row its ledger reference names (services/recurring/payment.py). A reference
    of another shape keeps the generic text."""
    wanted = {int(m.group(1)): ref for ref in references if (m := _CHARGE_REF.match(ref))}
    if not wanted:
        return {}
    rows = session.execute(
        select(
            RecurringCharge.id,
            RecurringCharge.what,
            RecurringCharge.period_start,
            RecurringCharge.period_end,
            CatalogService.name,
            Did.number,
        )
        .join(Subscription, Subscription.id == RecurringCharge.subscription_id)
        .join(CatalogService, CatalogService.id == Subscription.service_id)
        .outerjoin(Did, Did.id == Subscription.did_id)
        .where(RecurringCharge.id.in_(wanted))
    ).all()
    out = {}
    for charge_id, what, first, last, service, did in rows:
        name = f"DID {did}" if did else service
        period = f"{first:%Y-%m-%d}" if what == "setup" else f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
        out[wanted[charge_id]] = f"{name}: {WHAT.get(what, what)} {period}"
    return out


def statement(session: Session, account_id: int, start: datetime, end: datetime) -> Statement:
    where = _in_period(account_id, start, end)
    opening = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id, LedgerEntry.created_at < start
        )
    ).scalar_one()
    # A re-rated call has several `call` rows (the difference is booked): count calls
    # once, and take its billed seconds from this account's own charge row.
    calls = session.execute(
        select(
            Cdr.destination,
            func.count(func.distinct(LedgerEntry.cdr_id)),
            func.sum(LedgerEntry.amount),
        )
        .join(Cdr, Cdr.id == LedgerEntry.cdr_id)
        .where(*where, LedgerEntry.kind == "call")
        .group_by(Cdr.destination)
        .order_by(Cdr.destination)
    ).all()
    seconds = dict(
        session.execute(
            select(Cdr.destination, func.sum(Charge.billed_seconds))
            .join(Charge, and_(Charge.cdr_id == Cdr.id, Charge.account_id == account_id))
            .where(Cdr.id.in_(select(LedgerEntry.cdr_id).where(*where, LedgerEntry.kind == "call")))
            .group_by(Cdr.destination)
        ).all()
    )
    lines = [
        ChargeLine("call", dest or "(no destination)", n, int(seconds.get(dest) or 0), -amount)
        for dest, n, amount in calls
    ]
    others = session.execute(
        select(LedgerEntry.kind, LedgerEntry.reference, func.count(), func.sum(LedgerEntry.amount))
        .where(*where, LedgerEntry.kind.not_in(("call", *MOVEMENT_KINDS)))
        .group_by(LedgerEntry.kind, LedgerEntry.reference)
        .order_by(LedgerEntry.kind, LedgerEntry.reference)
    ).all()
    named = _recurring_names(session, [r for k, r, _, _ in others if k == "recurring"])
    for kind, reference, n, amount in others:
        title = TITLES.get(kind, kind.replace("_", " ").capitalize())
        text = named.get(reference) or (f"{title}: {reference}" if reference else title)
        lines.append(ChargeLine(kind, text, n, 0, -amount))
    movements = [
        Movement(at, kind, reference, amount)
        for at, kind, reference, amount in session.execute(
            select(
                LedgerEntry.created_at, LedgerEntry.kind, LedgerEntry.reference, LedgerEntry.amount
            )
            .where(*where, LedgerEntry.kind.in_(MOVEMENT_KINDS))
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
    ]
    return Statement(Decimal(opening), lines, movements)


def call_details(
    session: Session, account_id: int, start: datetime, end: datetime
) -> Iterator[CallDetail]:
    """One row per call charged to the account in the period, oldest first (streamed:
    an invoice of 10,000 calls is read in chunks)."""
    rows = session.execute(
        select(
            Cdr.start_time,
            Cdr.dst,
            Cdr.destination,
            func.coalesce(func.max(Charge.billed_seconds), 0),
            func.sum(LedgerEntry.amount),
        )
        .join(Cdr, Cdr.id == LedgerEntry.cdr_id)
        .outerjoin(Charge, _own_charge())
        .where(*_in_period(account_id, start, end), LedgerEntry.kind == "call")
        .group_by(Cdr.id, Cdr.start_time, Cdr.dst, Cdr.destination)
        .order_by(Cdr.start_time, Cdr.id),
        execution_options={"yield_per": 2000},
    )
    for start_time, dst, destination, billed, amount in rows:
        yield CallDetail(start_time, dst, destination, int(billed), -amount)
