"""Revision 0010 (credit slices) keeps the reservations written before it working: an
open reservation of the old kind held its whole call, so it holds all its max_seconds
after the upgrade, and the listener neither extends nor cuts it early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from db import migrate
from db.session import make_engine
from tests.integration.test_migrations import empty_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


def test_an_open_reservation_from_before_holds_its_whole_call(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url, "0007")
    engine = make_engine(empty_url)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, path, role, name, billing_type, balance, "
                "credit_limit, currency, status, status_reason, kind, company_name, "
                "sip_secret, restrict_ani, allowed_dnis, created_at) VALUES (1, '/1/', "
                "'admin', 'Operator', 'prepaid', 0, 0, 'USD', 'active', '', 'sip', '', '', "
                ":no, '', :now)"
            ),
            {"now": now, "no": False},
        )
        conn.execute(
            text(
                "INSERT INTO reservations (id, account_id, number, amount, max_seconds, "
                "status, uniqueid, created_at, expires_at) VALUES (1, 1, '34911234567', 0, "
                "3600, 'open', 'old.1', :now, :later)"
            ),
            {"now": now, "later": now + timedelta(hours=1)},
        )
    engine.dispose()
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT reserved_seconds, max_seconds, status FROM reservations")
        ).one()
        slices = conn.execute(
            text("SELECT credit_slice_seconds, min_call_seconds FROM accounts")
        ).one()
    engine.dispose()
    assert tuple(row) == (3600, 3600, "open")
    assert tuple(slices) == (None, None)
