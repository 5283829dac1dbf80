"""INSERT ... ON CONFLICT DO NOTHING RETURNING, on PostgreSQL and SQLite alike: the
rows that a unique key already holds are skipped, and only the new ones come back.
This is what makes a recurring charge exactly-once: two runs (or two workers) that
compute the same charge collide on its key; PostgreSQL makes the second wait for the
first to commit, then skips it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_new(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
) -> list[Row[Any]]:
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table).on_conflict_do_nothing().returning(*(table.c[n] for n in returning))
    out: list[Row[Any]] = []
    # Multi-row VALUES in chunks (one statement each), well under the bind-parameter caps.
    width = max(1, 30_000 // max(1, len(rows[0])))
    for start in range(0, len(rows), width):
        out.extend(session.execute(stmt.values(list(rows[start : start + width]))).all())
    return out


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (typed: `execute` is declared to return a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)
