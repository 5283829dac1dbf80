"""What `make run` does, for real: migrate, load the demo, serve with gunicorn; then a
zeep client built from the served WSDL gets a balance and prices a call."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep

from tests.pgserver import free_port
from tests.serving import PIPE_BUFFER, past_a_pipes_worth, serve_log, start_logged, wait_for_http

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


def _migrated(tmp_path: Path) -> dict[str, str]:
    """The environment of a `siptar` on a migrated SQLite database in tmp_path."""
    env = {**os.environ, "SIPTAR_DATABASE_URL": f"sqlite:///{tmp_path / 'siptar.db'}"}
    env.pop("SIPTAR_PUBLIC_URL", None)
    siptar("db", "upgrade", cwd=tmp_path, env=env)
    return env


def _serve(port: int, cwd: Path, env: dict[str, str], *, workers: int, stderr: int) -> Any:
    """`siptar serve` on `port`, its output (stdout, and stderr when `stderr` is
    subprocess.STDOUT) appended to `serve_log(cwd)` (tests/serving.py: never a pipe)."""
    argv = [
        sys.executable,
        "-m",
        "cli",
        "serve",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
    ]
    return start_logged(argv, cwd=cwd, env=env, log=serve_log(cwd), stderr=stderr)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("run")
    env = _migrated(tmp_path)
    demo = siptar("demo", "--if-empty", cwd=tmp_path, env=env)
    assert "admin      / admin" in demo.stdout
    again = siptar("demo", "--if-empty", cwd=tmp_path, env=env)
    assert "not loaded" in again.stdout
    port = free_port()
    proc = _serve(port, tmp_path, env, workers=2, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/billing?wsdl", proc, "siptar serve", 60, log=serve_log(tmp_path))
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


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


def test_the_wsdl_urls_are_printed_only_once_the_port_is_bound(tmp_path: Path) -> None:
    env = {**os.environ, "SIPTAR_DATABASE_URL": f"sqlite:///{tmp_path / 'siptar.db'}"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode != 0
    assert "Connection in use" in proc.stderr
    assert "?wsdl" not in proc.stdout + proc.stderr


def test_the_printed_wsdl_url_answers_as_soon_as_it_is_printed(tmp_path: Path) -> None:
    port = free_port()
    proc = _serve(port, tmp_path, _migrated(tmp_path), workers=1, stderr=subprocess.DEVNULL)
    try:
        lines = _first_lines(serve_log(tmp_path), 2, proc)
        assert lines[0].startswith("SipTar Billing Server: WSDLs at")
        assert lines[1].strip() == f"http://127.0.0.1:{port}/billing?wsdl"
        # The socket is bound: a connection is accepted (and waits for a worker).
        assert requests.get(lines[1].strip(), timeout=60).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _first_lines(path: Path, count: int, proc: Any) -> list[str]:
    """The first `count` lines written to `path`, as soon as they are there."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines(keepends=True) if path.exists() else []
        if len(lines) >= count and lines[count - 1].endswith("\n"):
            return lines[:count]
        assert proc.poll() is None, path.read_text()
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} lines in {path} within 60 s")


def test_a_server_started_by_the_tests_answers_past_a_pipes_worth_of_access_log(
    tmp_path: Path,
) -> None:
    # Each request writes an access-log line; 1,500 of them are more than a pipe holds
    # (64 KiB): a server whose output went to a pipe that nobody read stopped answering.
    port = free_port()
    proc = _serve(port, tmp_path, _migrated(tmp_path), workers=1, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/billing?wsdl", proc, "siptar serve", 60, log=serve_log(tmp_path))
        assert past_a_pipes_worth(url) == {404}
        assert serve_log(tmp_path).stat().st_size > PIPE_BUFFER
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
