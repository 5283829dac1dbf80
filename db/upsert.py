"""Insert a row unless its key is taken, on both databases, without an error.

Concurrent transactions that each create the same row (a counter, a profile) would
otherwise fail one another with a unique violation: with this, the second one waits
for the first, then inserts nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session


def insert_if_missing(session: Session, model: Any, values: dict[str, Any]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(model).values(values).on_conflict_do_nothing())
    else:
        session.execute(insert(model).values(values).prefix_with("OR IGNORE"))
