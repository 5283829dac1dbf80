"""The chain lock's "does this level hold a bundle" EXISTS (services/credit/chain_lock)
runs once per locked account in every Authorize: on PostgreSQL it must find the
account's bundles by an index on account_bundles(account_id), never by scanning the
table, once it holds a few thousand bundles. The index is the one on (account_id,
position) that bundle pricing reads them by (db/bundle_schema.AccountBundle): its first
column is all the EXISTS needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from db.session import UnitOfWork
from services.credit.chain_lock import _LOCK
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
ACCOUNTS = 2_000  # customers of the reseller, each holding two bundles
BUNDLES = 2


def plan_nodes(plan: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(plan["Node Type"], plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        found += plan_nodes(child)
    return found


def test_the_bundled_exists_is_an_index_scan_on_postgresql(uow: Uow) -> None:
    with uow() as u:
        s = u.session
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("the plan checked is PostgreSQL's")
        s.execute(
            text(
                "INSERT INTO accounts (parent_id, role, name, path, balance, credit_limit, "
                "billing_type, currency, status, status_reason, kind, company_name, created_at) "
                "SELECT 2, 'customer', 'c' || g, '', 0, 0, 'prepaid', 'USD', 'active', '', "
                "'sip', '', now() FROM generate_series(1, :n) g"
            ),
            {"n": ACCOUNTS},
        )
        s.execute(text("UPDATE accounts SET path = '/1/2/' || id || '/' WHERE path = ''"))
        s.execute(
            text(
                "INSERT INTO bundles (owner_id, name, unit, quantity, period, prefixes, "
                "per_second, carry_over, inbound, created_at) "
                "SELECT 2, 'b' || g, 'seconds', 600, 'monthly', '', false, false, false, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"n": BUNDLES},
        )
        s.execute(
            text(
                "INSERT INTO account_bundles (account_id, bundle_id, position, start, "
                "billing_day, created_at) "
                "SELECT a.id, b.id, b.id, DATE '2026-11-01', 1, now() "
                "FROM accounts a CROSS JOIN bundles b WHERE a.name LIKE 'c%' AND b.owner_id = 2"
            )
        )
        s.execute(text("ANALYZE accounts"))
        s.execute(text("ANALYZE account_bundles"))
        held = s.execute(text("SELECT count(*) FROM account_bundles")).scalar_one()
        assert held >= ACCOUNTS * BUNDLES
        # The lock's own statement, as lock_chain runs it for Alice's chain (EXPLAIN
        # alone takes no lock).
        # The driver's own parameters: `now` goes as the naive UTC the column stores.
        statement = _LOCK.params(ids=[ALICE_ID, RESELLER_ID], now=NOON.replace(tzinfo=None))
        expanded = statement.compile(dialect=s.get_bind().dialect).construct_expanded_state()
        explain = f"EXPLAIN (FORMAT JSON) {expanded.statement}"
        (plan,) = s.connection().exec_driver_sql(explain, expanded.parameters).scalar_one()
    nodes = plan_nodes(plan["Plan"])
    on_bundles = [kind for kind, relation in nodes if relation == "account_bundles"]
    assert on_bundles and all(k in ("Index Scan", "Index Only Scan") for k in on_bundles), nodes
