"""The worker: runs each registered job when it is due, under its lease, and records
every run in `job_runs`.

Any number of workers may run on any number of hosts against one database: a job runs
in one of them at a time (the lease), and a run that overlaps another anyway (a lease
lost while a worker was frozen) is harmless, because every job is idempotent. A
heartbeat thread renews the lease while a job runs; a worker killed mid-run stops
renewing and its lease expires after `ttl`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import JobRun
from services.jobs import leases
from services.jobs.registry import Job, Registry
from settings import Settings

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunResult:
    job: str
    status: str  # ok, error, busy (another worker holds the lease), not-due
    summary: str = ""


class Worker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        registry: Registry,
        settings: Settings,
        *,
        clock: Clock = wall_clock,
        wall: Clock = wall_clock,
        ttl: timedelta | None = None,
        holder: str | None = None,
    ) -> None:
        self.factory = factory
        self.registry = registry
        self.settings = settings
        self.clock = clock  # the `now` jobs get (tests inject one)
        self.wall = wall  # leases and due times: real elapsed time between workers
        self.ttl = ttl or timedelta(seconds=settings.job_lease_seconds)
        self.holder = holder or holder_name()

    def run_due(self) -> list[RunResult]:
        """One pass: every job whose last successful run is older than its `every`."""
        return [self.run(job, only_if_due=True) for job in self.registry]

    def run(self, job: Job, *, only_if_due: bool = False, now: datetime | None = None) -> RunResult:
        if not leases.acquire(self.factory, job.name, self.holder, self.wall(), self.ttl):
            return RunResult(job.name, "busy")
        try:
            if only_if_due and not self._due(job):
                return RunResult(job.name, "not-due")
            return self._run_held(job, now or self.clock())
        finally:
            leases.release(self.factory, job.name, self.holder, self.wall())

    def _due(self, job: Job) -> bool:
        with self.factory() as session:
            last = session.scalar(
                select(JobRun.started_at)
                .where(JobRun.job == job.name, JobRun.status == "ok")
                .order_by(JobRun.started_at.desc())
                .limit(1)
            )
        return last is None or last <= self.wall() - job.every

    def _run_held(self, job: Job, now: datetime) -> RunResult:
        with self.factory() as session:
            record = JobRun(job=job.name, holder=self.holder, clock=now, started_at=self.wall())
            session.add(record)
            session.commit()
            run_id = record.id
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job.name, stop), daemon=True)
        beat.start()
        try:
            summary = job.run(self.factory, now, self.settings)
            status, error = "ok", ""
        except Exception as e:  # recorded and logged; the worker goes on with the next job
            logger.exception("job %s failed", job.name)
            summary, status, error = "", "error", f"{type(e).__name__}: {e}"[:2000]
        finally:
            stop.set()
            beat.join()
        with self.factory() as session:
            done = session.get(JobRun, run_id)
            assert done is not None
            done.ended_at, done.status, done.summary, done.error = (
                self.wall(),
                status,
                summary,
                error,
            )
            session.commit()
        logger.info("job %s (now=%s): %s %s", job.name, now.isoformat(), status, summary or error)
        return RunResult(job.name, status, summary or error)

    def _heartbeat(self, name: str, stop: threading.Event) -> None:
        while not stop.wait(self.ttl.total_seconds() / 3):
            if not leases.renew(self.factory, name, self.holder, self.wall(), self.ttl):
                logger.warning("job %s: lease lost; the run goes on (it is idempotent)", name)
                return

    def loop(self, stop: threading.Event, tick: float = 5.0) -> None:
        """Run due jobs until `stop` is set (SIGTERM/SIGINT in `siptar worker`)."""
        logger.info("worker %s: jobs %s", self.holder, ", ".join(self.registry.names()))
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:  # the database is down: try again next tick
                logger.exception("worker pass failed")
            stop.wait(tick)
