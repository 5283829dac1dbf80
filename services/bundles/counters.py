"""The counters of an account's bundles: one row per (account bundle, period), made
full the first time the period is looked at, by an INSERT that a unique key makes
exactly-once. Spyne-free.

Locks: a writer that changes counters (Authorize's hold, the CDR's consumption, expiry's
release) does it AFTER the account chain's rows are locked (or without them, by one
conditional UPDATE per counter), and always in counter id order, so no two writers
wait on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from db.bundle_schema import AccountBundle, Bundle, BundleCounter
from rating.periods import Period, period_containing
from services.recurring.keyed import insert_new

COUNTERS = cast(Table, BundleCounter.__table__)


@dataclass(frozen=True)
class Counter:
    """One bundle of an account in one period, as it stands."""

    counter_id: int
    account_bundle_id: int
    bundle_id: int
    name: str
    unit: str
    per_second: bool
    prefixes: tuple[str, ...] | None  # None: every destination
    inbound: bool
    period_start: date
    period_end: date
    quantity: int
    consumed: int
    reserved: int

    @property
    def remaining(self) -> int:
        return max(0, self.quantity - self.consumed - self.reserved)


def period_of(bundle: Bundle, held: AccountBundle, day: date) -> Period:
    return period_containing(bundle.period, held.start, held.billing_day, day)


def _carried(session: Session, bundle: Bundle, held: AccountBundle, period: Period) -> int:
    """What a carry-over bundle brings from the period before: its unused units, at most
    one period's quantity (so a counter never grows without end)."""
    if not bundle.carry_over:
        return 0
    before = session.execute(
        select(BundleCounter.quantity, BundleCounter.consumed, BundleCounter.reserved).where(
            BundleCounter.account_bundle_id == held.id,
            BundleCounter.period_end == period.start,
        )
    ).first()
    if before is None:
        return 0
    return max(0, min(bundle.quantity, before[0] - before[1] - before[2]))


def counters(
    session: Session, account_ids: list[int], day: date, lock: bool = False
) -> dict[int, list[Counter]]:
    """The bundles in force on `day` of each account, in their consumption order, with
    this period's counter (made full if it is the period's first look). `lock`: the
    counter rows are locked (FOR UPDATE, in id order) for the caller's transaction."""
    held = session.execute(
        select(AccountBundle, Bundle)
        .join(Bundle, Bundle.id == AccountBundle.bundle_id)
        .where(
            AccountBundle.account_id.in_(account_ids),
            AccountBundle.start <= day,
            (AccountBundle.end.is_(None)) | (AccountBundle.end > day),
        )
        .order_by(AccountBundle.account_id, AccountBundle.position, AccountBundle.id)
    ).all()
    if not held:
        return {}
    periods = {h.id: period_of(b, h, day) for h, b in held}
    keys = [(h.id, periods[h.id].start) for h, _ in held]
    existing = _load(session, keys, lock)
    missing = [(h, b) for h, b in held if (h.id, periods[h.id].start) not in existing]
    if missing:
        insert_new(
            session,
            COUNTERS,
            [
                {
                    "account_bundle_id": h.id,
                    "period_start": periods[h.id].start,
                    "period_end": periods[h.id].end,
                    "quantity": b.quantity + _carried(session, b, h, periods[h.id]),
                    "consumed": 0,
                    "reserved": 0,
                }
                for h, b in missing
            ],
            ["id"],
        )
        existing = _load(session, keys, lock)
    out: dict[int, list[Counter]] = {}
    for h, b in held:
        row = existing[(h.id, periods[h.id].start)]
        out.setdefault(h.account_id, []).append(
            Counter(
                counter_id=row.id,
                account_bundle_id=h.id,
                bundle_id=b.id,
                name=b.name,
                unit=b.unit,
                per_second=b.per_second,
                prefixes=tuple(p for p in b.prefixes.split(",") if p) or None,
                inbound=b.inbound,
                period_start=row.period_start,
                period_end=row.period_end,
                quantity=row.quantity,
                consumed=row.consumed,
                reserved=row.reserved,
            )
        )
    return out


def _load(
    session: Session, keys: list[tuple[int, date]], lock: bool
) -> dict[tuple[int, date], BundleCounter]:
    ids = {k[0] for k in keys}
    query = (
        select(BundleCounter)
        .where(BundleCounter.account_bundle_id.in_(ids))
        .order_by(BundleCounter.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    wanted = set(keys)
    query = query.where(BundleCounter.period_start.in_({k[1] for k in keys}))
    rows = session.scalars(query).all()
    return {
        (r.account_bundle_id, r.period_start): r
        for r in rows
        if (r.account_bundle_id, r.period_start) in wanted
    }
