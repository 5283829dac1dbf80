"""Rate decks in and out of the `rates` table in bulk, without the ORM.

A wholesale deck has a million rows: ORM objects cost ~200 µs a row to add and ~20 µs
to load. Here rows are written with COPY on PostgreSQL (db/bulk.copy_lines, inside the
session's own transaction) and with the driver's executemany on SQLite, and
read as Core rows. Values go through the columns' own bind processors (Money, UtcDateTime,
Time), remembered per distinct value since a deck repeats its prices, so what is stored
is exactly what the ORM would store.

A merge (an import without `replace`) is one set-based DELETE after the insert: an old
row goes when a new row has the same prefix, time band and valid_from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Table,
    delete,
    exists,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType, TypeDecorator

from db import schema
from db.bulk import bind_processor, copy_lines, copy_out, copy_text, identity
from db.holidays import load_holidays
from rating.compact_index import CompactIndex
from rating.formats import format_tiers, format_weekdays, parse_tiers, parse_weekdays
from rating.model import CATCH_ALL, Rate

__all__ = [
    "insert_rates",
    "last_rate_id",
    "packed_index",
    "rate_maker",
    "rate_rows",
    "remove_replaced",
    "stored_rates",
    "stored_rates_of",
    "stored_rules",
]

RATES = cast(Table, schema.Rate.__table__)
# Every column but the id, in the order the tuples below carry them.
COLUMNS = tuple(c.name for c in RATES.columns if c.name != "id")
CHUNK = 50_000
MEMO_LIMIT = 1 << 16
COPY_PIECE = 1 << 20  # characters of COPY text taken apart at a time
RULES_TABLE = "siptar_plan_rules"  # packed_index's temporary table (PostgreSQL)

Processor = Callable[[Any], Any]


def insert_rates(session: Session, sheet_id: int, rates: Iterable[Rate]) -> None:
    """Add `rates` (checked ones, as the parser gives) to the sheet, in the session's
    transaction."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        copy_lines(conn, "rates", COLUMNS, _copy_lines(conn, sheet_id, rates))
        return
    sql = f"INSERT INTO rates ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    rows = _stored_rows(conn, sheet_id, rates)
    while chunk := list(islice(rows, CHUNK)):
        conn.exec_driver_sql(sql, chunk)


def last_rate_id(session: Session, sheet_id: int) -> int | None:
    """The highest id of the sheet's rates: rows inserted later have higher ids."""
    return session.execute(
        select(func.max(RATES.c.id)).where(RATES.c.sheet_id == sheet_id)
    ).scalar_one_or_none()


def remove_replaced(session: Session, sheet_id: int, last_old_id: int) -> int:
    """Delete the sheet's rows up to `last_old_id` that a newer row of the sheet replaces
    (same prefix, weekdays, time_from, time_to, holidays and valid_from); returns how many.

    The caller holds the sheet's row lock (bump_version), so no other import of the
    sheet can slip rows in between."""
    new = RATES.alias("new")
    replaced = exists().where(
        new.c.sheet_id == sheet_id,
        new.c.id > last_old_id,
        new.c.prefix == RATES.c.prefix,
        new.c.weekdays == RATES.c.weekdays,
        new.c.time_from.is_not_distinct_from(RATES.c.time_from),
        new.c.time_to.is_not_distinct_from(RATES.c.time_to),
        new.c.holidays == RATES.c.holidays,
        new.c.valid_from.is_not_distinct_from(RATES.c.valid_from),
    )
    result = session.execute(
        delete(RATES).where(RATES.c.sheet_id == sheet_id, RATES.c.id <= last_old_id, replaced)
    )
    return cast(CursorResult[Any], result).rowcount


def rate_rows(session: Session, sheet_id: int) -> Iterator[Any]:
    """The sheet's rates as Core rows (attribute access like ORM rows), by prefix."""
    result = session.execute(
        select(*RATES.columns)
        .where(RATES.c.sheet_id == sheet_id)
        .order_by(RATES.c.prefix, RATES.c.id)
        .execution_options(yield_per=CHUNK)
    )
    yield from result


def stored_rates(session: Session, sheet_id: int) -> list[Rate]:
    """The sheet's rates, by prefix, holiday bands with their calendars' days."""
    rate = rate_maker(session)
    return [rate(row, row.prefix) for row in rate_rows(session, sheet_id)]


def stored_rules(session: Session, sheet_id: int) -> tuple[Iterator[tuple[str, int]], list[Rate]]:
    """The sheet's rates as (prefix, rule number) pairs, by prefix, and the list of its
    distinct rules (Rates without a prefix) that fills up while the pairs are read: a
    big sheet's plan (rating.compile.compile_rules) from one streamed query, with no Rate per
    row. Rows are told apart by their stored values, so a rule is made once."""
    rate = rate_maker(session)
    rules: list[Rate] = []
    dialect = session.connection().dialect
    columns = [c for c in RATES.columns if c.name not in ("id", "sheet_id", "prefix")]
    # The driver's values, unconverted: the key of a rule. Only a new rule's values go
    # through the columns' result processors (Money, Time...): most of the cost of a row.
    raw = [type_coerce(c, NullType()).label(c.name) for c in columns]
    procs = [_result_processor(dialect, c) for c in columns]
    names = [c.name for c in columns]

    def pairs() -> Iterator[tuple[str, int]]:
        numbers: dict[tuple[Any, ...], int] = {}
        result = session.execute(
            select(RATES.c.prefix, *raw)
            .where(RATES.c.sheet_id == sheet_id)
            .order_by(RATES.c.prefix, RATES.c.id)
            .execution_options(yield_per=CHUNK)
        )
        for row in result:
            values = tuple(row)
            key = values[1:]
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(rules)
                stored = SimpleNamespace(
                    **{n: f(v) for n, f, v in zip(names, procs, key, strict=True)}
                )
                rules.append(rate(stored, ""))
            yield values[0], number

    return pairs(), rules


def packed_index(
    session: Session, sheet_id: int, zone: ZoneInfo
) -> tuple[CompactIndex, list[Rate]]:
    """A big sheet's CompactIndex and its catch-all rates, the work split so that Python
    does almost nothing per row (bench/bench_plan_build.py measures each part):

    1. the distinct rules (GROUP BY the rule columns), numbered in the order of their
       values (row_number): on PostgreSQL into a temporary table, analysed, so the
       planner hashes the few rules and not the million rows; read back (a few
       thousand rows, through the columns' types);
    2. the rules joined to every row (a hash join on the columns that
       are never NULL, the others compared NULL-safe), sorted by the prefix's length,
       text and id: (prefix, rule number) rows, sent by COPY ... TO STDOUT on
       PostgreSQL;
    3. CompactIndex.from_sorted packs them in C-level passes.

    The statements see the same rows only if no writer commits in between: the caller
    checks that the sheet's version did not move (db/rates.compile_stored)."""
    conn = session.connection()
    rate = rate_maker(session)
    columns = [c for c in RATES.columns if c.name not in ("id", "sheet_id", "prefix")]
    names = ", ".join(c.name for c in columns)
    numbered = (
        f"SELECT {names}, row_number() OVER (ORDER BY {names}) - 1 AS n FROM (SELECT {names}"
        f" FROM rates WHERE sheet_id = {int(sheet_id)} AND prefix <> '{CATCH_ALL}'"
        f" GROUP BY {names}) AS g"
    )
    postgresql = conn.dialect.name == "postgresql"
    same = "IS NOT DISTINCT FROM" if postgresql else "IS"
    on = " AND ".join(
        f"r.{c.name} {same} u.{c.name}" if c.nullable else f"r.{c.name} = u.{c.name}"
        for c in columns
    )
    rows = (
        f"SELECT r.prefix, u.n FROM rates AS r JOIN {{rules}} AS u ON {on}"
        f" WHERE r.sheet_id = {int(sheet_id)} AND r.prefix <> '{CATCH_ALL}'"
        " ORDER BY length(r.prefix), r.prefix{collate}, r.id"
    )
    if postgresql:
        # JIT compiling costs seconds here and saves nothing; sorts stay in memory.
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {RULES_TABLE}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {RULES_TABLE} ON COMMIT DROP AS {numbered}")
        conn.exec_driver_sql(f"ANALYZE {RULES_TABLE}")
        table = Table(RULES_TABLE, MetaData(), *(Column(c.name, c.type) for c in columns))
        found = session.execute(select(*table.columns).order_by(text("n")))
        rules = [rate(row, "") for row in found]
        sql = rows.format(rules=RULES_TABLE, collate=' COLLATE "C"')
        chunks: Iterable[tuple[list[str], list[str]]] = _copied(conn, sql)
    else:
        # The same numbering: the distinct rules in the order of their values.
        found = session.execute(
            select(*columns)
            .where(RATES.c.sheet_id == sheet_id, RATES.c.prefix != CATCH_ALL)
            .group_by(*columns)
            .order_by(*columns)
        )
        rules = [rate(row, "") for row in found]
        sql = rows.format(rules=f"({numbered})", collate="")
        chunks = _fetched(conn.exec_driver_sql(sql))
    index = CompactIndex.from_sorted(chunks, rules, zone)
    if postgresql:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {RULES_TABLE}")
    return index, stored_rates_of(session, sheet_id, CATCH_ALL)


def stored_rates_of(session: Session, sheet_id: int, prefix: str) -> list[Rate]:
    """The sheet's rates of one prefix (the catch-all's), in sheet order."""
    rate = rate_maker(session)
    rows = session.execute(
        select(*RATES.columns)
        .where(RATES.c.sheet_id == sheet_id, RATES.c.prefix == prefix)
        .order_by(RATES.c.id)
    )
    return [rate(row, prefix) for row in rows]


def _copied(conn: Connection, sql: str) -> Iterator[tuple[list[str], list[str]]]:
    """The two text columns of `sql`'s rows, by COPY (run now), taken apart in pieces of
    about a megabyte as they are used: only one piece's strings live at a time."""
    return _pieces(copy_out(conn, sql))


def _pieces(data: bytes) -> Iterator[tuple[list[str], list[str]]]:
    start = 0
    while start < len(data):
        end = data.find(b"\n", start + COPY_PIECE)
        end = len(data) if end < 0 else end + 1
        # "prefix\tnumber\n" lines: one split gives prefix, number, prefix, number...
        parts = data[start : end - 1].decode().replace("\t", "\n").split("\n")
        yield parts[0::2], parts[1::2]
        start = end


def _fetched(result: Any) -> Iterator[tuple[list[str], list[str]]]:
    while rows := result.fetchmany(CHUNK):
        prefixes, values = zip(*rows, strict=True)
        yield list(prefixes), list(map(str, values))


def _result_processor(dialect: Dialect, column: Any) -> Processor:
    """What the ORM applies to the driver's value of `column`, or the identity."""
    kind = column.type
    try:
        return kind.dialect_impl(dialect).result_processor(dialect, None) or identity
    except TypeError:
        # psycopg2's Numeric asks for the column's type oid, only to say the driver gives
        # Decimals already: what is left is the decorator's own step (Money).
        if isinstance(kind, TypeDecorator):
            return lambda value: kind.process_result_value(value, dialect)
        return identity


def rate_maker(session: Session) -> Callable[[Any, str], Rate]:
    """(a rates row, a prefix) -> its Rate. A deck repeats its tiers and weekdays: each
    text is parsed once."""
    tiers = _Memo(lambda text: parse_tiers(text) if text else ())
    days = _Memo(lambda text: parse_weekdays(text) if text else None)
    calendars = _Memo(lambda name: load_holidays(session, name) if name else None)

    def rate(row: Any, prefix: str) -> Rate:
        return Rate(
            prefix=prefix,
            destination=row.destination,
            price=row.price,
            tiers=tiers[row.tiers],
            initial_increment=row.initial_increment,
            increment=row.increment,
            connect_fee=row.connect_fee,
            included_seconds=row.included_seconds,
            free_below=row.free_below,
            min_cost=row.min_cost,
            max_cost=row.max_cost,
            weekdays=days[row.weekdays],
            time_from=row.time_from,
            time_to=row.time_to,
            holidays=calendars[row.holidays],
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )

    return rate


def _stored_rows(
    conn: Connection, sheet_id: int, rates: Iterable[Rate]
) -> Iterator[tuple[Any, ...]]:
    """Each rate as the tuple of its stored values, in COLUMNS order."""
    names, fns = zip(*_encoders(conn, identity), strict=True)
    values = attrgetter(*names)
    sheet = bind_processor(conn, RATES, "sheet_id")(sheet_id)
    for rate in rates:
        yield (sheet, *map(_apply, fns, values(rate)))


def _copy_lines(conn: Connection, sheet_id: int, rates: Iterable[Rate]) -> Iterator[str]:
    """Each rate as a line of COPY text."""
    sheet = copy_text(sheet_id)
    names, fns = zip(*_encoders(conn, copy_text), strict=True)
    values = attrgetter(*names)
    for rate in rates:
        yield sheet + "\t" + "\t".join(map(_apply, fns, values(rate))) + "\n"


def _apply(fn: Processor, value: Any) -> Any:
    return fn(value)


def _encoders(conn: Connection, finish: Processor) -> list[tuple[str, Processor]]:
    """(Rate attribute, its stored value or COPY text) for every column but sheet_id:
    the column's bind processor then `finish`, remembered per value but for the
    prefix and the destination, which rarely repeat."""
    out: list[tuple[str, Processor]] = []
    for name in COLUMNS[1:]:
        proc = bind_processor(conn, RATES, name)
        if name == "tiers":
            proc = _then(lambda t: format_tiers(t) if t else "", proc)
        elif name == "weekdays":
            proc = _then(lambda d: format_weekdays(d) if d is not None else "", proc)
        elif name == "holidays":
            proc = _then(lambda h: h.name if h is not None else "", proc)
        whole = _then(proc, finish)
        out.append((name, whole if name in ("prefix", "destination") else _memo(whole)))
    return out


def _then(first: Processor, second: Processor) -> Processor:
    return lambda value: second(first(value))


class _Memo(dict[Any, Any]):
    """fn, remembered per value: `memo[value]` is a dict lookup but on the first time.
    Equal values give equal stored values (Decimal("0.1") and Decimal("0.10") are the
    same amount; aware datetimes equal in UTC are equal)."""

    def __init__(self, fn: Processor) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, value: Any) -> Any:
        out = self.fn(value)
        if len(self) < MEMO_LIMIT:
            self[value] = out
        return out


def _memo(fn: Processor) -> Processor:
    return _Memo(fn).__getitem__
