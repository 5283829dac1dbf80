"""The recurring-charges job: every due period of every subscription, charged once per
level, in batches (one transaction per batch, set-based writes: the charge rows by one
INSERT ... SELECT, services/recurring/charge_sets.py).

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

from db import bulk
from db.recurring_schema import CatalogService, ServicePrice, Subscription
from db.schema import Account
from rating.periods import Period, active_days, period_containing
from services.recurring.charge_sets import ChargeSet, clear_new
from services.recurring.levels import LevelPrice, level_prices
from services.recurring.payment import pay_new_set, settle_unpaid

logger = logging.getLogger(__name__)

BATCH = 1000
SUBSCRIPTIONS = cast(Table, Subscription.__table__)
SUB_COLUMNS = (
    Subscription.id,
    Subscription.service_id,
    Subscription.account_id,
    Subscription.status,
    Subscription.start,
    Subscription.end,
    Subscription.billing_day,
    Subscription.charged_through,
)


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
            # Plain rows, not ORM objects: a thousand entities cost more than charging them.
            subs = list(
                session.execute(
                    select(*SUB_COLUMNS)
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
    session: Session, subs: Sequence[Any], today: date, now: datetime, report: ChargeReport
) -> None:
    services = _services(session, {s.service_id for s in subs})
    prices = _prices(session, set(services))
    paths = dict(
        session.execute(
            select(Account.id, Account.path).where(Account.id.in_({s.account_id for s in subs}))
        ).all()
    )
    charges = ChargeSet()
    states: dict[int, tuple[str, bool]] = {}
    cursors: list[dict[str, Any]] = []
    shared: dict[tuple[int, str], list[LevelPrice]] = {}
    for sub in subs:
        service = services[sub.service_id]
        template = _template(shared, paths[sub.account_id], service, prices)
        states[sub.id] = (service.unpaid_policy, sub.status == "suspended")
        through = sub.charged_through
        if through == sub.start:
            charges.add(sub, template, "setup", (sub.start, sub.start), (0, 0))
        for period in _due_periods(service, sub, through, today):
            report.periods += 1
            if period.start < today and period.end <= today:
                report.overdue += 1
                if report.oldest_overdue is None or period.start < report.oldest_overdue:
                    report.oldest_overdue = period.start
            days = active_days(period, sub.start, sub.end)
            charges.add(sub, template, "fee", (period.start, period.end), (days, period.days))
            through = period.end
        if through != sub.charged_through:
            report.subscriptions += 1
            cursors.append({"b_id": sub.id, "b_through": through})
    new = charges.insert(session, now)
    report.rows += new
    report.skipped += charges.rows - new
    if cursors:
        _move_cursors(session, cursors)
    outcome = pay_new_set(session, states, now)
    clear_new(session)
    report.unpaid += outcome.unpaid
    report.suspended += outcome.suspended


def _template(
    shared: dict[tuple[int, str], list[LevelPrice]],
    path: str,
    service: CatalogService,
    prices: dict[int, dict[int, ServicePrice]],
) -> tuple[tuple[int, str], list[LevelPrice]]:
    """level_prices, worked out once per (service, parent) of a batch: every level but
    the subscriber's own (level 0, whose account each due row names) depends only on
    the accounts above it."""
    key = (service.id, path.rstrip("/").rsplit("/", 1)[0])
    lines = shared.get(key)
    if lines is None:
        lines = shared[key] = level_prices(path, service, prices.get(service.id, {}))
    return key, lines


def _move_cursors(session: Session, cursors: list[dict[str, Any]]) -> None:
    # Only forward: a run that computed from an older cursor never moves it back.
    if session.get_bind().dialect.name == "postgresql":
        bulk.update_from_values(
            session,
            "UPDATE subscriptions AS s SET charged_through = v.through FROM (VALUES %s)"
            " AS v(id, through) WHERE s.id = v.id AND s.charged_through < v.through"
            " RETURNING s.id",
            [(c["b_id"], c["b_through"]) for c in cursors],
            "(%s, %s::date)",
        )
        return
    session.execute(
        update(SUBSCRIPTIONS)
        .where(
            SUBSCRIPTIONS.c.id == bindparam("b_id"),
            SUBSCRIPTIONS.c.charged_through < bindparam("b_through"),
        )
        .values(charged_through=bindparam("b_through")),
        cursors,
    )


def _due_periods(service: CatalogService, sub: Any, through: date, today: date) -> list[Period]:
    out: list[Period] = []
    day = through
    while day <= today and (sub.end is None or day < sub.end):
        period = period_containing(service.period, sub.start, sub.billing_day, day)
        out.append(period)
        day = period.end
    return out


def _services(session: Session, ids: set[int]) -> dict[int, CatalogService]:
    return {
        s.id: s for s in session.scalars(select(CatalogService).where(CatalogService.id.in_(ids)))
    }


def _prices(session: Session, ids: set[int]) -> dict[int, dict[int, ServicePrice]]:
    out: dict[int, dict[int, ServicePrice]] = {}
    for p in session.scalars(select(ServicePrice).where(ServicePrice.service_id.in_(ids))):
        out.setdefault(p.service_id, {})[p.seller_id] = p
    return out
