"""A big sheet's rates read from the database per dialled number, while its plan is
being built (db/rates.PlanCache): a caller that arrives before the first plan of a
worker is ready is answered in milliseconds instead of waiting seconds for it.

For a number, the rows of the sheet whose prefix is a prefix of it (one indexed
`prefix IN (...)` statement, ~20 values) make a small PrefixIndex, which answers that
number exactly as the whole sheet's index would: a look-up, its band edges and the rate
of a prefix only ever consider the prefixes of the number. The small indexes of the last
numbers asked are kept, so the several look-ups of one call cost one statement.
"""

from __future__ import annotations

import threading
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db.rate_bulk import RATES, rate_maker
from rating.model import CATCH_ALL, Rate
from rating.prefix_index import PrefixIndex

__all__ = ["DatabaseIndex"]

KEPT = 1024  # numbers whose small index is kept


class DatabaseIndex:
    """The PrefixLookup of one sheet from the database; safe to share between threads
    (each look-up runs on a connection of its own from the engine's pool)."""

    __slots__ = ("_engine", "_kept", "_lock", "_sheet_id", "_zone")

    def __init__(self, engine: Engine, sheet_id: int, zone: ZoneInfo) -> None:
        self._engine = engine
        self._sheet_id = sheet_id
        self._zone = zone
        self._kept: dict[str, PrefixIndex] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)  # the numbers asked so far (a plan's repr)

    def find(self, number: str, at: datetime) -> Rate | None:
        return self._index(number).find(number, at)

    def find_for_prefix(self, prefix: str, at: datetime) -> Rate | None:
        return self._index(prefix).find_for_prefix(prefix, at)

    def band_edges(self, number: str, prefix: str) -> tuple[time, ...]:
        return self._index(number).band_edges(number, prefix)

    def _index(self, number: str) -> PrefixIndex:
        with self._lock:
            index = self._kept.get(number)
        if index is not None:
            return index
        wanted = sorted({number[:n] for n in range(1, len(number) + 1)} - {CATCH_ALL})
        with Session(self._engine) as session:
            rate = rate_maker(session)
            rows = session.execute(
                select(*RATES.columns)
                .where(RATES.c.sheet_id == self._sheet_id, RATES.c.prefix.in_(wanted))
                .order_by(RATES.c.prefix, RATES.c.id)
            )
            index = PrefixIndex([rate(row, row.prefix) for row in rows], self._zone)
        with self._lock:
            if len(self._kept) >= KEPT:
                self._kept.clear()
            self._kept[number] = index
        return index
