"""`siptar cdr replay-failed`: send `failed-*.jsonl` spool files through the store again.

A `failed-*.jsonl` file holds CDRs the database refused (a bug, a bad value: see
ami_listener/writer.py); the listener never replays them on its own. Once the cause is
fixed, this replays every such file, oldest first, through the same idempotent path
(services.cdr.batches.store_batch):

- records that are stored now (rated, unrated) or were already stored (duplicate) are
  committed batch by batch;
- records still refused go to a NEW `failed-*.jsonl` file, written durably before the
  old file is removed;
- a file is removed only once all its records are committed or kept in the new file. A
  lost database stops the replay with the file in place: replaying it again charges
  nothing twice.

Only one replay runs at a time per spool directory (a lock file); the listener never
touches `failed-*` files, so it may keep running.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from ami_listener.spool import Spool
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome

logger = logging.getLogger(__name__)

LOCK_NAME = ".replay-failed.lock"


class ReplayBusy(RuntimeError):
    """Another `siptar cdr replay-failed` holds the spool directory's lock."""


@dataclass
class FileReport:
    path: Path
    records: int = 0
    rated: int = 0
    unrated: int = 0
    duplicate: int = 0
    refused: int = 0
    kept_in: Path | None = None  # the new failed file with the still-refused records
    error: str = ""  # the file could not be read: left in place

    def add(self, outcome: Outcome | None) -> None:
        if outcome is None:
            self.refused += 1
        elif outcome is Outcome.RATED:
            self.rated += 1
        elif outcome is Outcome.UNRATED:
            self.unrated += 1
        else:
            self.duplicate += 1


@dataclass
class ReplayReport:
    files: list[FileReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def ok(self) -> bool:
        return all(f.refused == 0 and not f.error for f in self.files)


def replay_failed(
    session_factory: Callable[[], Session], spool: Spool, batch_size: int = 200
) -> ReplayReport:
    """Replay every failed file of `spool`; raise ReplayBusy if another replay runs.

    A database error that is not one record's fault (OperationalError) propagates: the
    file being replayed stays; what was committed of it is recognised next time.
    """
    report = ReplayReport()
    with _lock(spool.dir):
        for path in spool.failed_files():
            report.files.append(_replay_file(session_factory, spool, path, batch_size))
    return report


def _replay_file(
    session_factory: Callable[[], Session], spool: Spool, path: Path, batch_size: int
) -> FileReport:
    result = FileReport(path)
    try:
        records = spool.read(path)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        logger.error("%s not replayed, left in place: %s", path, result.error)
        return result
    result.records = len(records)
    refused: list[CdrRecord] = []
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        with UnitOfWork(session_factory) as uow:
            outcomes = store_batch(uow, chunk)
        for record, outcome in zip(chunk, outcomes, strict=True):
            result.add(outcome)
            if outcome is None:
                refused.append(record)
    if refused:
        # Durable before the old file goes: a crash in between leaves both, and the
        # next replay finds the committed ones already stored.
        result.kept_in = spool.spill(refused, prefix="failed")
    spool.remove(path)
    logger.info(
        "replayed %s: %d records, %d still refused", path.name, result.records, result.refused
    )
    return result


@contextmanager
def _lock(directory: Path) -> Iterator[None]:
    if not directory.is_dir():
        yield
        return
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReplayBusy(f"another replay-failed is running on {directory}") from None
        yield
    finally:
        os.close(fd)
