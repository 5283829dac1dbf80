"""One page of a list operation, as every list answers it: the rows of the page and the
`total` of rows matching. Spyne-free (the edge's half is `services.common.wire.answer_page`).

Why one helper: the count and the page must use the very same conditions, or `total`
and the pages disagree; written once, they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


def newest_first(
    session: Session,
    entity: type[T],
    id_column: InstrumentedAttribute[Any],
    where: Sequence[ColumnElement[bool]],
    offset: int,
    limit: int,
) -> tuple[list[T], int]:
    """Rows of `entity` matching `where`, highest id first, and how many match."""
    total = session.execute(select(func.count()).select_from(entity).where(*where)).scalar_one()
    rows = session.scalars(
        select(entity).where(*where).order_by(id_column.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)
