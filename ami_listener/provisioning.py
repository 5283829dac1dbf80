"""The debounced automatic reload: the listener tells Asterisk when provisioning changed.

Why here: the listener is the one long-lived process with an AMI connection; the SOAP
workers are many, short-lived per request, and would each need a connection (and would
reload once per change: ten accounts blocked in a row would be ten reloads).

How: every `poll_interval` s the watcher reads the provisioning change counter
(services/provisioning/pjsip_conf.py `fingerprint`), which database triggers bump with
every change of a row the views are made of (db/provisioning_triggers.py): one row read
per poll, however many accounts. Nothing has to remember to signal a change, and a
change made straight in the database counts too. Once the fingerprint has changed and
then stayed the same for `debounce` s (or changed for `max_delay` s without settling),
it rewrites the pjsip.conf include if one is configured (SIPTAR_PJSIP_INCLUDE) and
sends one `Reload` of res_pjsip.so. A failed reload (not connected, refused) is tried
again at the next poll.

With PostgreSQL realtime and no sorcery cache Asterisk needs no reload at all; turn it
on (SIPTAR_RELOAD_DEBOUNCE) when a cache or an include is used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from services.provisioning.asterisk import RELOAD
from services.provisioning.pjsip_conf import fingerprint, render, write_atomically

logger = logging.getLogger(__name__)


class ProvisioningWatcher:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        debounce: float = 2.0,
        include: Path | None = None,
        poll_interval: float = 5.0,
        max_delay: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.debounce = debounce
        self.include = include
        self.poll_interval = poll_interval
        self.max_delay = max_delay
        self.timeout = timeout
        self.applied: str | None = None  # the fingerprint Asterisk has
        self._seen: str | None = None  # the last one read
        self._seen_at = 0.0  # since when it is unchanged (time.monotonic())
        self._first_change = 0.0
        self.reloads = 0  # accepted by Asterisk

    async def run(self, listener: Any) -> None:
        """Until cancelled; never raises (errors are logged, and retried)."""
        if self.include is None:
            # Asterisk read the realtime rows itself: nothing to catch up on at start.
            self.applied = await asyncio.to_thread(self._fingerprint)
        while True:
            try:
                await self.check(listener)
            except Exception:
                logger.exception("provisioning: unexpected error; going on")
            await asyncio.sleep(self.poll_interval)

    async def check(self, listener: Any) -> None:
        current = await asyncio.to_thread(self._fingerprint)
        now = time.monotonic()
        if current != self._seen:
            if self._seen == self.applied or self._seen is None:
                self._first_change = now
            self._seen, self._seen_at = current, now
        if current == self.applied:
            return
        settled = now - self._seen_at >= self.debounce
        overdue = now - self._first_change >= self.max_delay
        if (settled or overdue) and listener.connected.is_set():
            await self._apply(listener, current)

    async def _apply(self, listener: Any, current: str) -> None:
        if self.include is not None:
            await asyncio.to_thread(self._write_include)
        try:
            reply = await listener.send_action(RELOAD, timeout=self.timeout)
        except Exception as exc:
            logger.error("provisioning: Reload failed (%s); will retry", exc or type(exc))
            return
        first = reply[0] if isinstance(reply, list) and reply else reply
        answer = first.get("Response", "") if hasattr(first, "get") else ""
        if str(answer).lower() != "success":
            message = first.get("Message", "") if hasattr(first, "get") else ""
            logger.error("provisioning: Asterisk refused the Reload: %s; will retry", message)
            return
        self.applied = current
        self.reloads += 1
        logger.info("provisioning changed: res_pjsip.so reloaded")

    def _fingerprint(self) -> str:
        with self.session_factory() as session:
            return fingerprint(session)

    def _write_include(self) -> None:
        assert self.include is not None
        with self.session_factory() as session:
            write_atomically(self.include, render(session))
