"""The listener's Cdr records between the AMI stream and the database: the parsed
records wait in one queue (ami_listener/listener.py puts them in, inside the loop that
reads the stream), and one task hands them on in arrival order, the handler in a worker
thread, so a slow database never holds up the read (Asterisk drops a reader slower than
`writetimeout`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from services.cdr.commands import CdrRecord

logger = logging.getLogger("ami_listener.listener")  # the listener's log, as before the split


class CdrQueue:
    """Records waiting for `handle_cdr`, one at a time, or with `handle_batch` for lists
    of up to `batch_size` records (what arrived within `batch_wait` s), and an empty list
    every `idle_tick` s without records (so a writer with a backlog can retry). With
    more records already waiting, a list takes them too, up to `backlog` records.

    A handler that raises is logged at ERROR (with the record's UniqueID) and its records
    counted in `failed`; the queue goes on. `stored`: records whose handler returned."""

    def __init__(
        self,
        handle_cdr: Callable[[CdrRecord], object],
        *,
        handle_batch: Callable[[list[CdrRecord]], object] | None = None,
        batch_size: int = 200,
        batch_wait: float = 0.05,
        idle_tick: float = 1.0,
        backlog: int | None = None,
    ) -> None:
        self._handle_cdr = handle_cdr
        self._handle_batch = handle_batch
        self._batch_size = batch_size
        self._backlog = batch_size if backlog is None else max(backlog, batch_size)
        self._batch_wait = batch_wait
        self._idle_tick = idle_tick
        self.stored = self.failed = 0
        self._queue: asyncio.Queue[CdrRecord] = asyncio.Queue()
        self._in_flight: CdrRecord | None = None  # in handle_cdr right now

    def put(self, record: CdrRecord) -> None:
        self._queue.put_nowait(record)

    async def join(self) -> None:
        """Wait until every record put so far went through its handler."""
        await self._queue.join()

    async def run(self) -> None:
        """The one task that empties the queue (until cancelled)."""
        if self._handle_batch is not None:
            await self._batch_loop(self._handle_batch)
            return
        while True:
            record = await self._queue.get()
            try:
                await self._store(record)
            finally:
                self._queue.task_done()

    async def _batch_loop(self, handle_batch: Callable[[list[CdrRecord]], object]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with asyncio.timeout(self._idle_tick):
                    first = await self._queue.get()
            except TimeoutError:
                await self._store_batch(handle_batch, [])
                continue
            batch = [first]
            deadline = loop.time() + self._batch_wait
            while len(batch) < self._batch_size:
                if self._queue.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        async with asyncio.timeout(remaining):
                            batch.append(await self._queue.get())
                    except TimeoutError:
                        break
                else:
                    batch.append(self._queue.get_nowait())
            # A backlog (the writer slower than the stream for a while): what else waits
            # now goes too, up to `backlog` records, so a writer can overlap one batch's
            # writes with the next one's rating (services/cdr/pipeline.py).
            while len(batch) < self._backlog and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._store_batch(handle_batch, batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _store_batch(
        self, handle_batch: Callable[[list[CdrRecord]], object], batch: list[CdrRecord]
    ) -> None:
        self._in_flight = batch[0] if batch else None
        try:
            await asyncio.to_thread(handle_batch, batch)
        except Exception:
            self.failed += len(batch)
            logger.exception("%d Cdr records NOT stored: handle_batch failed", len(batch))
        else:
            self.stored += len(batch)
        finally:
            self._in_flight = None

    async def _store(self, record: CdrRecord) -> None:
        self._in_flight = record
        try:
            await asyncio.to_thread(self._handle_cdr, record)
        except Exception:
            self.failed += 1
            logger.exception(
                "Cdr UniqueID=%s Sequence=%s NOT stored: handle_cdr failed",
                record.uniqueid,
                record.sequence,
            )
        else:
            self.stored += 1
        finally:
            self._in_flight = None

    async def drain(self, timeout: float) -> None:
        """Wait up to `timeout` s for the queue to empty; then log what is left, and drop it."""
        try:
            async with asyncio.timeout(timeout):
                await self._queue.join()
        except TimeoutError:
            lost = []
            while not self._queue.empty():
                lost.append(self._queue.get_nowait().uniqueid)
                self._queue.task_done()
            logger.error(
                "stopping with %d Cdr records not stored after %s s (UniqueIDs: %s); "
                "UniqueID=%s was still in handle_cdr",
                len(lost),
                timeout,
                ", ".join(lost),
                getattr(self._in_flight, "uniqueid", None),
            )
