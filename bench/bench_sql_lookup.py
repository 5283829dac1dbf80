"""Longest-prefix match: the SQL query of A2Billing and ASTPP against the in-process
index, on the same 1,000,000 prefixes and the same dialled numbers.

The SQL side runs on a throwaway PostgreSQL over TCP on this machine, the way a billing
server asks its database: one round trip per lookup, with every prefix of the number in
an IN list, an index on the prefix, the longest match first:

    SELECT prefix, price FROM rates WHERE prefix IN (%s, ...)
    ORDER BY length(prefix) DESC LIMIT 1

The in-process side is RatingPlan.find_rate (rating/prefix_index.py) on the same sheet.
"""

from __future__ import annotations

import io
import random
import time

import psycopg2  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from bench.bench_prefix import AT, PREFIXES, SEED, make_numbers, make_prefixes, make_sheet
from rating import NoRateForDestination, RatingPlan, compile_sheet
from tests.pgserver import PostgresServer

SQL_LOOKUPS = 3_000
ROUNDS = 3
INDEX_LOOKUPS = 200_000
QUERY = "SELECT prefix, price FROM rates WHERE prefix IN %s ORDER BY length(prefix) DESC LIMIT 1"


def load(cursor: psycopg2.extensions.cursor, prefixes: list[str]) -> None:
    cursor.execute(
        "CREATE TABLE rates (id bigserial PRIMARY KEY,"
        " prefix varchar(32) NOT NULL, price numeric(18, 6) NOT NULL)"
    )
    prices = [f"0.{cents:04d}" for cents in range(1, 501)]
    text = "".join(f"{p}\t{prices[i % len(prices)]}\n" for i, p in enumerate(prefixes))
    cursor.copy_expert("COPY rates (prefix, price) FROM STDIN", io.StringIO(text))
    cursor.execute("CREATE INDEX ix_rates_prefix ON rates (prefix)")
    cursor.execute("ANALYZE rates")


def sql_pass(cursor: psycopg2.extensions.cursor, numbers: list[str]) -> tuple[float, int]:
    found = 0
    started = time.perf_counter()
    for number in numbers:
        cursor.execute(QUERY, (tuple(number[:n] for n in range(1, len(number) + 1)),))
        found += cursor.fetchone() is not None
    return len(numbers) / (time.perf_counter() - started), found


def index_pass(plan: RatingPlan, numbers: list[str]) -> float:
    find = plan.find_rate
    started = time.perf_counter()
    for number in numbers:
        try:  # noqa: SIM105 (contextlib.suppress costs a context manager per lookup)
            find(number, AT)
        except NoRateForDestination:
            pass
    return len(numbers) / (time.perf_counter() - started)


def run() -> None:
    rng = random.Random(SEED)
    prefixes = make_prefixes(rng, PREFIXES)
    numbers = make_numbers(rng, prefixes, INDEX_LOOKUPS)
    plan = compile_sheet(make_sheet(prefixes))
    server = PostgresServer().start()
    try:
        url = make_url(server.url)
        conn = psycopg2.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            started = time.perf_counter()
            load(cursor, prefixes)
            seconds = time.perf_counter() - started
            print(f"PostgreSQL: {len(prefixes):,} prefixes loaded and indexed in {seconds:.1f} s")
            sql_pass(cursor, numbers[-500:])  # warm the buffer cache and the plan
            index_pass(plan, numbers)
            # Interleaved rounds, best of each: a burst of load on a shared machine hits
            # both sides alike.
            sql_speed, index_speed, sql_found = 0.0, 0.0, 0
            for _ in range(ROUNDS):
                speed, sql_found = sql_pass(cursor, numbers[:SQL_LOOKUPS])
                sql_speed = max(sql_speed, speed)
                index_speed = max(index_speed, index_pass(plan, numbers))
        conn.close()
    finally:
        server.stop()
    index_found = sum(1 for n in numbers[:SQL_LOOKUPS] if _matches(plan, n))
    print(
        f"SQL (IN list + ORDER BY length DESC LIMIT 1): {sql_speed:,.0f} lookups/s "
        f"({SQL_LOOKUPS:,} numbers, {sql_found:,} matched)"
    )
    print(
        f"in-process index: {index_speed:,.0f} lookups/s ({INDEX_LOOKUPS:,} numbers; "
        f"of the first {SQL_LOOKUPS:,}, {index_found:,} matched)"
    )
    print(f"ratio: the index answers {index_speed / sql_speed:,.0f} x as many lookups/s")


def _matches(plan: RatingPlan, number: str) -> bool:
    try:
        plan.find_rate(number, AT)
    except NoRateForDestination:
        return False
    return True
