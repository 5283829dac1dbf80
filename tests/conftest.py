"""Fixtures shared by the whole suite.

Every database test runs twice: on SQLite (the embedded default) and on a real
PostgreSQL that tests/pgserver.py starts by itself. Each test gets a fresh database,
copied from one migrated by alembic once per run (so the suite exercises the
migrations, not `create_all`).
"""

from __future__ import annotations

import decimal
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy.orm import Session

from db import migrate
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from settings import Settings
from tests.pgserver import PostgresServer, pg_admin, pg_db_url, unique_name

BACKENDS = ("sqlite", "postgresql")

# Mutation testing (docs/mutation.md) runs each test once to map tests to functions,
# then again per mutant in the same process tree: the same examples every time
# (derandomize), so a mutant's verdict does not depend on luck, and no example database;
# fewer examples than a normal run, since every surviving mutant runs them all again.
# No shrinking: the verdict is that an example fails, and shrinking a failure of a
# mutant costs more CPU than mutmut's timeout allows, which reads as a timeout.
settings.register_profile(
    "mutation",
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _no_floats() -> Iterator[None]:
    """Any float that slips into Decimal arithmetic fails loudly."""
    ctx = decimal.getcontext()
    old = ctx.traps[decimal.FloatOperation]
    ctx.traps[decimal.FloatOperation] = True
    yield
    ctx.traps[decimal.FloatOperation] = old


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("SIPTAR_TEST_PG_URL")
    if url:
        yield url
        return
    server = PostgresServer().start()
    try:
        yield server.url
    finally:
        server.stop()


# Mutation testing (docs/mutation.md) runs the tests again for every mutant, each time in
# a new pytest session: a directory named here keeps the SQLite templates between
# sessions, so each mutant does not pay ~4 s of migrations and demo data again. The
# templates are only ever copied, and each is made under a private name then renamed.
_TEMPLATE_CACHE = os.environ.get("SIPTAR_TEST_TEMPLATE_CACHE")


def _cached_template(name: str, make: Callable[[Path], None], fallback: Path) -> Path:
    if not _TEMPLATE_CACHE:
        make(fallback)
        return fallback
    path = Path(_TEMPLATE_CACHE) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        private = path.with_name(f"{name}.{os.getpid()}.tmp")
        make(private)
        os.replace(private, path)
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def make(path: Path) -> None:
        migrate.upgrade(f"sqlite:///{path}")

    return _cached_template("template.db", make, tmp_path_factory.mktemp("template") / "t.db")


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> str:
    name = f"siptar_template_{os.getpid()}"
    pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    migrate.upgrade(pg_db_url(pg_admin_url, name))
    return name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path) -> Path:
    def make(path: Path) -> None:
        shutil.copy(sqlite_template, path)
        _load_demo(f"sqlite:///{path}")

    return _cached_template("demo.db", make, sqlite_template.with_name("demo.db"))


@pytest.fixture(scope="session")
def pg_demo_template(pg_admin_url: str, pg_template: str) -> str:
    name = f"{pg_template}_demo"
    pg_admin(
        pg_admin_url,
        f'DROP DATABASE IF EXISTS "{name}"',
        f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"',
    )
    _load_demo(pg_db_url(pg_admin_url, name))
    return name


def _load_demo(url: str) -> None:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as u:
        load_demo(u)
    engine.dispose()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of the backend under test: empty, or holding the demo
    data when the test also asks for the `demo` fixture (copied from a template loaded
    once per run: the demo's password hashes cost ~50 ms each)."""
    with_demo = "demo" in request.fixturenames
    if backend == "sqlite":
        path = tmp_path / "siptar.db"
        template = "sqlite_demo_template" if with_demo else "sqlite_template"
        shutil.copy(request.getfixturevalue(template), path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    template = request.getfixturevalue("pg_demo_template" if with_demo else "pg_template")
    name = unique_name("siptar_test")
    pg_admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield pg_db_url(admin, name)
    pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def session_factory(database_url: str) -> Iterator[Callable[[], Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def uow(session_factory: Callable[[], Session]) -> Callable[[], UnitOfWork]:
    """A factory of units of work: `with uow() as u: ...`."""
    return lambda: UnitOfWork(session_factory)


@pytest.fixture
def demo(database_url: str) -> None:
    """The demo data (services/common/demo.py) in this test's database: see
    `database_url`, which copies it from a template."""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A thread per connection, but at most RUNNING requests served at once, as a
    `siptar serve` gthread worker (8 threads) serves them: the rest wait their turn
    holding nothing. Unbounded, 50 simultaneous requests queued on the engine's pool
    (5 + 10 connections), and on a loaded machine those that waited past its 30 s
    timeout answered `Server`."""

    daemon_threads = True
    request_queue_size = 128  # the listen backlog: 50 clients connect at once in a test
    RUNNING = 12  # below the pool's 15: no request waits for a connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running = threading.BoundedSemaphore(self.RUNNING)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._running:
            super().process_request_thread(request, client_address)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_settings() -> dict[str, object]:
    """More Settings for `server_url`'s server (a test module overrides it, e.g. to
    point the services at an AMI replay server)."""
    return {}


@pytest.fixture
def server_url(database_url: str, server_settings: dict[str, object]) -> Iterator[str]:
    """All four services over real HTTP on a free port, against this test's database."""
    from services.common.wsgi import make_wsgi_app

    httpd = make_server(
        "127.0.0.1",
        0,
        lambda e, s: app(e, s),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    url = f"http://127.0.0.1:{httpd.server_port}"
    settings = Settings(database_url=database_url, public_url=url, **server_settings)  # type: ignore[arg-type]
    app = make_wsgi_app(settings)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield url
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def client_for(server_url: str) -> Callable[[str, str], object]:
    from client import SiptarClient

    return lambda username, password: SiptarClient(server_url, username, password, timeout=30)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
