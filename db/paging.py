"""One way to page a query: the rows of one page and the total of all pages.

Every list operation answers `total` with its page (README: offset, limit 1..1000,
default 100), so the count and the page come from the same SELECT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def page_rows(
    session: Session, query: Select[Any], offset: int, limit: int
) -> tuple[list[Any], int]:
    """The rows (tuples) of `query` from `offset`, at most `limit`, and how many rows
    the whole query has. `query` must be ordered, so pages do not overlap."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.execute(query.offset(offset).limit(limit)).all())
    return rows, int(total or 0)


def page_scalars(
    session: Session, query: Select[Any], offset: int, limit: int
) -> tuple[list[Any], int]:
    """`page_rows` for a query of one entity or column: the values themselves."""
    rows, total = page_rows(session, query, offset, limit)
    return [r[0] for r in rows], total
