"""Rate sheets between the database and the pure engine, with a per-process cache.

Compiling a sheet (building its prefix index) is done once per sheet version: every
change of a sheet bumps `rate_sheets.version`, and `PlanCache.plan()` checks that one
integer before reusing a compiled plan, so a rate change reaches every gunicorn worker
and the AMI listener on their next call, without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db import schema
from rating import RatingPlan, compile_sheet
from rating.errors import NotFound
from rating.model import BlockMode, Rate, RateSheet, Rounding
from rating.tariffs import format_tiers, format_weekdays, parse_tiers, parse_weekdays


def rate_from_row(row: schema.Rate) -> Rate:
    return Rate(
        prefix=row.prefix,
        destination=row.destination,
        price=row.price,
        tiers=tuple(parse_tiers(row.tiers)) if row.tiers else (),
        initial_increment=row.initial_increment,
        increment=row.increment,
        connect_fee=row.connect_fee,
        included_seconds=row.included_seconds,
        free_below=row.free_below,
        min_cost=row.min_cost,
        max_cost=row.max_cost,
        weekdays=parse_weekdays(row.weekdays) if row.weekdays else None,
        time_from=row.time_from,
        time_to=row.time_to,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def row_values(rate: Rate) -> dict[str, object]:
    """Column values of a `rates` row for `rate` (for bulk inserts)."""
    return {
        "prefix": rate.prefix,
        "destination": rate.destination,
        "price": rate.price,
        "tiers": format_tiers(rate.tiers) if rate.tiers else "",
        "initial_increment": rate.initial_increment,
        "increment": rate.increment,
        "connect_fee": rate.connect_fee,
        "included_seconds": rate.included_seconds,
        "free_below": rate.free_below,
        "min_cost": rate.min_cost,
        "max_cost": rate.max_cost,
        "weekdays": format_weekdays(rate.weekdays) if rate.weekdays is not None else "",
        "time_from": rate.time_from,
        "time_to": rate.time_to,
        "valid_from": rate.valid_from,
        "valid_to": rate.valid_to,
    }


def sheet_from_rows(sheet: schema.RateSheet, rows: Iterable[schema.Rate]) -> RateSheet:
    return RateSheet(
        id=sheet.id,
        name=sheet.name,
        currency=sheet.currency,
        decimals=sheet.decimals,
        rounding=Rounding(sheet.rounding),
        block_mode=BlockMode(sheet.block_mode),
        timezone=sheet.timezone,
        version=sheet.version,
        rates=tuple(rate_from_row(r) for r in rows),
    )


def load_sheet(session: Session, sheet_id: int) -> RateSheet:
    sheet = session.get(schema.RateSheet, sheet_id)
    if sheet is None:
        raise NotFound(f"rate sheet {sheet_id} not found")
    rows = session.scalars(select(schema.Rate).where(schema.Rate.sheet_id == sheet_id))
    return sheet_from_rows(sheet, rows)


def bump_version(session: Session, sheet_id: int) -> None:
    session.execute(
        update(schema.RateSheet)
        .where(schema.RateSheet.id == sheet_id)
        .values(version=schema.RateSheet.version + 1)
    )


class PlanCache:
    """Compiled plans by sheet id, valid while the sheet's version is unchanged."""

    def __init__(self) -> None:
        # Keyed by database too: a process that works on several databases (the test
        # suite) may see the same sheet id and version with other rates in each.
        self._plans: dict[tuple[str, int], RatingPlan] = {}
        self._lock = threading.Lock()

    def plan(self, session: Session, sheet_id: int) -> RatingPlan:
        version = session.execute(
            select(schema.RateSheet.version).where(schema.RateSheet.id == sheet_id)
        ).scalar_one_or_none()
        if version is None:
            raise NotFound(f"rate sheet {sheet_id} not found")
        key = (str(session.get_bind().engine.url), sheet_id)
        with self._lock:
            cached = self._plans.get(key)
        if cached is not None and cached.sheet.version == version:
            return cached
        plan = compile_sheet(load_sheet(session, sheet_id))
        with self._lock:
            self._plans[key] = plan
        return plan


# One cache per process: gunicorn workers and the AMI listener each have their own.
plans = PlanCache()
