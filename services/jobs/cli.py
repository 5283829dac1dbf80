"""`siptar worker`: the loop, or one pass (`--once`, optionally for a given `--now`)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from db.session import make_engine, make_session_factory, masked
from services.jobs.registry import Registry, default_registry
from services.jobs.worker import Worker
from settings import Settings

logger = logging.getLogger(__name__)


def _parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_worker(
    settings: Settings, *, once: bool = False, now: str | None = None, only: list[str] | None = None
) -> int:
    """Returns the exit status: 1 if a job of a `--once` pass failed."""
    registry = default_registry()
    if only:
        unknown = set(only) - set(registry.names())
        if unknown:
            logger.error("unknown job(s) %s; known: %s", sorted(unknown), registry.names())
            return 2
        registry = Registry(registry.get(name) for name in only)
    engine = make_engine(settings.database_url)
    logger.info("worker on %s", masked(settings.database_url))
    try:
        if once:
            fixed = _parse_now(now) if now else None
            worker = Worker(
                make_session_factory(engine), registry, settings, clock=lambda: fixed or _wall()
            )
            results = [worker.run(job) for job in registry]
            for r in results:
                print(f"{r.job}: {r.status} {r.summary}".rstrip())
            return 1 if any(r.status == "error" for r in results) else 0
        worker = Worker(make_session_factory(engine), registry, settings)
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            logger.info("signal %d: stopping after the current job", signum)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        worker.loop(stop, tick=float(settings.worker_tick_seconds))
        return 0
    finally:
        engine.dispose()


def _wall() -> datetime:
    return datetime.now(UTC)
