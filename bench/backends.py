"""Run one benchmark on SQLite (a WAL file) and on a throwaway PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.pgserver import PostgresServer, pg_admin, pg_db_url


def on_both(prefix: str, one: Callable[[str, str], None]) -> None:
    """`one(label, database_url)` on SQLite, then on PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        one("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")
        pg = PostgresServer().start()
        try:
            pg_admin(pg.url, 'CREATE DATABASE "bench"')
            one("PostgreSQL", pg_db_url(pg.url, "bench"))
        finally:
            pg.stop()
