"""Stopping a long-running command (`siptar ami`, `siptar agi`) on SIGTERM or SIGINT.

The signals are handled by the asyncio loop rather than by Python's default SIGINT
handler: a service manager stops with SIGTERM, and a shell that starts a command as a
background job makes it ignore SIGINT, so KeyboardInterrupt would never be raised.
`loop.add_signal_handler` installs a handler whatever the inherited disposition was."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(
    what: str, signals: Iterable[signal.Signals] = STOP_SIGNALS
) -> Iterator[asyncio.Event]:
    """An event the running loop sets when one of `signals` arrives (logged at INFO as
    "SIGTERM received: stopping <what>"). The handlers are removed on leaving (asyncio
    puts back the default handling), so a second signal during the caller's clean-up
    stops the process the usual way instead of setting an event nobody waits on."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    chosen = tuple(signals)
    for sig in chosen:
        loop.add_signal_handler(sig, _request_stop, stop, sig, what)
    try:
        yield stop
    finally:
        for sig in chosen:
            loop.remove_signal_handler(sig)


def _request_stop(stop: asyncio.Event, sig: signal.Signals, what: str) -> None:
    logger.info("%s received: stopping %s", sig.name, what)
    stop.set()
