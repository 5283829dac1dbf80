"""The alembic migrations build exactly the models' schema, and each goes down and up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from db import migrate
from db.schema import Base
from db.session import make_engine
from tests.pgserver import pg_admin, pg_db_url, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    name = unique_name("siptar_empty")
    pg_admin(admin, f'CREATE DATABASE "{name}"')
    yield pg_db_url(admin, name)
    pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_the_migrated_schema_equals_the_models(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("revision", revisions())
def test_each_revision_goes_up_down_and_up_again(empty_url: str, revision: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(empty_url))
    previous = script.get_revision(revision).down_revision or "base"
    migrate.upgrade(empty_url, revision)
    migrate.downgrade(empty_url, str(previous))
    migrate.upgrade(empty_url, revision)
    engine = make_engine(empty_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert "accounts" in tables


def test_downgrade_to_base_leaves_no_table(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    engine = make_engine(empty_url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
