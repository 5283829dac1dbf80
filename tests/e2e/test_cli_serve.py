"""What `make run` does, for real: migrate, load the demo, serve with gunicorn; then a
zeep client built from the served WSDL gets a balance and prices a call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import zeep

from tests.pgserver import free_port

pytestmark = pytest.mark.e2e


def siptar(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("run")
    env = {**os.environ, "SIPTAR_DATABASE_URL": f"sqlite:///{tmp_path / 'siptar.db'}"}
    env.pop("SIPTAR_PUBLIC_URL", None)
    siptar("db", "upgrade", cwd=tmp_path, env=env)
    demo = siptar("demo", "--if-empty", cwd=tmp_path, env=env)
    assert "admin      / admin" in demo.stdout
    again = siptar("demo", "--if-empty", cwd=tmp_path, env=env)
    assert "not loaded" in again.stdout
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/billing?wsdl", proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"siptar serve exited: {out}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # A worker still booting on a loaded machine: the socket accepts, nobody reads.
            pass
        time.sleep(0.2)
    raise AssertionError("siptar serve did not answer within 60 s")


def test_the_demo_server_answers_a_zeep_client(served: str) -> None:
    client = zeep.Client(f"{served}/billing?wsdl")
    auth = client.get_element("{urn:siptar:auth}Auth")(username="admin", password="admin")
    balance = client.service.GetBalance(_soapheaders=[auth])
    assert balance.name == "Operator"
    quote = client.service.QuoteCall(
        sheet_id=3, number="34911234567", duration=60, _soapheaders=[auth]
    )
    assert (quote.destination, quote.cost) == ("Spain", Decimal("0.02"))


def test_every_service_publishes_its_wsdl_at_the_bound_address(served: str) -> None:
    for name in ("billing", "config", "reseller", "cdr"):
        text = requests.get(f"{served}/{name}?wsdl", timeout=10).text
        assert f'location="{served}/{name}"' in text
