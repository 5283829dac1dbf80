"""FastAGI over a real TCP socket: `AGI(agi://host/authorize)` sets the SIPTAR_*
channel variables; clients that hang up early or never finish cost only themselves."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ami_listener.fastagi import FastAgiServer
from ami_listener.runner import authorizer, inbound_lookup
from db.schema import Account, Reservation
from tests.pgserver import free_port

pytestmark = pytest.mark.usefixtures("demo")
SET = re.compile(r'^SET VARIABLE (\S+) "(.*)"$')


def environment(**extra: str) -> dict[str, str]:
    env = {
        "agi_network": "yes",
        "agi_network_script": "authorize",
        "agi_request": "agi://127.0.0.1:4573/authorize",
        "agi_channel": "PJSIP/1001-00000001",
        "agi_uniqueid": "1700000000.5",
        "agi_callerid": "1001",
        "agi_dnid": "34911234567",
        "agi_extension": "34911234567",
        "agi_accountcode": "acct1001",
    }
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def running_agi(session_factory: Callable[[], Session]) -> AsyncIterator[int]:
    """`siptar agi`'s server (both scripts) on a free port: yields the port."""
    server = FastAgiServer(
        authorizer(session_factory), "127.0.0.1", 0, inbound_lookup(session_factory)
    )
    await server.start()
    task = asyncio.create_task(server.serve_forever())
    yield server.port
    task.cancel()
    await server.close()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.fixture
async def agi(session_factory: Callable[[], Session]) -> AsyncIterator[int]:
    async with running_agi(session_factory) as port:
        yield port


async def agi_call(port: int, env: dict[str, str]) -> dict[str, str]:
    """What Asterisk does: send the environment, answer each command with 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
        await writer.drain()
        variables = {}
        while line := await asyncio.wait_for(reader.readline(), 10):
            match = SET.match(line.decode().rstrip("\n"))
            assert match, line
            variables[match[1]] = match[2]
            writer.write(b"200 result=1\n")
            await writer.drain()
        return variables
    finally:
        writer.close()
        await writer.wait_closed()


class TestFastAgi:
    async def test_an_authorized_call_gets_its_dial_string_limit_and_reservation(
        self, agi: int, session_factory: Callable[[], Session]
    ) -> None:
        got = await agi_call(agi, environment())
        assert {k: got[k] for k in ("SIPTAR_ALLOWED", "SIPTAR_REASON", "SIPTAR_MAX_SECONDS")} == {
            "SIPTAR_ALLOWED": "1",
            "SIPTAR_REASON": "OK",
            "SIPTAR_MAX_SECONDS": "10800",
        }
        assert got["SIPTAR_DIALSTR"] == got["SIPTAR_DIALSTR_1"] == "PJSIP/34911234567@carrier1"
        assert (got["SIPTAR_TRUNK"], got["SIPTAR_TRUNKS"]) == ("carrier1", "1")
        with session_factory() as s:
            held = s.scalars(select(Reservation).where(Reservation.parent_id.is_(None))).one()
        assert (str(held.id), held.uniqueid) == (got["SIPTAR_RESERVATION"], "1700000000.5")

    async def test_a_refused_call_gets_the_reason(
        self, agi: int, session_factory: Callable[[], Session]
    ) -> None:
        with session_factory() as s:
            s.execute(update(Account).where(Account.id == 3).values(status="blocked"))
            s.commit()
        got = await agi_call(agi, environment())
        assert (got["SIPTAR_ALLOWED"], got["SIPTAR_REASON"]) == ("0", "AccountBlocked")
        assert (got["SIPTAR_DIALSTR"], got["SIPTAR_RESERVATION"]) == ("", "")
        other = await agi_call(agi, environment(agi_network_script="balance"))
        assert other == {"SIPTAR_ALLOWED": "0", "SIPTAR_REASON": "UnknownScript"}

    async def test_the_peer_name_and_arguments_identify_the_call(self, agi: int) -> None:
        got = await agi_call(
            agi, environment(agi_accountcode="", agi_arg_1="4930123456", agi_arg_2="acct1002")
        )
        assert got["SIPTAR_DIALSTR"] == "PJSIP/4930123456@carrier1"
        anonymous = await agi_call(agi, environment(agi_accountcode="", agi_callerid="unknown"))
        assert anonymous["SIPTAR_REASON"] == "UnknownAccount"  # peer "1001" is nobody

    async def test_clients_that_hang_up_early_or_stall_leave_the_others_served(
        self, agi: int
    ) -> None:
        # One connects and hangs up at once; one hangs up in the middle of a header
        # line; one sends half its headers and then stalls, connection open.
        _, gone = await asyncio.open_connection("127.0.0.1", agi)
        gone.close()
        _, half = await asyncio.open_connection("127.0.0.1", agi)
        half.write(b"agi_network: yes\nagi_chan")
        await half.drain()
        half.close()
        _, stalled = await asyncio.open_connection("127.0.0.1", agi)
        stalled.write(b"agi_network: yes\nagi_network_script: authorize\n")
        await stalled.drain()
        # A channel that hangs up after the first variable.
        reader, early = await asyncio.open_connection("127.0.0.1", agi)
        early.write("".join(f"{k}: {v}\n" for k, v in environment().items()).encode() + b"\n")
        assert (await asyncio.wait_for(reader.readline(), 10)).startswith(b"SET VARIABLE")
        early.close()
        try:
            answers = await asyncio.gather(
                *(
                    agi_call(agi, environment(agi_uniqueid=f"ok.{i}", agi_arg_1="4930123456"))
                    for i in range(3)
                )
            )
            assert [a["SIPTAR_ALLOWED"] for a in answers] == ["1", "1", "1"]
        finally:
            stalled.close()
            for w in (gone, half, stalled, early):
                await w.wait_closed()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
async def test_siptar_agi_serves_on_its_bind_address(
    database_url: str, stop: signal.Signals
) -> None:
    """Started as a shell's background job would start it: SIGINT ignored (what failed
    when the suite ran under `nohup ... &`); it still stops cleanly on SIGINT and on a
    service manager's SIGTERM."""
    port = free_port()
    env = {**os.environ, "SIPTAR_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "agi", "--agi-bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        for _ in range(200):
            try:
                got = await agi_call(port, environment())
                break
            except ConnectionRefusedError:
                await asyncio.sleep(0.05)
        assert (got["SIPTAR_ALLOWED"], got["SIPTAR_TRUNK"]) == ("1", "carrier1")
    finally:
        proc.send_signal(stop)
        try:
            assert proc.wait(timeout=30) == 0
        finally:
            proc.kill()
