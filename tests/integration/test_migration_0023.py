"""Revision 0023 (rule versions of rate sheets) keeps the sheets written before it
rating as before: a sheet without versions is its own first rule, and after the
upgrade a rule version can be added to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, text

from db import migrate
from db.config_schema import SheetRuleVersion
from db.rates import load_sheet
from db.session import make_engine, make_session_factory
from db.types import Money
from rating import CallToRate, compile_sheet
from tests.integration.test_migrations import empty_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 2, 10, tzinfo=UTC)


def test_a_sheet_from_before_rates_as_before_and_takes_a_version(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url, "0013c")
    engine = make_engine(empty_url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, role, name, path, balance, credit_limit, "
                "billing_type, currency, status, status_reason, kind, company_name, "
                "created_at) VALUES (1, 'admin', 'Operator', '/1/', 0, 0, 'prepaid', "
                "'USD', 'active', '', 'sip', '', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO rate_sheets (id, owner_id, name, currency, decimals, rounding, "
                "block_mode, timezone, version, created_at) "
                "VALUES (1, 1, 'Old', 'USD', 2, 'up', 'whole_call', 'UTC', 3, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO rates (sheet_id, prefix, destination, price, tiers, "
                "initial_increment, increment, connect_fee, included_seconds, free_below, "
                "min_cost, weekdays, holidays) "
                "VALUES (1, '34', 'Spain', :price, '', 45, 60, 0, 0, 0, 0, '', '')"
            ).bindparams(bindparam("price", Decimal("0.10"), type_=Money))
        )
    engine.dispose()
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with make_session_factory(engine)() as s:
            sheet = load_sheet(s, 1)
            assert (sheet.rules, sheet.decimals, sheet.version) == ((), 2, 3)
            call = CallToRate("3412", START, 46)
            assert compile_sheet(sheet).rate_call(call).cost == Decimal("0.10")  # whole call, up
            s.add(
                SheetRuleVersion(
                    sheet_id=1,
                    effective_from=START + timedelta(hours=1),
                    decimals=4,
                    rounding="half_up",
                    block_mode="first_block",
                    timezone="UTC",
                )
            )
            s.commit()
            plan = compile_sheet(load_sheet(s, 1))
        assert plan.rate_call(call).cost == Decimal("0.10")
        later = CallToRate("3412", START + timedelta(hours=2), 46)
        assert plan.rate_call(later).cost == Decimal("0.1750")
    finally:
        engine.dispose()
