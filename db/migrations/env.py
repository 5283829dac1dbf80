"""Alembic environment: the URL comes from the Config (set by db/migrate.py)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from db.schema import Base
from db.session import make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (create a copy, DROP the old one): with foreign keys
        # enforced, dropping `accounts` while reservations point at it fails. SQLite's
        # own recipe: keys off around the rebuild (the PRAGMA is a no-op inside a
        # transaction, so before it), then foreign_key_check refuses a broken result.
        _pragma(connection, "foreign_keys = OFF")
    try:
        _configure_and_run(connection, sqlite)
    finally:
        if sqlite:
            _pragma(connection, "foreign_keys = ON")


def _pragma(connection: Connection, setting: str) -> None:
    raw: Any = connection.connection.driver_connection  # sqlite3, outside any transaction
    raw.execute(f"PRAGMA {setting}")


def _configure_and_run(connection: Connection, sqlite: bool) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `siptar db upgrade`")
run_migrations_online()
