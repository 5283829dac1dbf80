"""Revision 0016 (fast Authorize) fills `accounts.reserved` from the reservations written
before it, and from then on the trigger keeps it: open rows count, closed ones do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, text

from db import migrate
from db.session import make_engine
from db.types import Money, UtcDateTime
from tests.integration.test_migrations import empty_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration

ACCOUNT = (
    "INSERT INTO accounts (id, parent_id, path, role, name, billing_type, balance, "
    "credit_limit, currency, status, status_reason, kind, company_name, restrict_ani, "
    "allowed_dnis, created_at) VALUES (:id, :parent, :path, :role, :name, 'prepaid', 0, 0, "
    "'USD', 'active', '', 'sip', '', :no, '', :now)"
)
RESERVATION = text(
    "INSERT INTO reservations (account_id, number, amount, max_seconds, status, uniqueid, "
    "created_at, expires_at) VALUES (:account, '34911234567', :amount, 600, :status, :u, "
    ":now, :later)"
).bindparams(
    bindparam("amount", type_=Money()),
    bindparam("now", type_=UtcDateTime()),
    bindparam("later", type_=UtcDateTime()),
)


def reserved(url: str) -> dict[int, Decimal]:
    engine = make_engine(url)
    money = Money()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, reserved FROM accounts ORDER BY id")).all()
        dialect = conn.dialect
    engine.dispose()
    return {int(i): money.process_result_value(r, dialect) or Decimal(0) for i, r in rows}


def test_reserved_is_backfilled_and_then_kept(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url, "0018")
    engine = make_engine(empty_url)
    now = datetime.now(UTC).replace(microsecond=0)
    later = now + timedelta(hours=1)
    with engine.begin() as conn:
        for id_, parent, path, role in ((1, None, "/1/", "admin"), (2, 1, "/1/2/", "customer")):
            conn.execute(
                text(ACCOUNT),
                {
                    "id": id_,
                    "parent": parent,
                    "path": path,
                    "role": role,
                    "name": role,
                    "no": False,
                    "now": now.replace(tzinfo=None),
                },
            )
        for account, amount, status in (
            (2, "1.500000", "open"),
            (2, "2.250001", "open"),
            (2, "9.000000", "settled"),
            (2, "4.000000", "expired"),
            (1, "0.500000", "released"),
        ):
            conn.execute(
                RESERVATION,
                {
                    "account": account,
                    "amount": Decimal(amount),
                    "status": status,
                    "u": f"old.{amount}",
                    "now": now,
                    "later": later,
                },
            )
    engine.dispose()
    migrate.upgrade(empty_url)
    assert reserved(empty_url) == {1: Decimal(0), 2: Decimal("3.750001")}
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            RESERVATION,
            {
                "account": 1,
                "amount": Decimal("0.25"),
                "status": "open",
                "u": "new.1",
                "now": now,
                "later": later,
            },
        )
        conn.execute(
            text("UPDATE reservations SET status = 'settled' WHERE uniqueid = 'old.1.500000'")
        )
    engine.dispose()
    assert reserved(empty_url) == {1: Decimal("0.25"), 2: Decimal("2.250001")}
    migrate.downgrade(empty_url, "0018")
    migrate.upgrade(empty_url)
    assert reserved(empty_url) == {1: Decimal("0.25"), 2: Decimal("2.250001")}
