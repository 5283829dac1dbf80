"""Rate sheets between the database and the pure engine, with a per-process cache.

Compiling a sheet (building its prefix index) is done once per sheet version: every
change of a sheet bumps `rate_sheets.version`, and `PlanCache.plan()` checks that one
integer before reusing a compiled plan, so a rate change reaches every gunicorn worker
and the AMI listener on their next call, without a restart.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db import schema
from db.config_schema import SheetRuleVersion
from db.paging import page_scalars
from db.rate_bulk import packed_index, stored_rates, stored_rates_of, stored_rules
from db.rate_lookup import DatabaseIndex
from rating import RatingPlan, compile_sheet
from rating.checks import rate_problem
from rating.compact_index import with_prefix
from rating.engine import COMPACT_ABOVE, compile_index, compile_rules, plan_over
from rating.errors import NotFound
from rating.model import (
    CATCH_ALL,
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


class PlanCache:
    """Compiled plans by sheet id, valid while the sheet's version is unchanged.

    A big sheet (`background_above` rates or more) is never compiled inside a request:
    - when it changed, the plan of its previous version keeps answering every caller
      (CDR rating, re-rating, QuoteCall, Authorize, the slice extension) while the new
      one is compiled in a thread of its own, one per sheet at a time; the new plan
      answers from the first call after it is built;
    - when this process has no plan of it yet (a worker that just started: `warm`
      starts those builds at once), a caller waits at most `first_wait` seconds for the
      build, then is answered by a plan that reads the sheet's rates of its number from
      the database (db/rate_lookup.py), until the built plan is ready (PostgreSQL; on
      SQLite the first build stays in the request: see _first_off_request).
    A small sheet is compiled in the request (milliseconds), one build at a time."""

    background_above = 50_000
    first_wait = 0.5  # seconds; then the database answers (docs/rates.md)

    def __init__(self) -> None:
        # Keyed by database too: one process may serve several (the tests do), and the
        # same sheet id and version in two databases are two different sheets.
        self._plans: dict[tuple[str, int], RatingPlan] = {}
        self._lock = threading.Lock()
        # Called after each compile (services/common/gc_tuning.py freezes the new plan
        # out of the garbage collector's way in server processes).
        self.after_compile: Callable[[], None] | None = None
        self._building: dict[tuple[str, int], threading.Event] = {}
        self._first_builds: dict[tuple[str, int], threading.Lock] = {}
        # Weak: an engine disposed and dropped (the tests make many) leaves no entry.
        self._names: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()
        # The database-read plans of big sheets not built yet, by key and version.
        self._interim: dict[tuple[str, int], RatingPlan] = {}

    def plan(self, session: Session, sheet_id: int) -> RatingPlan:
        version = session.execute(
            select(schema.RateSheet.version).where(schema.RateSheet.id == sheet_id)
        ).scalar_one_or_none()
        if version is None:
            raise NotFound(f"rate sheet {sheet_id} not found")
        return self._current(session, sheet_id, version)

    def plans(self, session: Session, sheet_ids: Iterable[int]) -> dict[int, RatingPlan]:
        """Several sheets' plans, their versions read in one statement (Authorize needs
        every level's sheet). A sheet that does not exist is left out."""
        wanted = sorted(set(sheet_ids))
        if not wanted:
            return {}
        versions = session.execute(
            select(schema.RateSheet.id, schema.RateSheet.version).where(
                schema.RateSheet.id.in_(wanted)
            )
        ).all()
        return {int(i): self._current(session, int(i), int(v)) for i, v in versions}

    def at_versions(
        self, session: Session, versions: Iterable[tuple[int, int]]
    ) -> dict[int, RatingPlan]:
        """`plans` for (sheet id, version) pairs the caller has read itself, in a
        statement it runs anyway (Authorize: with the lock of the account chain)."""
        return {i: self._current(session, i, v) for i, v in versions}

    def warm(self, engine: Engine) -> threading.Thread:
        """Start building the plans of every big sheet of the database in the
        background (a server worker calls this when it starts), so that its first
        callers find them built, or being built."""

        def run() -> None:
            if not self._first_off_request(engine):
                return
            try:
                with Session(engine) as session:
                    big = session.scalars(
                        select(schema.Rate.sheet_id)
                        .group_by(schema.Rate.sheet_id)
                        .having(func.count() >= self.background_above)
                        .order_by(schema.Rate.sheet_id)
                    ).all()
                for sheet_id in big:
                    done = self._build_in_background(engine, (self._database(engine), sheet_id))
                    done.wait()  # one at a time: two builds at once would double the peak
            except Exception:  # the first callers build or read the database instead
                logger.exception("starting the plans of big sheets failed")

        thread = threading.Thread(target=run, name="plans-warm", daemon=True)
        thread.start()
        return thread

    def _current(self, session: Session, sheet_id: int, version: int) -> RatingPlan:
        """The compiled plan of this version of the sheet, compiled now if needed."""
        engine = session.connection().engine
        key = (self._database(engine), sheet_id)
        with self._lock:
            cached = self._plans.get(key)
            running = self._building.get(key)
        if cached is not None and cached.sheet.version == version:
            return cached
        if cached is not None and len(cached.sheet.rates) >= self.background_above:
            self._build_in_background(engine, key)
            return cached
        if (
            running is None
            and cached is None
            and self._first_off_request(engine)
            and self._count(session, sheet_id) >= self.background_above
        ):
            running = self._build_in_background(engine, key)
        if running is not None:  # a big sheet's first build: wait a little, then read
            running.wait(self.first_wait)
            with self._lock:
                cached = self._plans.get(key)
            if cached is not None and cached.sheet.version >= version:
                return cached
            return self._from_database(session, engine, key, version)
        # One build per sheet at a time in this process: the callers that arrive while
        # it runs wait for its plan instead of each building one more.
        with self._lock:
            building = self._first_builds.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                cached = self._plans.get(key)
            if cached is not None and cached.sheet.version >= version:
                return cached
            plan = compile_stored(session, sheet_id)
            self._keep(key, plan)
            return plan

    @staticmethod
    def _first_off_request(engine: Engine) -> bool:
        """Whether first builds run off the request: not on SQLite, where every
        transaction holds the write lock (BEGIN IMMEDIATE), so a build or a read on
        another connection would wait for the request that waits for it."""
        return engine.dialect.name != "sqlite"

    def _count(self, session: Session, sheet_id: int) -> int:
        return session.execute(
            select(func.count()).where(schema.Rate.sheet_id == sheet_id)
        ).scalar_one()

    def _from_database(
        self, session: Session, engine: Engine, key: tuple[str, int], version: int
    ) -> RatingPlan:
        """The interim plan of a big sheet with no plan built yet: its look-ups read the
        database (the rates of the number's prefixes), one plan per version."""
        with self._lock:
            interim = self._interim.get(key)
        if interim is not None and interim.sheet.version == version:
            return interim
        sheet = session.get(schema.RateSheet, key[1])
        if sheet is None:
            raise NotFound(f"rate sheet {key[1]} not found")
        bare = replace(
            sheet_from_rows(sheet, ()), version=version, rules=sheet_rules(session, key[1])
        )
        catch_all = stored_rates_of(session, key[1], CATCH_ALL)
        interim = plan_over(bare, lambda zone: DatabaseIndex(engine, key[1], zone), catch_all)
        with self._lock:
            self._interim[key] = interim
        return interim

    def _database(self, engine: Engine) -> str:
        """The engine's URL as text, the database part of a plan's key: rendered once per
        engine (rendering a URL cost more than the rest of a cached look-up)."""
        name = self._names.get(engine)
        if name is None:
            name = self._names[engine] = engine.url.render_as_string(hide_password=True)
        return name

    def _keep(self, key: tuple[str, int], plan: RatingPlan) -> None:
        with self._lock:
            current = self._plans.get(key)
            # A slower build of an older version never replaces a newer plan.
            if current is None or current.sheet.version <= plan.sheet.version:
                self._plans[key] = plan
            self._interim.pop(key, None)
        if self.after_compile is not None:
            self.after_compile()

    def _build_in_background(self, engine: Engine, key: tuple[str, int]) -> threading.Event:
        """Start the build of the sheet's plan (unless one runs); the event of the build
        running is set when it ends."""
        with self._lock:
            running = self._building.get(key)
            if running is not None:
                return running
            done = self._building[key] = threading.Event()

        def build() -> None:
            try:
                with Session(engine) as session:
                    plan = compile_stored(session, key[1])
                self._keep(key, plan)
                logger.info("rate sheet %d version %d compiled", key[1], plan.sheet.version)
            except Exception:  # the old plan keeps answering; the next use tries again
                logger.exception("compiling rate sheet %d failed", key[1])
            finally:
                with self._lock:
                    self._building.pop(key, None)
                done.set()

        threading.Thread(target=build, name=f"plan-{key[1]}", daemon=True).start()
        return done

    def building(self) -> bool:
        """Whether a background compile is running (tests, benchmarks)."""
        with self._lock:
            return bool(self._building)


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
