"""The per-process cache of compiled rate plans (db/rates.plans), and how a big sheet's
plan is built off the request path (docs/rates.md, "Big sheets").

Compiling a sheet is done once per sheet version: every change of a sheet bumps
`rate_sheets.version`, and `PlanCache.plan()` checks that one integer before reusing a
compiled plan, so a rate change reaches every gunicorn worker and the AMI listener on
their next call, without a restart.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import ModuleType

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db import schema
from db.rate_bulk import stored_rates_of
from db.rate_lookup import DatabaseIndex
from rating import RatingPlan
from rating.compile import plan_over
from rating.errors import NotFound
from rating.model import CATCH_ALL

__all__ = ["PlanCache", "plans"]

logger = logging.getLogger(__name__)


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
    # Seconds; then the database answers (docs/rates.md). A call's wait is this plus its
    # own answer, which a loaded machine can stretch to half a second: 0.5 s here let
    # start-up calls wait over the 1 s a call may wait; a sheet big enough to build in
    # the background takes seconds to build, so a longer wait seldom gets its plan.
    first_wait = 0.2

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
        # The bind, not session.connection(): that walks the session's transaction
        # state, six times per Authorize four levels down, for the same engine.
        engine = session.get_bind().engine
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
            plan = _rates().compile_stored(session, sheet_id)
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
            _rates().sheet_from_rows(sheet, ()),
            version=version,
            rules=_rates().sheet_rules(session, key[1]),
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
                    plan = _rates().compile_stored(session, key[1])
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


def _rates() -> ModuleType:
    """db/rates.py, which imports this module: looked up when used (a test replaces
    its compile_stored to hold a build)."""
    from db import rates

    return rates


# One cache per process: gunicorn workers and the AMI listener each have their own.
plans = PlanCache()
