"""`siptar serve` as deployed (gunicorn, 2 workers, the default threads), against
stalled clients and bodies that must not reach the log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.test_cli_serve import siptar
from tests.integration.test_bad_requests import envelope
from tests.pgserver import free_port
from tests.serving import wait_for_http

pytestmark = pytest.mark.e2e
GET_BALANCE = envelope("<b:GetBalance><b:account_id>3</b:account_id></b:GetBalance>")
HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


class Served:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "SIPTAR_DATABASE_URL": f"sqlite:///{tmp_path / 'siptar.db'}"}
    env.pop("SIPTAR_PUBLIC_URL", None)
    siptar("db", "upgrade", cwd=tmp_path, env=env)
    siptar("demo", cwd=tmp_path, env=env)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/billing?wsdl", proc, "siptar serve", 60)
        for _ in range(4):  # both workers up, the password verified in each
            assert requests.post(f"{url}/billing", GET_BALANCE, headers=HEADERS, timeout=30).ok
        yield Served(url, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def stalled(url: str) -> socket.socket:
    """A connection that sends its headers and half of the body it announced, then
    nothing."""
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    body = GET_BALANCE.encode()
    conn.sendall(
        b"POST /billing HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[: len(body) // 2]
    )
    return conn


def test_with_four_stalled_connections_a_normal_call_answers_within_a_second(
    served: Served,
) -> None:
    conns = [stalled(served.url) for _ in range(4)]
    try:
        for _ in range(3):
            # the bound is the client's timeout: a sync worker model answers nothing here
            resp = requests.post(f"{served.url}/billing", GET_BALANCE, headers=HEADERS, timeout=1)
            assert resp.status_code == 200
            assert b"10.000000" in resp.content
    finally:
        for conn in conns:
            conn.close()


def test_the_log_holds_no_password_and_no_body(served: Served) -> None:
    secret = "s3cret-Pa55word"
    before = served.log.stat().st_size
    broken = envelope("<b:GetBalance>", password=secret)[:-10] + "y" * 3_000_000
    resp = requests.post(f"{served.url}/billing", broken, headers=HEADERS, timeout=60)
    assert resp.status_code == 500 and b"XMLSyntaxError" in resp.content
    wrong = envelope("<b:GetBalance/>", password=secret)
    assert requests.post(f"{served.url}/billing", wrong, headers=HEADERS, timeout=30).status_code
    text = served.log.read_bytes()
    assert secret.encode() not in text
    assert b"yyyyyyyyyy" not in text
    assert len(text) - before < 20_000
