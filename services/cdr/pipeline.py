"""Several batches of CDRs in a row, each one's writes while the next is read and rated
(PostgreSQL): the AMI listener's backlog.

One batch alone is a chain: its reads, its Python (rating, rows, COPY text), its writes,
its COMMIT; while the database works, the writer's Python waits, and while it rates,
the database waits (in bench_ami about half of a batch's time each). Here the second
stage of batch k (services/cdr/batches.stages: its writes and its COMMIT, on a
connection of its own, in a thread of its own) runs while batch k+1's first stage (its
reads and its rating, on another connection) runs in the caller's thread: psycopg2
releases the GIL while it waits for the server.

What batch k+1 reads before k commits is read as if k had committed (`Written`): k's
CDRs are duplicates to it and k's reservations are not its channels'. The rest of what
k writes (balances, `reserved`, ledger rows, bundle counters) k+1's first stage does not
read; its second stage, which does, starts only after k committed, and reads under its
own locks as one batch alone does. Every guarantee of one batch alone holds, because
whenever the picture could differ the batch is redone alone:

- k+1's first stage may only read (its connection refuses anything else while k is
  open: `_read_only`): a statement that would write or lock (a bundled call's counters,
  locked in the first stage) stops it; it is rolled back and done again once k
  committed. A reader takes no row lock, so neither transaction ever waits for the
  other: no lock cycle through the caller's thread.
- k not stored whole in its one transaction (a record refused, redone one by one): k+1's
  picture assumed k's records stored, so it is rolled back and done again.
- a lost connection: raised as by `store_batch`, after every batch before it was
  reported; the batch and those after it are not (the caller keeps them).

Commits come in the batches' order, and `done` is called in that order, each batch
once. SQLite (one writer at a time) stays one batch after the other. Spyne-free.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.session import UnitOfWork
from services.cdr.batches import Written, one_by_one, stages, store_batch
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome

logger = logging.getLogger(__name__)

Done = Callable[[Sequence[CdrRecord], list[Outcome | None]], None]
# Statements a first stage may send while another batch's transaction is open: reads.
_READS = ("SELECT", "WITH")
_LOCKS = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
# A WITH may hold a data-modifying CTE: refused too (a false alarm only costs the overlap).
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b")


class NotReadOnly(Exception):
    """A first stage beside an open batch tried to write or lock (refused, unsent)."""


@dataclass
class _Batch:
    records: Sequence[CdrRecord]
    uow: UnitOfWork
    steps: Generator[Written, None, list[Outcome]]
    written: Written
    finished: Future[tuple[list[Outcome | None], bool]] | None = None

    def close(self) -> None:
        """Its transaction rolled back unless committed, its session closed."""
        self.steps.close()
        self.uow.__exit__(None, None, None)


def store_batches(
    factory: Callable[[], Session], batches: Sequence[Sequence[CdrRecord]], done: Done
) -> None:
    """`store_batch` of each batch, in order, with `done(records, outcomes)` after each
    commit; on PostgreSQL each batch's writes overlap the next one's reads and rating."""
    if len(batches) < 2 or _dialect(factory) != "postgresql":
        for records in batches:
            done(records, _alone(factory, records))
        return
    with ThreadPoolExecutor(1, thread_name_prefix="cdr-writes") as writes:
        running: _Batch | None = None  # its second stage submitted
        read: _Batch | None = None  # its first stage done, beside `running`
        overlap = True  # until a first stage beside another refuses a write (bundles)
        try:
            for records in batches:
                if running is not None and not overlap:
                    _report(running, done)
                    running = None
                beside = running.written if running is not None else None
                read, refused = _first_stage(factory, records, beside)
                overlap = overlap and not refused
                if running is not None:
                    whole = _report(running, done)
                    running = None
                    if read is not None and not whole:
                        read.close()  # it read the batch before as stored whole
                        read = None
                if read is None:  # again, alone: nothing else of ours is open now
                    read, _ = _first_stage(factory, records, None)
                if read is None:
                    done(records, _alone(factory, records))
                    continue
                read.finished = writes.submit(_second_stage, read)
                running, read = read, None
            if running is not None:
                _report(running, done)
                running = None
        finally:  # after an error: the thread's batch waited for, ours rolled back
            if running is not None and running.finished is not None:
                try:
                    running.finished.result()
                except Exception:
                    logger.debug("batch of %d CDRs not stored", len(running.records))
            if read is not None:
                read.close()


def _report(batch: _Batch, done: Done) -> bool:
    """Wait for the batch's second stage; `done` with its outcomes. Whether it was
    stored whole in its one transaction. A lost connection is raised."""
    assert batch.finished is not None
    outcomes, whole = batch.finished.result()
    done(batch.records, outcomes)
    return whole


def _first_stage(
    factory: Callable[[], Session], records: Sequence[CdrRecord], beside: Written | None
) -> tuple[_Batch | None, bool]:
    """The batch read and rated in a transaction of its own, left open; None if that
    failed (a refused write beside an open batch, a bad record, a lost connection):
    the batch is then done again alone, which reports what is wrong. And whether a
    statement was refused (the batches of this kind are then done one after the
    other: each would be read twice)."""
    uow = UnitOfWork(factory).__enter__()
    steps = stages(uow, records, beside or Written())
    refused: list[str] = []
    try:
        with _read_only(uow.session, beside is not None, refused):
            written = next(steps)
        if refused:  # caught on the way, perhaps: the stage's picture is not to be trusted
            raise NotReadOnly(refused[0])
    except Exception as exc:
        logger.debug("batch of %d CDRs to be done alone: %s", len(records), exc)
        steps.close()
        uow.__exit__(None, None, None)
        return None, bool(refused)
    return _Batch(records, uow, steps, written), False


def _second_stage(batch: _Batch) -> tuple[list[Outcome | None], bool]:
    """The batch's writes and its COMMIT (in the writes' thread); as `store_batch`, a
    failure redoes it record by record. Returns the outcomes and whether the batch was
    stored whole in its one transaction."""
    uow = batch.uow
    try:
        try:
            next(batch.steps)
        except StopIteration as end:
            outcomes: list[Outcome | None] = list(end.value)
            uow.commit()
            return outcomes, True
        raise AssertionError("a batch has two stages")
    except OperationalError:
        uow.rollback()
        raise
    except Exception as exc:
        uow.rollback()
        logger.info("batch of %d CDRs redone one by one: %s", len(batch.records), exc)
        return one_by_one(uow, batch.records), False
    finally:
        batch.close()


def _alone(factory: Callable[[], Session], records: Sequence[CdrRecord]) -> list[Outcome | None]:
    with UnitOfWork(factory) as uow:
        return store_batch(uow, records)


@contextmanager
def _read_only(session: Session, only_reads: bool, refused: list[str]) -> Iterator[None]:
    """While another batch's transaction is open: this session's statements must only
    read (and draw ids from a sequence); anything else is refused before it is sent,
    and kept in `refused`."""
    if not only_reads:
        yield
        return
    conn = session.connection()

    def check(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = statement.lstrip().upper()
        if (
            not text.startswith(_READS)
            or any(lock in text for lock in _LOCKS)
            or _WRITES.search(text)
        ):
            refused.append(statement.split("\n", 1)[0][:80])
            raise NotReadOnly(refused[-1])

    event.listen(conn, "before_cursor_execute", check)
    try:
        yield
    finally:
        event.remove(conn, "before_cursor_execute", check)


def _dialect(factory: Callable[[], Session]) -> str:
    with factory() as session:
        return session.get_bind().dialect.name
