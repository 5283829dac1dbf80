"""Engines, sessions and the unit of work.

Engines are built by the entrypoints (per gunicorn worker, after the fork), never at
import. Use cases receive a `UnitOfWork` and commit explicitly; leaving the block
without a commit rolls back, so a failed request changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db import prepared

logger = logging.getLogger(__name__)


def make_engine(url: str, *, merged_begin: bool = True, **kwargs: Any) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    # No pool_pre_ping: it is a round trip on every checkout, ~5 % of an Authorize. A
    # connection the server dropped fails its first statement instead; SQLAlchemy then
    # invalidates the whole pool (every older connection is replaced at its next
    # checkout), and the SOAP edge runs a call that had committed nothing once more
    # (services/common/app.py).
    if make_url(url).get_driver_name() == "psycopg2":
        # An executemany UPDATE (a batch of CDRs closing their reservations) in pages
        # of statements, not one round trip per row. No code here reads the rowcount
        # of an executemany, which psycopg2 can't give in this mode.
        kwargs.setdefault("executemany_mode", "values_plus_batch")
        if merged_begin:
            # BEGIN in the first statement's query string: a round trip less per unit
            # of work (db/merged_begin.py).
            from db.merged_begin import MergedBeginConnection

            connect_args = dict(kwargs.pop("connect_args", {}))
            connect_args.setdefault("connection_factory", MergedBeginConnection)
            kwargs["connect_args"] = connect_args
        # The hot statements prepared once per connection, planned once (db/prepared.py).
        connect_args = dict(kwargs.pop("connect_args", {}))
        # Added to the operator's own options (connect_args or the URL's ?options=).
        given = connect_args.get("options") or make_url(url).query.get("options") or ""
        options = given if isinstance(given, str) else " ".join(given)
        connect_args["options"] = f"{options} {prepared.PLAN_CACHE_OPTION}".strip()
        kwargs["connect_args"] = connect_args
        engine = create_engine(url, **kwargs)
        prepared.install(engine)
        return engine
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let BEGIN below be ours, not pysqlite's deferred one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if make_url(url).database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Several gunicorn workers and the AMI listener write the same file. A deferred
        # transaction that reads, then writes, can fail at once with "database is
        # locked"; IMMEDIATE takes the write lock up front and waits busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


class UnitOfWork:
    """One transaction: `with uow: ...; uow.commit()`. Not committed = rolled back."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._commit_asked = False

    @property
    def commit_started(self) -> bool:
        """Whether a commit was asked for or sent with a statement (`commit_sent`): from
        then on, a failure may have committed, and the work must not be run again."""
        if self._commit_asked:
            return True
        return self._session is not None and bool(self._session.info.get(_COMMIT_SENT))

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._session = None

    def commit(self, wait_for_disk: bool = True) -> None:
        """Commit. `wait_for_disk` False (PostgreSQL): the COMMIT returns without waiting
        for the WAL to be flushed, so a crash of the database server may lose this
        transaction whole, never part of it (synchronous_commit off for it alone; see
        db/merged_begin.py). For a transaction whose loss costs no money only: holds
        (docs/credit_control.md). SQLite, and a connection not of merged_begin.py: as
        a plain commit."""
        self._commit_asked = True
        driver = None if wait_for_disk else _driver_connection(self.session)
        if driver is None:
            self.session.commit()
            return
        driver.wait_for_disk = False  # read and cleared by its commit()
        try:
            self.session.commit()
        except BaseException:
            driver.wait_for_disk = True  # still set if it failed before the COMMIT (a flush)
            raise

    def rollback(self) -> None:
        self.session.rollback()


_COMMIT_SENT = "siptar_commit_sent"


def commit_sent(session: Session) -> None:
    """The session's transaction is being committed by a statement's own query string
    (db/core_execute.direct_commit), not by `UnitOfWork.commit`."""
    session.info[_COMMIT_SENT] = True


def commit_not_sent(session: Session) -> None:
    """The statement that was to commit failed before its COMMIT ran (the server runs
    nothing of a query string after an error): nothing was committed."""
    session.info.pop(_COMMIT_SENT, None)


def _driver_connection(session: Session) -> Any:
    """The DBAPI connection of the session's open transaction when it can commit without
    waiting for the disk (db/merged_begin.py's), else None (no transaction, SQLite)."""
    if not session.in_transaction():
        return None
    driver = session.connection().connection.driver_connection
    return driver if hasattr(driver, "wait_for_disk") else None


def is_dropped_connection(error: BaseException, uow: UnitOfWork | None) -> bool:
    """The database connection was gone (a restarted server, pg_terminate_backend, a
    network cut) before the unit of work asked for any commit: nothing was written, and
    the work can run again on a new connection."""
    return (
        isinstance(error, DBAPIError)
        and error.connection_invalidated
        and uow is not None
        and not uow.commit_started
    )


def masked(url: str) -> str:
    """The URL with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)
