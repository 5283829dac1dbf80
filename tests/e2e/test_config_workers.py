"""A trunk disabled over SOAP while Authorize calls run against two `siptar serve`
workers over HTTP: no call authorized after UpdateTrunk answered is offered that
trunk, whichever worker serves it (docs/credit_control.md, "Changing and retiring")."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from client import SiptarClient
from tests.e2e.test_cli_serve import _migrated, _serve, serve_log, siptar
from tests.pgserver import free_port
from tests.serving import wait_for_http

pytestmark = pytest.mark.e2e
CALLERS = 4


def test_a_disabled_trunk_is_offered_to_no_later_call_in_any_worker(tmp_path: Path) -> None:
    env = _migrated(tmp_path)
    siptar("demo", "--if-empty", cwd=tmp_path, env=env)
    port = free_port()
    proc = _serve(port, tmp_path, env, workers=2, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/billing?wsdl", proc, "siptar serve", 60, log=serve_log(tmp_path))
        admin = SiptarClient(url, "admin", "admin", timeout=30)
        carol = admin.reseller.FindAccounts(where={"search": "acct1003"}).items[0].id
        admin.billing.AddPayment(account_id=carol, amount=Decimal("1000"), reference="test")
        sheet = admin.config.CreateRateSheet(sheet={"name": "Budget buy"}).id
        admin.config.ImportRates(sheet_id=sheet, csv="prefix,price\n34,0.0060\n")
        provider = admin.config.CreateProvider(name="Budget", buy_sheet_id=sheet).id
        budget = admin.config.CreateTrunk(
            trunk={"provider_id": provider, "name": "budget", "dial_string": "SIP/${NUMBER}@b"}
        ).id
        spare = admin.config.CreateTrunk(
            trunk={"provider_id": provider, "name": "spare", "dial_string": "SIP/${NUMBER}@s"}
        ).id
        admin.config.CreateRoute(
            route={
                "prefix": "34",
                "strategy": "priority",
                "trunks": [{"trunk_id": budget}, {"trunk_id": spare, "priority": 1}],
            }
        )
        calls: list[tuple[float, float, list[str]]] = []  # (sent, answered, trunks offered)
        stop = threading.Event()

        def caller() -> None:
            api = SiptarClient(url, "carol", "carol-demo-pw", timeout=30)
            while not stop.is_set():
                sent = time.monotonic()
                a = api.billing.Authorize(call={"number": "34911234567", "account": "acct1003"})
                assert a.allowed, a.reason
                calls.append((sent, time.monotonic(), [t.name for t in a.trunks]))

        threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(calls) < 4 * CALLERS and time.monotonic() < deadline:
            time.sleep(0.05)
        asked = time.monotonic()
        admin.config.UpdateTrunk(trunk_id=budget, changes={"status": "disabled"})
        answered = time.monotonic()
        time.sleep(1.5)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        # Calls in flight while the change was made may go either way.
        before = [trunks for _, done, trunks in calls if done < asked]
        after = [trunks for sent, _, trunks in calls if sent > answered]
        assert len(before) >= 4 * CALLERS and all(t == ["budget", "spare"] for t in before)
        assert len(after) >= 2 * CALLERS, len(after)
        assert all(trunks == ["spare"] for trunks in after), [t for t in after if t != ["spare"]]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
