"""The web callback's AMI events (services/callback/events.py): OriginateResponse and
Hangup of a callback's channel (UniqueID `siptar-cb-...`).

Handlers run on the event loop and never touch the database (panoramisk drops a
connection whose handler blocks or raises): each callback event starts a task that does
its transaction in a thread. Every other event costs a string comparison.

The transactions run one at a time, in the order the events arrived: what a Hangup does
depends on whether the OriginateResponse before it was applied ("connected": leg A is
charged; "calling": the callback fails). Run side by side, their threads would race for
the database, and SQLite's busy wait is not first come, first served: when a live-call
pass or the CDR writer held the lock, the Hangup could take it first, fail a callback
whose leg A had answered and leave that leg unbilled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from db.session import UnitOfWork
from services.callback import events

logger = logging.getLogger(__name__)

Handler = Callable[[Any], object]


class CallbackEvents:
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory
        self.pending: set[asyncio.Task[None]] = set()  # kept: a task nobody holds may vanish
        self._last: asyncio.Task[None] | None = None  # the latest event's; the next waits for it

    def handlers(self, others: Mapping[str, Handler]) -> dict[str, Handler]:
        """`others` (the live-call monitor's) with ours added; both run for a Hangup."""
        merged = dict(others)
        theirs = merged.get("Hangup")

        def on_hangup(m: Mapping[str, Any]) -> None:
            if theirs is not None:
                theirs(m)
            self._on(m, self._hangup)

        merged["Hangup"] = on_hangup
        merged["OriginateResponse"] = lambda m: self._on(m, self._originated)
        return merged

    async def settle(self) -> None:
        """Wait for the callback events received so far to be written (tests, shutdown)."""
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)

    def _on(self, m: Mapping[str, Any], work: Callable[[Mapping[str, Any]], None]) -> None:
        if not str(m.get("Uniqueid") or "").startswith(events.PREFIX):
            return
        message = dict(m)
        previous = self._last
        task = asyncio.get_running_loop().create_task(self._run(work, message, previous))
        self._last = task
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _run(
        self,
        work: Callable[[Mapping[str, Any]], None],
        m: Mapping[str, Any],
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None and not previous.done():
            # Only its end: it logs its own failure, and a failed event holds up nothing.
            await asyncio.wait([previous])
        try:
            await asyncio.to_thread(work, m)
        except Exception:
            logger.exception("callback event of %s: not applied", m.get("Uniqueid"))

    def _originated(self, m: Mapping[str, Any]) -> None:
        success = str(m.get("Response") or "").lower() == "success"
        with UnitOfWork(self._factory) as uow:
            uid = str(m["Uniqueid"])
            events.originate_result(uow, uid, success, str(m.get("Reason") or ""), _at(m))

    def _hangup(self, m: Mapping[str, Any]) -> None:
        with UnitOfWork(self._factory) as uow:
            events.hung_up(uow, str(m["Uniqueid"]), str(m.get("Channel") or ""), _at(m))


def _at(m: Mapping[str, Any]) -> datetime:
    # timestampevents = yes gives when it happened (seconds are what calls are billed in)
    stamp = str(m.get("Timestamp") or "").split(".")[0]
    return datetime.fromtimestamp(int(stamp), UTC) if stamp.isdigit() else datetime.now(UTC)
