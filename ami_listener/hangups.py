"""Hanging up a call over AMI until it is gone, for ami_listener/live.py.

`Action: Hangup` can fail: the AMI connection is down (the listener reconnects), Asterisk
does not answer in time, or it answers `Response: Error`. A call whose credit ran out
must not keep running because of that, so a hang-up stays pending and is sent again,
with backoff (`retry_delay` doubling up to `max_retry_delay`), until:

- Asterisk answers Success (logged at WARNING with the reason, kept in `sent`);
- Asterisk answers `No such channel`: the channel is gone already;
- the channel's Hangup event arrives, or CoreShowChannels no longer lists it
  (`LiveCallMonitor` calls `gone()`).

Everything runs in the monitor's task: nothing raises into panoramisk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hangup:
    uniqueid: str
    channel: str
    reason: str


@dataclass
class _Pending:
    hangup: Hangup
    delay: float
    next_try: float = 0.0  # time.monotonic()
    attempts: int = 0


class HangupSender:
    def __init__(
        self, *, timeout: float = 5.0, retry_delay: float = 1.0, max_retry_delay: float = 30.0
    ) -> None:
        self.timeout = timeout
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.pending: dict[str, _Pending] = {}  # uniqueid -> hang-up not done yet
        self.sent: list[Hangup] = []  # hang-ups Asterisk accepted
        self.failures = 0  # attempts that failed (for logs and tests)

    def add(self, hangup: Hangup) -> None:
        self.pending.setdefault(hangup.uniqueid, _Pending(hangup, self.retry_delay))

    def gone(self, uniqueid: str, why: str) -> None:
        """The channel ended: stop trying to hang it up."""
        pending = self.pending.pop(uniqueid, None)
        if pending is not None and pending.attempts:
            logger.info(
                "%s (%s) is gone (%s) after %d failed Hangup(s)",
                pending.hangup.channel,
                uniqueid,
                why,
                pending.attempts,
            )

    async def send_due(self, listener: Any) -> None:
        now = time.monotonic()
        due = [p for p in self.pending.values() if p.next_try <= now]
        if due:
            await asyncio.gather(*(self._send(listener, p) for p in due))

    async def _send(self, listener: Any, pending: _Pending) -> None:
        hangup = pending.hangup
        pending.attempts += 1
        action = {"Action": "Hangup", "Channel": hangup.channel, "Cause": "16"}
        try:
            reply = await listener.send_action(action, timeout=self.timeout)
        except TimeoutError:
            why = f"no answer within {self.timeout} s"
        except Exception as exc:  # not connected, connection lost meanwhile
            why = f"{type(exc).__name__}: {exc}"
        else:
            if isinstance(reply, list):
                reply = reply[0] if reply else None
            response = str(_get(reply, "Response"))
            message = str(_get(reply, "Message"))
            if response.lower() == "success":
                self._done(hangup)
                return
            if "no such channel" in message.lower():
                self.gone(hangup.uniqueid, "Asterisk: No such channel")
                return
            why = f"Asterisk answered {response or '?'}: {message}"
        if self.pending.get(hangup.uniqueid) is not pending:
            return  # its Hangup event came while we waited
        self.failures += 1
        pending.next_try = time.monotonic() + pending.delay
        logger.error(
            "Hangup of %s (%s) failed, attempt %d: %s; retrying in %.1f s",
            hangup.channel,
            hangup.uniqueid,
            pending.attempts,
            why,
            pending.delay,
        )
        pending.delay = min(pending.delay * 2, self.max_retry_delay)

    def _done(self, hangup: Hangup) -> None:
        self.pending.pop(hangup.uniqueid, None)
        self.sent.append(hangup)
        logger.warning("hung up %s: %s", hangup.channel, hangup.reason)


def _get(reply: Any, key: str) -> object:
    return reply.get(key, "") if hasattr(reply, "get") else ""
