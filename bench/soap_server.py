"""`siptar serve` as the benchmarks run it, plus one trivial SOAP operation.

`python -m bench.soap_server BIND WORKERS THREADS` serves the four services exactly as
`siptar serve` does (same gunicorn settings, same `make_wsgi_app`), and `/trivial`, a
spyne Application with one `Echo` operation that touches no database and checks no
login: the cost of spyne, lxml and gunicorn alone, which Authorize is compared with.

`Launcher` starts that server from any checkout for a benchmark (bench_authorize,
bench_soap_request): the one place that knows its port, environment, process group and
readiness.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from spyne import Application, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from services.common import server
from settings import Settings


class TrivialService(ServiceBase):
    @rpc(Unicode, _returns=Unicode)
    def Echo(ctx: Any, text: str | None) -> str:
        return text or ""


def trivial_app() -> WsgiApplication:
    app = Application(
        [TrivialService],
        tns="urn:siptar:bench:trivial",
        name="Trivial",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    return WsgiApplication(app)


class _WithTrivial(server._Gunicorn):
    def load(self) -> Any:
        real = super().load()
        trivial = trivial_app()

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO", "").startswith("/trivial"):
                return trivial(environ, start_response)
            return real(environ, start_response)

        return app


HERE = Path(__file__).resolve().parent.parent


class Launcher:
    """`python -m bench.soap_server` of checkout `tree`, run by `python` (that checkout's
    own `.venv/bin/python`, or this one with `PYTHONPATH` in `env`), on the database at
    `url`, on a free loopback port, in a process group of its own (gunicorn's master
    and workers end together). `with Launcher(...) as server:` starts it, waits until
    both WSDLs answer, and stops the group on the way out; `server.base` is its URL."""

    def __init__(
        self,
        url: str,
        *,
        python: str = sys.executable,
        tree: Path = HERE,
        env: dict[str, str] | None = None,
        workers: int = 2,
        threads: int = 8,
    ) -> None:
        self.url, self.python, self.tree = url, python, tree
        self.extra_env = env or {}
        self.workers, self.threads = workers, threads
        self.base = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Launcher:
        from tests.pgserver import free_port

        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "SIPTAR_DATABASE_URL": self.url,
            "SIPTAR_PUBLIC_URL": self.base,
            **self.extra_env,
        }
        size = (str(self.workers), str(self.threads))
        self.proc = subprocess.Popen(
            [self.python, "-m", "bench.soap_server", f"127.0.0.1:{port}", *size],
            cwd=self.tree,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def wait_ready(self) -> None:
        for path in ("/billing?wsdl", "/trivial?wsdl"):
            wait_for(self.base + path, self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)

    def __enter__(self) -> Launcher:
        if self.proc is None:
            self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()


def wait_for(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until `url` answers 200 (60 s at most); a server that exits meanwhile fails at
    once instead of after the minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:  # refused, or a worker still booting
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer within 60 s")


def main() -> None:
    bind, workers, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    settings = Settings.from_env()
    server.run_gunicorn(settings, bind=bind, workers=workers, threads=threads, cls=_WithTrivial)


if __name__ == "__main__":
    main()
