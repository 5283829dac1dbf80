"""The database end of the listener: batches of CDRs -> `store_batch`, never losing one.

`CdrWriter.write(records)` is called by the listener's one writer task (in a thread), one
batch at a time. It never raises:

- the database answers: each batch of `batch_size` is stored, rated and committed in one
  transaction (`services.cdr.batches.store_batch`, idempotent on (uniqueid, sequence)
  and on the AMI/CSV fingerprint); on PostgreSQL, with more than one batch waiting,
  each one's writes run while the next is rated (services/cdr/pipeline.py);
- the database is down (a lost connection, a locked file): the records wait in memory,
  and past `memory_limit` records they are spilled to the on-disk spool (ami_listener/
  spool.py, fsync'd). Every `retry_delay` s (the listener calls `write([])` when idle)
  the writer tries again: spool files first, oldest first, each removed once committed,
  then the records in memory;
- the database refuses one record (a bug, a bad value): that record goes to a
  `failed-*.jsonl` spool file, the rest of its batch is committed.

`close()` spills whatever is still in memory, so a stopped listener loses nothing; a
restarted one replays the spool before anything else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from ami_listener.spool import Spool
from services.cdr.commands import CdrRecord
from services.cdr.pipeline import store_batches
from services.cdr.usecases import Outcome

logger = logging.getLogger(__name__)


def _database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class CdrWriter:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        spool: Spool,
        *,
        batch_size: int = 200,
        memory_limit: int = 5000,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
    ) -> None:
        self._factory = session_factory
        self.spool = spool
        self.batch_size = batch_size
        self.memory_limit = memory_limit
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._delay = retry_delay
        self._next_try = 0.0
        self.pending: list[CdrRecord] = []
        self.down = False
        # Counters, for logs and tests.
        self.outcomes: dict[str, int] = {o.value: 0 for o in Outcome}
        self.failed = 0
        self.spilled = 0
        self.replayed_files = 0

    @property
    def idle(self) -> bool:
        """Nothing waits: no record in memory, no spool file."""
        return not self.pending and not self.spool.pending_files()

    def write(self, records: Sequence[CdrRecord]) -> None:
        self.pending.extend(records)
        if self.down and time.monotonic() < self._next_try:
            self._spill_past_limit()
            return
        try:
            self._replay_spool()
            # Batches of `batch_size`, each one's writes beside the next one's rating on
            # PostgreSQL (services/cdr/pipeline.py); each leaves `pending` once committed.
            store_batches(self._factory, self._batches(self.pending), self._stored)
        except Exception as exc:
            if not _database_unavailable(exc):
                logger.exception("CDR writer: unexpected error; will retry")
            self._went_down(exc)
            self._spill_past_limit()
            return
        if self.down:
            logger.warning("database reachable again: CDR backlog written")
        self.down, self._delay = False, self._retry_delay

    def close(self) -> None:
        """Try once more, then spill what is still in memory to the spool."""
        self._next_try = 0.0
        self.write([])
        if self.pending:
            self.spilled += len(self.pending)
            self.spool.spill(self.pending)
            self.pending.clear()

    def _replay_spool(self) -> None:
        for path in self.spool.pending_files():
            records = self.spool.read(path)
            store_batches(self._factory, self._batches(records), self._counted)
            self.spool.remove(path)
            self.replayed_files += 1
            logger.info("replayed %d CDR(s) from %s", len(records), path)

    def _batches(self, records: list[CdrRecord]) -> list[list[CdrRecord]]:
        size = self.batch_size
        return [records[i : i + size] for i in range(0, len(records), size)]

    def _stored(self, records: Sequence[CdrRecord], outcomes: list[Outcome | None]) -> None:
        """A batch of `pending` (its first records) committed."""
        self._counted(records, outcomes)
        del self.pending[: len(records)]

    def _counted(self, records: Sequence[CdrRecord], outcomes: list[Outcome | None]) -> None:
        refused = [r for r, o in zip(records, outcomes, strict=True) if o is None]
        for outcome in outcomes:
            if outcome is not None:
                self.outcomes[outcome.value] += 1
        if refused:
            self.failed += len(refused)
            path = self.spool.spill(refused, prefix="failed")
            logger.error("%d CDR(s) refused by the database, kept in %s", len(refused), path)

    def _went_down(self, exc: BaseException) -> None:
        if not self.down:
            logger.error(
                "database unavailable (%s): CDRs wait in memory (up to %d) and then in %s",
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                self.memory_limit,
                self.spool.dir,
            )
        else:
            self._delay = min(self._delay * 2, self._max_retry_delay)
        self.down = True
        self._next_try = time.monotonic() + self._delay

    def _spill_past_limit(self) -> None:
        if len(self.pending) > self.memory_limit:
            self.spilled += len(self.pending)
            self.spool.spill(self.pending)
            self.pending.clear()
