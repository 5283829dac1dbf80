"""The recurring-charges job: every due period of every subscription, charged once per
level, in batches (one transaction per batch, set-based writes).

A period is due on its first day (fees are charged in advance). A subscription's
`charged_through` says how far it was charged; the rows themselves are keyed by
(subscription, period, level, what), so a rerun, a second worker, a crash between two
batches or a clock moved back charge nothing twice. A worker that was down catches up
every missed period, in order, and its summary says how many periods were overdue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import CatalogService, RecurringCharge, ServicePrice, Subscription
from db.schema import Account
from rating.periods import Period, active_days, period_containing, prorate
from services.recurring.keyed import insert_new
from services.recurring.levels import LevelPrice, level_prices
from services.recurring.payment import pay_new_charges, settle_unpaid

logger = logging.getLogger(__name__)

BATCH = 1000
CHARGES = cast(Table, RecurringCharge.__table__)
SUBSCRIPTIONS = cast(Table, Subscription.__table__)


@dataclass
class ChargeReport:
    now: datetime
    subscriptions: int = 0
    periods: int = 0
    overdue: int = 0  # periods that started before today: a worker was down
    oldest_overdue: date | None = None
    rows: int = 0
    skipped: int = 0  # rows another run had written already
    unpaid: int = 0
    suspended: int = 0
    resumed: int = 0
    batches: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.periods} periods of {self.subscriptions} subscriptions charged "
            f"({self.rows} rows, {self.skipped} already there), {self.unpaid} unpaid, "
            f"{self.suspended} suspended, {self.resumed} resumed"
        )
        if self.overdue:
            text += f"; caught up {self.overdue} overdue periods since {self.oldest_overdue}"
        return text


def charge_due(factory: sessionmaker[Session], now: datetime) -> ChargeReport:
    """Charge every period that has started by `now` (aware UTC) and is not charged."""
    report = ChargeReport(now)
    today = now.date()
    with factory() as session:
        report.resumed += settle_unpaid(session, now)
        session.commit()
    last_id = 0
    while True:
        with factory() as session:
            subs = list(
                session.scalars(
                    select(Subscription)
                    .where(
                        Subscription.id > last_id,
                        Subscription.status.in_(("active", "suspended")),
                        Subscription.charged_through <= today,
                        or_(
                            Subscription.end.is_(None),
                            Subscription.charged_through < Subscription.end,
                        ),
                    )
                    .order_by(Subscription.id)
                    .limit(BATCH)
                )
            )
            if not subs:
                break
            last_id = subs[-1].id
            _charge_batch(session, subs, today, now, report)
            session.commit()
            report.batches += 1
    if report.overdue:
        logger.warning("recurring charges: caught up %d overdue periods", report.overdue)
    return report


def _charge_batch(
    session: Session, subs: Sequence[Subscription], today: date, now: datetime, report: ChargeReport
) -> None:
    services = _services(session, {s.service_id for s in subs})
    prices = _prices(session, set(services))
    paths = dict(
        session.execute(
            select(Account.id, Account.path).where(Account.id.in_({s.account_id for s in subs}))
        ).all()
    )
    rows: list[dict[str, Any]] = []
    states: dict[int, tuple[str, bool]] = {}
    cursors: list[dict[str, Any]] = []
    for sub in subs:
        service = services[sub.service_id]
        levels = level_prices(paths[sub.account_id], service, prices.get(service.id, {}))
        states[sub.id] = (service.unpaid_policy, sub.status == "suspended")
        through = sub.charged_through
        if through == sub.start:
            rows.extend(_setup_rows(sub, levels, now))
        for period in _due_periods(service, sub, through, today):
            report.periods += 1
            if period.start < today and period.end <= today:
                report.overdue += 1
                if report.oldest_overdue is None or period.start < report.oldest_overdue:
                    report.oldest_overdue = period.start
            rows.extend(_fee_rows(sub, period, levels, now))
            through = period.end
        if through != sub.charged_through:
            report.subscriptions += 1
            cursors.append({"b_id": sub.id, "b_through": through})
    new = insert_new(
        session,
        CHARGES,
        rows,
        ("id", "subscription_id", "account_id", "amount", "what", "period_start", "period_end"),
    )
    report.rows += len(new)
    report.skipped += len(rows) - len(new)
    if cursors:
        # Only forward: a run that computed from an older cursor never moves it back.
        session.execute(
            update(SUBSCRIPTIONS)
            .where(
                SUBSCRIPTIONS.c.id == bindparam("b_id"),
                SUBSCRIPTIONS.c.charged_through < bindparam("b_through"),
            )
            .values(charged_through=bindparam("b_through")),
            cursors,
        )
    outcome = pay_new_charges(session, new, states, now)
    report.unpaid += outcome.unpaid
    report.suspended += outcome.suspended


def _due_periods(
    service: CatalogService, sub: Subscription, through: date, today: date
) -> list[Period]:
    out: list[Period] = []
    day = through
    while day <= today and (sub.end is None or day < sub.end):
        period = period_containing(service.period, sub.start, sub.billing_day, day)
        out.append(period)
        day = period.end
    return out


def _base_row(sub: Subscription, line: LevelPrice, now: datetime) -> dict[str, Any]:
    return {
        "subscription_id": sub.id,
        "level": line.level,
        "account_id": line.account_id,
        "provider_id": line.provider_id,
        "status": "paid" if line.account_id is not None else "cost",
        "created_at": now,
        "paid_at": None,
    }


def _setup_rows(sub: Subscription, levels: list[LevelPrice], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            **_base_row(sub, line, now),
            "what": "setup",
            "period_start": sub.start,
            "period_end": sub.start,
            "days": 0,
            "period_days": 0,
            "exact_amount": line.setup_fee,
            "amount": prorate(line.setup_fee, 1, 1)[1],
        }
        for line in levels
        if line.setup_fee != 0
    ]


def _fee_rows(
    sub: Subscription, period: Period, levels: list[LevelPrice], now: datetime
) -> list[dict[str, Any]]:
    days = active_days(period, sub.start, sub.end)
    rows = []
    for line in levels:
        exact, billed = prorate(line.price, days, period.days)
        rows.append(
            {
                **_base_row(sub, line, now),
                "what": "fee",
                "period_start": period.start,
                "period_end": period.end,
                "days": days,
                "period_days": period.days,
                "exact_amount": exact,
                "amount": billed,
            }
        )
    return rows


def _services(session: Session, ids: set[int]) -> dict[int, CatalogService]:
    return {
        s.id: s for s in session.scalars(select(CatalogService).where(CatalogService.id.in_(ids)))
    }


def _prices(session: Session, ids: set[int]) -> dict[int, dict[int, ServicePrice]]:
    out: dict[int, dict[int, ServicePrice]] = {}
    for p in session.scalars(select(ServicePrice).where(ServicePrice.service_id.in_(ids))):
        out.setdefault(p.service_id, {})[p.seller_id] = p
    return out
