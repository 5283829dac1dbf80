"""A listener's tasks are cancelled when it stops (tests/listener/conftest.wired_listener,
`siptar ami`'s serve): a cancel that lands as Asterisk's answer to an action comes in
must still end the task. On Python 3.11 `asyncio.wait_for` returned the answer instead
(the cancel was lost): the live-call monitor went on reconciling and ticking, and the
stop waited for it for ever (a listener test that polled without end on a loaded
machine); the CDR writer task lost a cancel the same way when a record came in with it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ami_listener.cdr_queue import CdrQueue
from ami_listener.live import LiveCallMonitor
from services.cdr.commands import CdrRecord
from tests.ami_replay import AmiReplayServer
from tests.currency.calls import spain_call
from tests.listener.conftest import SESSION, wired_listener


@pytest.mark.integration
async def test_a_monitor_cancelled_as_asterisk_answers_its_channel_check_stops(
    session_factory: Callable[[], Session], spool_dir: Path
) -> None:
    server = AmiReplayServer(SESSION)
    port = await server.start()
    monitor = LiveCallMonitor(session_factory, asterisk=f"127.0.0.1:{port}")
    try:
        async with wired_listener(port, session_factory, spool_dir) as w:
            check = asyncio.create_task(monitor.reconcile(w.listener))
            await asyncio.sleep(0)  # its CoreShowChannels is written; no answer read yet
            manager = w.listener._manager
            assert manager is not None
            (sent,) = [
                a for a in manager.protocol.responses.values() if a["Action"] == "CoreShowChannels"
            ]
            # The cancel comes in the same turn of the loop as the answer.
            sent.future.add_done_callback(lambda _: check.cancel())
            async with asyncio.timeout(20):  # a bound on the wait, not on its speed
                await asyncio.gather(check, return_exceptions=True)
            assert check.cancelled()
            assert monitor.reconciles == 0
    finally:
        await server.stop()


@pytest.mark.parametrize("turns", range(6))
async def test_the_writer_task_cancelled_as_a_record_comes_in_stops(turns: int) -> None:
    """Every turn of the loop between a record's arrival and the writer's wake-up: the
    record wakes the queue's getter, which hands it on a few turns later."""
    batches: list[list[CdrRecord]] = []
    queue = CdrQueue(lambda r: None, handle_batch=batches.append, idle_tick=60.0)
    writer = asyncio.create_task(queue.run())
    await asyncio.sleep(0)  # it waits for a record
    queue.put(spain_call("1.1", "acct1001", datetime(2026, 12, 1, 12, 0, tzinfo=UTC)))
    for _ in range(turns):
        await asyncio.sleep(0)
    writer.cancel()
    async with asyncio.timeout(20):  # a bound on the wait, not on its speed
        await asyncio.gather(writer, return_exceptions=True)
    assert writer.cancelled()
