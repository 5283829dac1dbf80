"""The on-disk spool: CDRs that could not be written to the database yet.

Append-only files of JSON lines under SIPTAR_SPOOL_DIR, one file per spill. A file is
written to a temporary name, fsync'd, renamed into place and the directory fsync'd, so
a file either exists whole or not at all (a listener killed while spilling leaves only a
`.tmp` that is ignored). Files are replayed oldest first through the idempotent store
and removed only after their records were committed; replaying a file twice charges
nothing twice.

`failed-*.jsonl` files hold records the database refused (a bug or a bad value): the
listener never replays them on its own; once the cause is fixed, `siptar cdr
replay-failed` stores them again (ami_listener/replay.py).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from services.cdr.commands import CdrRecord

logger = logging.getLogger(__name__)

_TIMES = ("start", "answer", "end")
_counter = itertools.count()


def record_to_json(record: CdrRecord) -> str:
    data: dict[str, Any] = asdict(record)
    for name in _TIMES:
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    data["extra"] = dict(record.extra)
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def record_from_json(line: str) -> CdrRecord:
    data = json.loads(line)
    for name in _TIMES:
        value = data[name]
        data[name] = datetime.fromisoformat(value) if value is not None else None
    return CdrRecord(**data)


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def pending_files(self) -> list[Path]:
        """Spilled files waiting to be replayed, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("cdr-*.jsonl"))

    def failed_files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("failed-*.jsonl"))

    def spill(self, records: Iterable[CdrRecord], *, prefix: str = "cdr") -> Path | None:
        """Write `records` to a new spool file, durably; None if there were none."""
        lines = [record_to_json(r) + "\n" for r in records]
        if not lines:
            return None
        self.dir.mkdir(parents=True, exist_ok=True)
        # Sortable names: time in ns, then the pid and a counter for same-instant spills.
        name = f"{prefix}-{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.jsonl"
        path = self.dir / name
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._fsync_dir()
        logger.warning("spooled %d CDR(s) to %s", len(lines), path)
        return path

    def read(self, path: Path) -> list[CdrRecord]:
        with open(path, encoding="utf-8") as f:
            return [record_from_json(line) for line in f if line.strip()]

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
