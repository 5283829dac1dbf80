"""INSERT ... ON CONFLICT DO NOTHING RETURNING, on PostgreSQL and SQLite alike: the
rows that a unique key already holds are skipped, and only the new ones come back.
This is what makes a recurring charge exactly-once: two runs (or two workers) that
compute the same charge collide on its key; PostgreSQL makes the second wait for the
first to commit, then skips it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, MetaData, Result, Row, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db import bulk

# From this many rows on, PostgreSQL gets them by COPY into a temporary table.
COPY_FROM = 200


def insert_new(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
) -> list[Row[Any]]:
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(rows) >= COPY_FROM:
        return _copy_then_insert(session, table, rows, returning)
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table).on_conflict_do_nothing().returning(*(table.c[n] for n in returning))
    # An executemany: SQLAlchemy's "insertmanyvalues" sends it as multi-row INSERTs of
    # a few hundred rows each from ONE compiled statement (a 2,000-row VALUES clause
    # built per call cost seconds to compile) and gathers what each RETURNING gave.
    return list(session.execute(stmt, list(rows)).all())


def _copy_then_insert(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
) -> list[Row[Any]]:
    """PostgreSQL, many rows: COPY them into a temporary table (dropped at commit), then
    one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING. COPY costs a fraction of
    what the same rows cost as INSERT parameters."""
    keys = list(rows[0].keys())
    name = f"tmp_new_{table.name}"
    cols = ", ".join(keys)
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DROP AS "
            f"SELECT {cols} FROM {table.name} WITH NO DATA"
        )
    )
    temp = Table(name, MetaData(), *(table.c[k]._copy() for k in keys))
    bulk.insert_rows(session, temp, rows)
    result = session.execute(
        text(
            f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {name} "
            f"ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}"
        )
    ).all()
    session.execute(text(f"TRUNCATE {name}"))
    return list(result)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (typed: `execute` is declared to return a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)
