"""The listener's debounced reload (ami_listener/provisioning.py), against the AMI replay
server: a burst of provisioning changes is one Reload, the include is rewritten first,
and nothing changed is nothing sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ami_listener.provisioning import ProvisioningWatcher
from db.schema import Account
from tests.ami_replay import AmiReplayServer
from tests.asterisk.asterisk_conf import parse
from tests.listener.conftest import SESSION, until, wired_listener

pytestmark = pytest.mark.integration
HA1 = "0123456789abcdef0123456789abcdef"


def _phones(session_factory: Callable[[], Session], count: int) -> list[int]:
    with session_factory() as s:
        root = Account(role="admin", name="Operator", path="")
        s.add(root)
        s.flush()
        root.path = f"/{root.id}/"
        ids = []
        for n in range(count):
            a = Account(role="customer", name=f"c{n}", parent_id=root.id, sip_username=f"desk-{n}")
            s.add(a)
            s.flush()
            a.path = f"{root.path}{a.id}/"
            ids.append(a.id)
        s.commit()
    return ids


def _give_secret(session_factory: Callable[[], Session], account_id: int) -> None:
    with session_factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        account.sip_md5_cred = HA1
        s.commit()


def _reloads(server: AmiReplayServer) -> int:
    return sum(a.get("action", "").lower() == "reload" for a in server.actions)


async def test_a_burst_of_changes_is_one_reload_after_the_include_is_rewritten(
    session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    ids = _phones(session_factory, 3)
    include = tmp_path / "pjsip_siptar.conf"
    server = AmiReplayServer(SESSION, only=())
    port = await server.start()
    watcher = ProvisioningWatcher(
        session_factory, debounce=0.4, include=include, poll_interval=0.05
    )
    try:
        async with wired_listener(port, session_factory, tmp_path / "spool") as wired:
            task = asyncio.create_task(watcher.run(wired.listener))
            # At start the include is written and Asterisk told once (it may be stale).
            await until(lambda: _reloads(server) == 1, "the catch-up reload")
            assert parse(include.read_text())[1] == []
            for account_id in ids:
                _give_secret(session_factory, account_id)
                await asyncio.sleep(0.1)  # changes closer together than the debounce
            await until(lambda: _reloads(server) == 2, "the reload after the burst")
            names = {s.name for s in parse(include.read_text())[1]}
            assert names == {"desk-0", "desk-1", "desk-2"}
            await asyncio.sleep(0.6)  # quiet: nothing more is sent
            assert (_reloads(server), watcher.reloads) == (2, 2)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await server.stop()


async def test_without_an_include_nothing_is_sent_until_something_changes(
    session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    (account_id,) = _phones(session_factory, 1)
    server = AmiReplayServer(SESSION, only=())
    port = await server.start()
    watcher = ProvisioningWatcher(session_factory, debounce=0.2, poll_interval=0.05)
    try:
        async with wired_listener(port, session_factory, tmp_path / "spool") as wired:
            task = asyncio.create_task(watcher.run(wired.listener))
            await asyncio.sleep(0.5)
            assert _reloads(server) == 0
            _give_secret(session_factory, account_id)
            await until(lambda: _reloads(server) == 1, "the reload after the change")
            (reload,) = [a for a in server.actions if a.get("action") == "Reload"]
            assert reload["module"] == "res_pjsip.so"
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await server.stop()
