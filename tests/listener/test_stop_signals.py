"""`stop_on_signals` (ami_listener/signals.py), the stop handling `siptar ami` and
`siptar agi` share: a signal the process inherited as ignored (a shell's background job
ignores SIGINT) still sets the event, and leaving the block removes the handler. The two
commands' own stop tests: tests/credit/test_fastagi.py (a subprocess, SIGINT ignored,
both signals) and tests/integration/test_ami_listener.py (the listener on SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator

import pytest

from ami_listener.signals import STOP_SIGNALS, stop_on_signals

# SIGUSR1 and SIGUSR2 stand in for SIGINT and SIGTERM: pytest's own SIGINT handling stays.
STAND_INS = (signal.SIGUSR1, signal.SIGUSR2)


@pytest.fixture
def ignored() -> Iterator[None]:
    """The stand-ins ignored, as a background job inherits SIGINT; put back after."""
    before = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STAND_INS}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_the_commands_stop_on_sigint_and_sigterm() -> None:
    assert set(STOP_SIGNALS) == {signal.SIGINT, signal.SIGTERM}


@pytest.mark.usefixtures("ignored")
@pytest.mark.parametrize("sig", STAND_INS)
async def test_an_ignored_signal_sets_the_event_and_the_handler_goes_on_leaving(
    sig: signal.Signals, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ami_listener.signals")
    with stop_on_signals("the test", STAND_INS) as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stop.wait(), 5)
        assert all(signal.getsignal(s) not in (signal.SIG_IGN, signal.SIG_DFL) for s in STAND_INS)
    assert [r.getMessage() for r in caplog.records] == [f"{sig.name} received: stopping the test"]
    assert all(signal.getsignal(s) == signal.SIG_DFL for s in STAND_INS)


async def test_the_handlers_go_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), stop_on_signals("the test", STAND_INS):
        assert signal.getsignal(signal.SIGUSR1) != signal.SIG_DFL
        raise RuntimeError("start failed")
    assert all(signal.getsignal(s) == signal.SIG_DFL for s in STAND_INS)
