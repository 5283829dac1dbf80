"""Rate sheets between the database and the pure engine, with a per-process cache.

Compiling a sheet (building its prefix index) is done once per sheet version: every
change of a sheet bumps `rate_sheets.version`, and `PlanCache.plan()` checks that one
integer before reusing a compiled plan, so a rate change reaches every gunicorn worker
and the AMI listener on their next call, without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from db import schema
from db.paging import page_scalars
from db.rate_bulk import stored_rates
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
    # Core rows, not ORM objects: a million-row sheet loads several times faster.
    rates = tuple(stored_rates(session, sheet_id))
    return replace(sheet_from_rows(sheet, ()), rates=rates)


def bump_version(session: Session, sheet_id: int) -> None:
    session.execute(
        update(schema.RateSheet)
        .where(schema.RateSheet.id == sheet_id)
        .values(version=schema.RateSheet.version + 1)
    )


class PlanCache:
    """Compiled plans by sheet id, valid while the sheet's version is unchanged."""

    def __init__(self) -> None:
        # Keyed by database too: one process may serve several (the tests do), and the
        # same sheet id and version in two databases are two different sheets.
        self._plans: dict[tuple[str, int], RatingPlan] = {}
        self._lock = threading.Lock()

    def plan(self, session: Session, sheet_id: int) -> RatingPlan:
        version = session.execute(
            select(schema.RateSheet.version).where(schema.RateSheet.id == sheet_id)
        ).scalar_one_or_none()
        if version is None:
            raise NotFound(f"rate sheet {sheet_id} not found")
        key = (session.connection().engine.url.render_as_string(hide_password=True), sheet_id)
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


def rate_page(
    session: Session, sheet_id: int, prefix: str, offset: int, limit: int
) -> tuple[list[schema.Rate], int]:
    """One page of a sheet's rates by prefix (only prefixes starting with `prefix`, if
    given), and how many there are in all."""
    where = [schema.Rate.sheet_id == sheet_id]
    if prefix:
        where.append(schema.Rate.prefix.startswith(prefix, autoescape=True))
    total = session.execute(select(func.count()).where(*where)).scalar_one()
    rows = session.scalars(
        select(schema.Rate)
        .where(*where)
        .order_by(schema.Rate.prefix, schema.Rate.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def sheets_with_rate_counts(
    session: Session, query: Select[Any], offset: int, limit: int
) -> tuple[list[tuple[schema.RateSheet, int]], int]:
    """A page of sheets (an ordered query of RateSheet), each with its number of
    rates, counted for that page's sheets only, and the total of sheets."""
    sheets, total = page_scalars(session, query, offset, limit)
    counts = dict(
        session.execute(
            select(schema.Rate.sheet_id, func.count())
            .where(schema.Rate.sheet_id.in_([s.id for s in sheets]))
            .group_by(schema.Rate.sheet_id)
        ).all()
    )
    return [(s, int(counts.get(s.id, 0))) for s in sheets], total
