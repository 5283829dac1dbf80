"""Migration 0011 on data written before it: logins that differ only by case keep
working, the later one renamed, and every login gets its case-folded key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from db import migrate
from db.session import make_engine
from tests.integration.test_migrations import empty_url  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration


def filler(column: sa.Column[Any]) -> object:
    if isinstance(column.type, sa.Boolean):
        return False
    if isinstance(column.type, sa.Integer | sa.Numeric):
        return 0
    if isinstance(column.type, sa.DateTime | sa.Date):
        return datetime(2026, 1, 1, tzinfo=UTC)
    return "x"


def insert_row(conn: sa.Connection, table: sa.Table, **values: object) -> None:
    for column in table.columns:
        needed = not column.nullable and column.server_default is None
        if needed and column.name not in values and not column.primary_key:
            values[column.name] = filler(column)
    conn.execute(table.insert().values(**values))


def test_case_duplicates_are_renamed_and_every_login_keyed(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url, "0007")
    engine = make_engine(empty_url)
    meta = sa.MetaData()
    accounts = sa.Table("accounts", meta, autoload_with=engine)
    logins = sa.Table("logins", meta, autoload_with=engine)
    with engine.begin() as conn:
        insert_row(
            conn,
            accounts,
            id=1,
            path="/1/",
            role="admin",
            name="root",
            status="active",
            billing_type="prepaid",
            currency="USD",
            kind="sip",
        )
        for login_id, name in [(1, "admin"), (2, "Admin"), (3, "Bob")]:
            insert_row(conn, logins, id=login_id, account_id=1, username=name, password_hash="h")
    engine.dispose()
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, username, username_key FROM logins ORDER BY id"))
        assert [tuple(r) for r in rows] == [
            (1, "admin", "admin"),
            (2, "Admin-2", "admin-2"),
            (3, "Bob", "bob"),
        ]
    engine.dispose()
