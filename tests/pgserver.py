"""A throwaway PostgreSQL server for the test suite.

`make test` needs no PostgreSQL set up beforehand: this starts one from Debian's
binaries in a temporary directory, as an unprivileged user when run as root (initdb
refuses root), listening on 127.0.0.1 on a free port, and removes it at the end.
Set SIPTAR_TEST_PG_URL to use a server of your own instead.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_counter = itertools.count()
# A test's server never waits for the disk (what a crash would lose does not matter).
_NO_DISK_WAITS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "


def find_bindir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "no PostgreSQL server binaries found: `make test` installs Debian's postgresql "
        "package; or set SIPTAR_TEST_PG_URL"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """`durable`: PostgreSQL's own defaults (fsync, synchronous_commit and
    full_page_writes on), every COMMIT waiting for the disk as on a production server;
    else none of that, as a test needs (bench/bench_durable_commit.py uses both)."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bindir = find_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="siptar-pg-"))
        self.port = free_port()
        self.user = "nobody" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://siptar@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.dir)

    def start(self) -> PostgresServer:
        data = self.dir / "data"
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "siptar",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            f"{'' if self.durable else _NO_DISK_WAITS}-c max_connections=200",
            "start",
        )
        self._wait()
        return self

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start; see {self.dir / 'log'}")

    def stop(self) -> None:
        try:
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.dir / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            )
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def unique_name(stem: str) -> str:
    """A database name no other test of this run uses."""
    return f"{stem}_{os.getpid()}_{next(_counter)}"


def pg_db_url(admin_url: str, name: str) -> str:
    """The server's URL with another database name."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def pg_admin(admin_url: str, *statements: str) -> None:
    """Run statements that can't be in a transaction (CREATE/DROP DATABASE)."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
