"""Writing a call's reservations, every level's, in one INSERT.

The customer's row is the parent of its resellers' rows (`parent_id`), so its id must be
known before they are written: instead of one INSERT per level (each waiting for the
id of the first), the ids are taken first and every row is written at once, two
statements at any depth:

- PostgreSQL: `nextval` of the table's sequence, once per row, in one query;
- SQLite: every transaction is BEGIN IMMEDIATE (db/session.py), so no other writer can
  insert between our `max(id)` and our INSERT: the next ids are ours.

Spyne-free.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from db.schema import Reservation

RESERVATIONS = cast(Table, Reservation.__table__)
_NEXTVAL = text(
    "SELECT nextval(pg_get_serial_sequence('reservations', 'id')) "
    "FROM generate_series(1, :n) ORDER BY 1"
)


def new_ids(session: Session, count: int) -> list[int]:
    """`count` ids no other transaction will use for a reservation."""
    if session.get_bind().dialect.name == "postgresql":
        return [int(i) for i in session.execute(_NEXTVAL, {"n": count}).scalars()]
    last = session.execute(select(func.coalesce(func.max(Reservation.id), 0))).scalar_one()
    return list(range(int(last) + 1, int(last) + 1 + count))


def insert_reservations(session: Session, rows: list[dict[str, object]]) -> int:
    """Write `rows` (the customer's first, then each reseller's up the tree) as one call's
    reservations; returns the customer's row id."""
    ids = new_ids(session, len(rows))
    parent = ids[0]
    values = [
        {**row, "id": row_id, "parent_id": None if row_id == parent else parent}
        for row_id, row in zip(ids, rows, strict=True)
    ]
    session.execute(insert(RESERVATIONS), values)
    return parent
