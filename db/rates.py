"""Rate sheets between the database and the pure engine: loading, compiling (a big
sheet through rate_bulk.packed_index), paging; the per-process cache of compiled plans
is db/plan_cache.py (`plans`, re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from db import schema
from db.config_schema import SheetRuleVersion
from db.paging import page_scalars
from db.rate_bulk import packed_index, stored_rates, stored_rules
from rating import RatingPlan, compile_sheet
from rating.checks import rate_problem
from rating.compact_index import with_prefix
from rating.compile import COMPACT_ABOVE, compile_index, compile_rules
from rating.errors import NotFound
from rating.model import (
    ON_NET,
    BlockMode,
    Holidays,
    Rate,
    RateSheet,
    Rounding,
    SheetRule,
)
from rating.tariffs import format_tiers, format_weekdays, parse_tiers, parse_weekdays

logger = logging.getLogger(__name__)
PACKED_TRIES = 3


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
        # The name only: the engine gets the days through load_sheet (stored_rates).
        holidays=Holidays(row.holidays) if row.holidays else None,
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
        "holidays": rate.holidays.name if rate.holidays is not None else "",
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
    return replace(sheet_from_rows(sheet, ()), rates=rates, rules=sheet_rules(session, sheet_id))


def compile_stored(session: Session, sheet_id: int) -> RatingPlan:
    """The plan of the sheet as stored now: a big sheet (COMPACT_ABOVE rates or more)
    streamed into a compact plan, with no Rate object per row; a small one as
    compile_sheet(load_sheet(...)) builds it."""
    sheet = session.get(schema.RateSheet, sheet_id)
    if sheet is None:
        raise NotFound(f"rate sheet {sheet_id} not found")
    count = session.execute(
        select(func.count()).where(schema.Rate.sheet_id == sheet_id)
    ).scalar_one()
    if count < COMPACT_ABOVE:
        return compile_sheet(load_sheet(session, sheet_id))
    bare = replace(sheet_from_rows(sheet, ()), rules=sheet_rules(session, sheet_id))
    for _ in range(PACKED_TRIES):
        plan = _packed_plan(session, sheet_id, bare)
        if plan is not None:
            return plan
    # Always changing, or a rate the checks refuse: one streamed statement, which also
    # names the first bad rate as compile_sheet would.
    pairs, rules = stored_rules(session, sheet_id)
    return compile_rules(bare, pairs, rules)


def _packed_plan(session: Session, sheet_id: int, bare: RateSheet) -> RatingPlan | None:
    """The plan of rate_bulk.packed_index (a million prefixes in seconds), or None when
    the sheet changed between its statements (they must see the same rows: every writer
    of rates bumps the version in its transaction) or has a rate the engine refuses."""
    version = _version(session, sheet_id)
    index, catch_all = packed_index(session, sheet_id, ZoneInfo("UTC"))
    if _version(session, sheet_id) != version or version is None:
        return None
    bad = [p for p in index.other_prefixes() if not (p.isascii() and p.isdigit()) and p != ON_NET]
    if bad or any(rate_problem(with_prefix(rule, "0")) for rule in index.rules()):
        return None
    return compile_index(replace(bare, version=version), index, catch_all)


def _version(session: Session, sheet_id: int) -> int | None:
    return session.execute(
        select(schema.RateSheet.version).where(schema.RateSheet.id == sheet_id)
    ).scalar_one_or_none()


def sheet_rules(session: Session, sheet_id: int) -> tuple[SheetRule, ...]:
    """The sheet's rule versions, oldest first (empty for most sheets)."""
    rows = session.scalars(
        select(SheetRuleVersion)
        .where(SheetRuleVersion.sheet_id == sheet_id)
        .order_by(SheetRuleVersion.effective_from)
    )
    return tuple(
        SheetRule(
            effective_from=row.effective_from,
            decimals=row.decimals,
            rounding=Rounding(row.rounding),
            block_mode=BlockMode(row.block_mode),
            timezone=row.timezone,
        )
        for row in rows
    )


def bump_version(session: Session, sheet_id: int) -> None:
    session.execute(
        update(schema.RateSheet)
        .where(schema.RateSheet.id == sheet_id)
        .values(version=schema.RateSheet.version + 1)
    )


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


# The cache lives in db/plan_cache.py (it builds through this module's compile_stored,
# looked up at each build so a test can hold one); imported last, as it imports this.
from db.plan_cache import PlanCache as PlanCache  # noqa: E402
from db.plan_cache import plans as plans  # noqa: E402
