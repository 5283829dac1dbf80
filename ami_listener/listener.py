"""The AMI listener: Asterisk `Event: Cdr` -> CdrRecord -> `handle_cdr`, over panoramisk 1.4.

Wiring only; the translation is ami_listener/events.py, the queue and its one writer
task ami_listener/cdr_queue.py, panoramisk's Manager as driven here ami_listener/manager.py.

    AmiProtocol -> _on_cdr_fields (parse + enqueue, never raises)
        -> CdrQueue -> one writer task -> handle_cdr(record) in a thread

Why this shape (docs/stack.md, "panoramisk"): a handler that raises or blocks inside
panoramisk's dispatch costs the connection and the rest of that TCP read, and Asterisk drops
a reader that is slower than `writetimeout`. The single writer keeps arrival order.

What panoramisk 1.4 does not do, and this module adds:
- Login result: panoramisk retries a refused login silently forever. `start()` returns once
  Asterisk accepted the login and raises `AmiLoginError` when it refused it or when no login
  happened within `login_timeout` (nothing listening, wrong port, ...). `connected` is an
  asyncio.Event set while logged in. A refused login after a later reconnect is logged at
  ERROR.
- Watchdog: panoramisk sends Pings but never checks the replies; a half-open TCP connection
  would lose every CDR silently. Every `ping_interval` s we send a Ping and drop the
  connection (panoramisk then reconnects) if no reply comes within `ping_timeout` s.
- Stopping: after `Manager.close()` a reconnect already scheduled by panoramisk would still
  fire; `ListenerManager` ignores it.
- Decoding: 1.4 decodes each TCP read on its own and drops a multi-byte character split
  across two reads; ami_listener/wire.AmiProtocol decodes the stream incrementally.
- Cdr events: AmiProtocol reads their fields off the stream and hands them to
  `_on_cdr_fields` in the loop, no panoramisk Message nor task per CDR (wire.py says
  why); the "Cdr" handler registered with panoramisk is only a fallback.

Events sent while disconnected are lost (AMI has no replay): import Asterisk's Master.csv
to fill the gap.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Iterable, Mapping
from datetime import tzinfo
from typing import Any

from panoramisk import Manager

from ami_listener.cdr_queue import CdrQueue
from ami_listener.events import Fields, cdr_from_fields, cdr_from_message
from ami_listener.manager import ListenerManager
from ami_listener.signals import STOP_SIGNALS, stop_on_signals
from ami_listener.wire import AmiProtocol
from services.cdr.commands import CdrRecord

logger = logging.getLogger(__name__)


class AmiLoginError(ConnectionError):
    """The listener could not log in to the Asterisk Manager Interface."""


class CdrListener:
    """Receive Cdr events from one Asterisk and pass each record to `handle_cdr`.

    Batch mode (`siptar ami`): with `handle_batch`, the writer task passes lists of up to
    `batch_size` records (what arrived within `batch_wait` s) instead, or, when more are
    waiting already, up to `backlog_batches` times that (the writer overlaps one batch's
    writes with the next one's rating), and an empty list every `idle_tick` s without
    events (so a writer with a backlog can retry);
    `handlers` maps other AMI event names (live calls) to sync callables run in the
    loop, guarded so they never raise into panoramisk. `send_action` sends an action
    (Hangup, CoreShowChannels) over the connection; `logins` counts accepted logins
    (a live-call monitor reconciles after each).

    `handle_cdr` runs in a worker thread, one record at a time, in arrival order. If it
    raises, the record is logged at ERROR with its UniqueID, counted in `failed`, and the
    listener goes on. Counters: `received` (Cdr events), `rejected` (unparsable ones),
    `stored` (handle_cdr returned), `failed` (handle_cdr raised).
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        tz: tzinfo,
        handle_cdr: Callable[[CdrRecord], object],
        *,
        events: str = "system,cdr",
        login_timeout: float = 10.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        reconnect_delay: float = 2.0,
        drain_timeout: float = 10.0,
        handle_batch: Callable[[list[CdrRecord]], object] | None = None,
        batch_size: int = 200,
        batch_wait: float = 0.05,
        idle_tick: float = 1.0,
        backlog_batches: int = 10,
        handlers: Mapping[str, Callable[[Any], object]] | None = None,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self._tz = tz
        # Login's event mask: only what we use, so Asterisk does not push the CEL/call
        # event flood at us ("system" brings Shutdown, on which panoramisk reconnects).
        self._events = events
        self._login_timeout = login_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._reconnect_delay = reconnect_delay
        self._drain_timeout = drain_timeout
        # Batch mode (siptar ami): up to batch_size records or batch_wait s per call, and
        # handle_batch([]) every idle_tick s without events (a writer retrying its backlog).
        self._cdrs = CdrQueue(
            handle_cdr,
            handle_batch=handle_batch,
            batch_size=batch_size,
            batch_wait=batch_wait,
            idle_tick=idle_tick,
            backlog=batch_size * backlog_batches,
        )
        # Other AMI events (live calls): event name -> sync callable, run in the loop.
        self._handlers = dict(handlers or {})
        self.connected = asyncio.Event()
        self.received = self.rejected = 0
        self.logins = 0  # accepted logins: the first and every one after a reconnect
        self._manager: ListenerManager | None = None
        self._first_login: asyncio.Future[tuple[bool, str]] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def stored(self) -> int:
        """Cdr records handle_cdr (or handle_batch) returned for."""
        return self._cdrs.stored

    @property
    def failed(self) -> int:
        """Cdr records handle_cdr (or handle_batch) raised for."""
        return self._cdrs.failed

    async def start(self) -> None:
        """Connect and log in; raise AmiLoginError if Asterisk refuses or does not answer."""
        if self._manager is not None:
            raise RuntimeError("CdrListener already started")
        loop = asyncio.get_running_loop()
        self._first_login = loop.create_future()
        self._tasks = [asyncio.create_task(self._cdrs.run(), name="ami-cdr-writer")]
        self._manager = self._make_manager(loop)
        self._manager.connect()
        try:
            async with asyncio.timeout(self._login_timeout):
                ok, message = await self._first_login
        except TimeoutError:
            await self.stop()
            raise AmiLoginError(
                f"no AMI login at {self.host}:{self.port} within {self._login_timeout} s "
                "(is Asterisk up, and is this its manager port?)"
            ) from None
        if not ok:
            await self.stop()
            raise AmiLoginError(
                f"Asterisk at {self.host}:{self.port} refused the AMI login of "
                f"{self.username!r}: {message or 'no reason given'}"
            )
        self._tasks.append(asyncio.create_task(self._watchdog(), name="ami-watchdog"))

    async def stop(self) -> None:
        """Disconnect, then hand the queued records to handle_cdr (up to drain_timeout s)."""
        manager, self._manager = self._manager, None
        if manager is None:
            return
        manager.close()
        self.connected.clear()
        # Cdr handlers panoramisk already scheduled as tasks still enqueue their record.
        await asyncio.sleep(0)
        await self._cdrs.drain(self._drain_timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if manager.connect_task is not None:
            await asyncio.gather(manager.connect_task, return_exceptions=True)
        logger.info(
            "AMI listener stopped: %d Cdr received, %d stored, %d failed, %d rejected",
            self.received,
            self.stored,
            self.failed,
            self.rejected,
        )

    async def wait_idle(self) -> None:
        """Wait until every Cdr received so far went through handle_cdr (for tests)."""
        await asyncio.sleep(0)
        await self._cdrs.join()

    async def run_forever(self, stop_signals: Iterable[signal.Signals] = STOP_SIGNALS) -> None:
        """Run until one of `stop_signals`, then stop cleanly (`siptar ami`)."""
        try:
            with stop_on_signals("the AMI listener", stop_signals) as stop:
                await self.start()
                await stop.wait()
        finally:
            await self.stop()

    def _make_manager(self, loop: asyncio.AbstractEventLoop) -> ListenerManager:
        manager = ListenerManager(
            loop=loop,
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self._secret,
            events=self._events,
            protocol_factory=AmiProtocol,
            # panoramisk's own pinger is redundant with our watchdog (and int()s its delays).
            ping_delay=3600,
            ping_interval=3600,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            on_login_result=self._on_login_result,
        )
        # Set after construction: panoramisk's constructor truncates it to whole seconds.
        manager.reconnect_timeout = self._reconnect_delay
        manager.on_cdr_fields = self._on_cdr_fields
        manager.register_event("Cdr", self._on_cdr)
        for name, handler in self._handlers.items():
            manager.register_event(name, _guarded(name, handler))
        return manager

    async def send_action(self, action: Mapping[str, str], timeout: float = 5.0) -> Any:
        """Send an AMI action (e.g. Hangup) and return Asterisk's response; raise
        ConnectionError when not connected."""
        manager = self._manager
        if manager is None or not self.connected.is_set():
            raise ConnectionError("AMI not connected")
        # asyncio.timeout, not wait_for: on 3.11 wait_for returns the reply when the
        # caller is cancelled as it arrives, and a monitor so cancelled runs on for ever.
        async with asyncio.timeout(timeout):
            return await manager.send_action(dict(action))

    def _on_cdr_fields(self, fields: Fields) -> None:
        # Called inside the TCP read (ami_listener/wire.py): it must never raise.
        self._take(lambda: cdr_from_fields(fields, self._tz), fields.get("uniqueid", ("", "?"))[1])

    async def _on_cdr(self, manager: Manager, message: Any) -> None:
        # panoramisk runs this as a task nobody awaits: it must never raise.
        self._take(lambda: cdr_from_message(message, self._tz), _uniqueid(message))

    def _take(self, parse: Callable[[], CdrRecord], uniqueid: str) -> None:
        self.received += 1
        try:
            record = parse()
        except ValueError as exc:
            self.rejected += 1
            logger.error("skipping Cdr event UniqueID=%s: %s", uniqueid, exc)
            return
        except Exception:
            self.rejected += 1
            logger.exception("skipping Cdr event UniqueID=%s", uniqueid)
            return
        self._cdrs.put(record)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            manager = self._manager
            protocol = getattr(manager, "protocol", None)
            if protocol is None or protocol.closed or await self._pong(manager):
                continue
            logger.warning(
                "no Pong from Asterisk at %s:%s within %s s: reconnecting",
                self.host,
                self.port,
                self._ping_timeout,
            )
            protocol.transport.abort()  # panoramisk sees the loss and reconnects

    async def _pong(self, manager: Any) -> bool:
        try:
            async with asyncio.timeout(self._ping_timeout):
                await manager.send_action({"Action": "Ping"})
        except Exception:  # no answer, or no connection to send it on: reconnect either way
            return False
        return True

    def _on_connect(self, manager: Manager) -> None:
        logger.info("AMI connected to %s:%s, logging in as %r", self.host, self.port, self.username)

    def _on_login_result(self, authenticated: bool, response: Any) -> None:
        message = str(getattr(response, "message", "") or "")
        if self._first_login is not None and not self._first_login.done():
            self._first_login.set_result((authenticated, message))
        if authenticated:
            self.logins += 1
            self.connected.set()
            logger.info("AMI login accepted by %s:%s", self.host, self.port)
        else:
            logger.error("AMI login refused by %s:%s: %s", self.host, self.port, message)

    def _on_disconnect(self, manager: Manager, exc: object) -> None:
        self.connected.clear()
        logger.warning(
            "AMI connection to %s:%s lost (%s); reconnecting in %s s. Cdr events sent "
            "meanwhile are lost: import Master.csv to fill the gap",
            self.host,
            self.port,
            exc or "closed",
            self._reconnect_delay,
        )


def _guarded(name: str, handler: Callable[[Any], object]) -> Callable[[Any, Any], Any]:
    """An async panoramisk handler around a sync one that never raises into panoramisk."""

    async def on_event(manager: Manager, message: Any) -> None:
        try:
            handler(message)
        except Exception:
            logger.exception("%s event UniqueID=%s: handler failed", name, _uniqueid(message))

    return on_event


def _uniqueid(message: Any) -> str:
    return str(message.get("UniqueID") or "?") if hasattr(message, "get") else "?"
