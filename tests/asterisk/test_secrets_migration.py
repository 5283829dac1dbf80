"""Migration 0018 on a database written before it: a plain SIP secret becomes its
md5_cred (the phone keeps registering with the same secret) and the plain column goes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from db import migrate
from db.asterisk_views import auths
from db.session import make_engine
from tests.pgserver import pg_admin, pg_db_url, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def url_at_0007(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        admin = request.getfixturevalue("pg_admin_url")
        name = unique_name("siptar_0007")
        pg_admin(admin, f'CREATE DATABASE "{name}"')
        url = pg_db_url(admin, name)
    migrate.upgrade(url, "0007")
    yield url
    if backend == "postgresql":
        pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_plain_secret_written_before_0018_becomes_its_md5_cred(url_at_0007: str) -> None:
    engine = make_engine(url_at_0007)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, path, role, name, billing_type, balance, "
                "credit_limit, currency, status, status_reason, kind, company_name, "
                "sip_username, sip_secret, restrict_ani, allowed_dnis, created_at) VALUES "
                "(1, '/1/', 'admin', 'Operator', 'prepaid', 0, 0, 'USD', 'active', '', 'sip',"
                " '', 'desk-7', 'old-plain-secret', false, '', '2026-11-01 00:00:00')"
            )
        )
    migrate.upgrade(url_at_0007)
    columns = {c["name"] for c in inspect(engine).get_columns("accounts")}
    assert "sip_secret" not in columns
    with engine.connect() as conn:
        (auth,) = conn.execute(auths(False)).mappings().all()
    engine.dispose()
    expected = hashlib.md5(b"desk-7:siptar:old-plain-secret").hexdigest()
    assert (auth["id"], auth["md5_cred"], auth["realm"]) == ("desk-7", expected, "siptar")
