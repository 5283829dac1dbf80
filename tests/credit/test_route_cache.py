"""Authorize's routes come from a per-process cache checked against the 'routing' stamp,
which database triggers bump on every change of providers, trunks, routes and route
trunks (db/routing_triggers.py): a change made anywhere, by another process or by hand,
is seen by the very next Authorize; a call itself (a trunk's open calls) moves neither
that stamp nor the provisioning counter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from db import config_versions
from services.provisioning.pjsip_conf import fingerprint
from tests.credit.test_config_changes import SPAIN, budget_route, offered

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def api(client_for: Callable[[str, str], Any]) -> Any:
    return client_for("admin", "admin")


def in_another_process(database_url: str, statement: str) -> None:
    """`statement` committed by a Python process of its own (not through this one's
    engines, caches or use cases)."""
    code = (
        "import sys; from sqlalchemy import create_engine, text\n"
        "with create_engine(sys.argv[1]).begin() as c: c.execute(text(sys.argv[2]))\n"
    )
    subprocess.run([sys.executable, "-c", code, database_url, statement], check=True)


def stamps(factory: Callable[[], Session]) -> tuple[int, int]:
    with factory() as s:
        return config_versions.current(s, config_versions.ROUTING), int(fingerprint(s))


def test_a_change_in_another_process_is_seen_by_the_next_authorize(
    api: Any, database_url: str
) -> None:
    assert offered(api) == ["carrier1"]  # the routes are cached from here on
    _, budget = budget_route(api)  # over SOAP: Spain's own route, budget first
    assert offered(api) == ["budget", "carrier1"]
    in_another_process(database_url, f"UPDATE trunks SET status = 'disabled' WHERE id = {budget}")
    assert offered(api) == ["carrier1"]
    in_another_process(database_url, f"UPDATE trunks SET status = 'active' WHERE id = {budget}")
    assert offered(api) == ["budget", "carrier1"]
    in_another_process(database_url, "UPDATE routes SET status = 'disabled' WHERE prefix = '34'")
    assert offered(api) == ["carrier1"]  # the default route again
    in_another_process(database_url, "UPDATE providers SET status = 'disabled'")
    refused = api.billing.Authorize(call={"number": SPAIN, "account": "acct1001"})
    assert (refused.allowed, refused.reason) == (False, "NoRoute")


def test_a_call_moves_neither_the_routing_stamp_nor_the_provisioning_counter(
    api: Any, session_factory: Callable[[], Session]
) -> None:
    offered(api)
    before = stamps(session_factory)
    offered(api)  # takes a channel of carrier1: trunks.open_calls moves
    offered(api)
    assert stamps(session_factory) == before
    api.config.UpdateTrunk(trunk_id=1, changes={"channel_limit": 5})
    routing, provisioning = stamps(session_factory)
    assert routing > before[0] and provisioning > before[1]
