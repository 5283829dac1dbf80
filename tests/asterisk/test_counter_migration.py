"""Migration 0018b on a database provisioned at 0018: its phones are still in the
views (created again from the code on PostgreSQL), and the change counter it adds moves
with the next change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db import migrate
from db.asterisk_views import VIEWS
from db.session import make_engine, make_session_factory
from services.provisioning.pjsip_conf import fingerprint
from tests.pgserver import pg_admin, pg_db_url, unique_name

pytestmark = pytest.mark.integration
HA1 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def url_at_0018(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        admin = request.getfixturevalue("pg_admin_url")
        name = unique_name("siptar_0018")
        pg_admin(admin, f'CREATE DATABASE "{name}"')
        url = pg_db_url(admin, name)
    migrate.upgrade(url, "0018")
    yield url
    if backend == "postgresql":
        pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_phone_provisioned_at_0018_stays_provisioned_and_changes_are_counted(
    url_at_0018: str, backend: str
) -> None:
    engine = make_engine(url_at_0018)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, path, role, name, billing_type, balance, "
                "credit_limit, currency, status, status_reason, kind, company_name, "
                "sip_username, sip_md5_cred, sip_realm, restrict_ani, allowed_dnis, "
                "created_at) VALUES (1, '/1/', 'admin', 'Operator', 'prepaid', 0, 0, 'USD',"
                " 'active', '', 'sip', '', 'desk-7', :ha1, 'siptar', false, '',"
                " '2026-11-01 00:00:00')"
            ),
            {"ha1": HA1},
        )
    migrate.upgrade(url_at_0018)
    factory = make_session_factory(engine)
    with factory() as s:
        for view in VIEWS[:3]:  # endpoints, auths, aors
            found = (
                s.execute(text(f"SELECT id FROM {view.name}")).scalars().all()
                if backend == "postgresql"
                else [r.id for r in s.execute(view.select(False))]
            )
            assert found == ["desk-7"], view.name
        first = fingerprint(s)
        s.execute(text("UPDATE accounts SET status = 'blocked' WHERE id = 1"))
        s.commit()
        assert int(fingerprint(s)) > int(first)
    engine.dispose()
