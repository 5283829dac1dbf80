"""Building the compact plan of a 1,000,000-prefix sheet from PostgreSQL (issue 16), in
one process, on one throwaway server: where the time goes, and the two ways of building.

- `streamed` (the way before): one query of every row's columns (yield_per), each row's
  values made a key in Python, a rule number per row, CompactIndex.from_rules packing
  the (prefix, number) pairs one by one. Its parts: the query and row fetch alone (every
  row read, nothing done), then the rest.
- `packed` (db/rates.compile_stored now): the database numbers the distinct rules
  (dense_rank), joins each prefix's numbers and sorts by length and key; COPY ... TO
  STDOUT sends the lines; CompactIndex.from_sorted packs them in C-level passes. Its
  parts: the rules statement, the COPY statement, taking the text apart and packing.

Variants run interleaved (streamed, packed, streamed, packed) so a load that moves
hits both; the figures are the medians and the ratio. The machine may be shared.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select, type_coerce
from sqlalchemy.types import NullType

import db.rate_bulk as rate_bulk
from bench.bench_rate_change import NUMBER, SHEET, prepare
from bench.decks import COUNTRY_CODES
from db import rates
from db.session import UnitOfWork, make_engine, make_session_factory
from rating import NoRateForDestination, RatingPlan
from rating.compile import compile_rules
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

ROUNDS = int(os.environ.get("SIPTAR_BENCH_ROUNDS", "2"))
AT = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def streamed(uow: UnitOfWork) -> tuple[RatingPlan, dict[str, float]]:
    session = uow.session
    started = time.perf_counter()
    columns = [c for c in rate_bulk.RATES.columns if c.name not in ("id", "sheet_id")]
    raw = [type_coerce(c, NullType()).label(c.name) for c in columns]
    result = session.execute(
        select(*raw)
        .where(rate_bulk.RATES.c.sheet_id == SHEET)
        .order_by(rate_bulk.RATES.c.prefix, rate_bulk.RATES.c.id)
        .execution_options(yield_per=rate_bulk.CHUNK)
    )
    for _ in result:
        pass
    fetch = time.perf_counter() - started
    started = time.perf_counter()
    sheet = session.get(rates.schema.RateSheet, SHEET)
    assert sheet is not None
    bare = replace(rates.sheet_from_rows(sheet, ()), rules=rates.sheet_rules(session, SHEET))
    pairs, rules = rate_bulk.stored_rules(session, SHEET)
    plan = compile_rules(bare, pairs, rules)
    return plan, {"query and fetch alone": fetch, "whole build": time.perf_counter() - started}


def packed(uow: UnitOfWork) -> tuple[RatingPlan, dict[str, float]]:
    parts: dict[str, float] = {}
    original_copied = rate_bulk._copied
    marks = [time.perf_counter()]

    def copied(conn: object, sql: str) -> object:
        marks.append(time.perf_counter())  # the rules statement is done
        out = original_copied(conn, sql)  # type: ignore[arg-type]
        marks.append(time.perf_counter())
        return out

    rate_bulk._copied = copied  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        plan = rates.compile_stored(uow.session, SHEET)
        whole = time.perf_counter() - started
    finally:
        rate_bulk._copied = original_copied
    parts["rules statement"] = marks[1] - marks[0]
    parts["COPY statement"] = marks[2] - marks[1]
    parts["taking apart, packing, checks"] = whole - (marks[2] - marks[0])
    parts["whole build"] = whole
    return plan, parts


def run() -> None:
    print(f"   load: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench_build"')
        url = pg_db_url(server.url, "bench_build")
        started = time.perf_counter()
        prepare(url)
        print(f"   deck loaded in {time.perf_counter() - started:.0f} s")
        engine = make_engine(url)
        factory = make_session_factory(engine)
        figures: dict[str, list[dict[str, float]]] = {"streamed": [], "packed": []}
        builders: dict[str, Callable[[UnitOfWork], tuple[RatingPlan, dict[str, float]]]] = {
            "streamed": streamed,
            "packed": packed,
        }
        plans: dict[str, RatingPlan] = {}
        for _ in range(ROUNDS):
            for name, build in builders.items():
                with UnitOfWork(factory) as uow:
                    plan, parts = build(uow)
                plans[name] = plan
                figures[name].append(parts)
                print(f"   {name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
                print(f"      load: {os.getloadavg()[0]:.1f}")
        a, b = plans["streamed"], plans["packed"]
        assert len(a.sheet.rates) == len(b.sheet.rates)
        rng = random.Random(7)
        numbers = [NUMBER] + [
            rng.choice(COUNTRY_CODES) + str(rng.randrange(10**9)).zfill(9) for _ in range(5000)
        ]
        same = sum(_answer(a, n) == _answer(b, n) for n in numbers)
        print(f"   the two plans answer alike for {same:,} of {len(numbers):,} numbers")
        for name, rows in figures.items():
            medians = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            print(f"   {name} medians: " + ", ".join(f"{k} {v:.2f} s" for k, v in medians.items()))
        ratio = statistics.median(r["whole build"] for r in figures["packed"]) / statistics.median(
            r["whole build"] for r in figures["streamed"]
        )
        print(f"   packed / streamed, whole build: {ratio:.2f} ({len(b.sheet.rates):,} rates)")
        engine.dispose()
    finally:
        server.stop()


def _answer(plan: RatingPlan, number: str) -> object:
    try:
        return plan.find_rate(number, AT)
    except NoRateForDestination:
        return None
