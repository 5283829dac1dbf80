"""The plan PostgreSQL keeps for Authorize's identify-and-lock statement
(services/credit/chain_lock.py): prepared once per connection under a generic plan
(db/prepared.py), so the plan is made without the call's values. Every account of the
chain must be found by its primary key and every level's bundles by an index, whatever
the size of the tables: with `id = ANY($1)` the generic plan of a table of a few
hundred accounts scanned all of them on every call, the bundles' EXISTS scanned
account_bundles for each level, and the due reservations' EXISTS, with 'open' a
parameter, could not use the partial index of open rows and read the whole table. Read
with EXPLAIN of the prepared statement itself. (The plain form of the lock, for SQLite
and the fallbacks: tests/bundles/test_bundled_index.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from db.session import UnitOfWork, make_engine, make_session_factory
from services.credit.authorize import AuthorizeRequest, authorize

pytestmark = [
    pytest.mark.usefixtures("demo"),
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

BUNDLES = 2  # held by every customer but the caller


def plan_nodes(plan: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(plan["Node Type"], plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        found += plan_nodes(child)
    return found


@pytest.fixture
def one_connection(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("customers", "by_index"),
    [
        # A small operator's tables, where a scan looks cheap to the planner: the chain's
        # accounts must still be found by primary key (the bundles' one EXISTS may scan
        # a few hundred rows once).
        (300, ("accounts", "reservations")),
        # A few thousand bundles: their EXISTS too must go by index.
        (2_000, ("accounts", "account_bundles", "reservations")),
    ],
)
def test_the_chain_is_locked_by_primary_key_under_the_generic_plan(
    one_connection: Engine, uow: Callable[[], UnitOfWork], customers: int, by_index: tuple[str]
) -> None:
    _a_tree_of(uow, customers)
    nodes = _generic_plan(one_connection, "siptar_identify_and_lock")
    scanned = [(kind, relation) for kind, relation in nodes if kind == "Seq Scan"]
    assert not [r for _, r in scanned if r in by_index], nodes
    assert ("Index Scan", "accounts") in nodes, nodes


def test_the_hold_updates_the_chain_by_primary_key_under_the_generic_plan(
    one_connection: Engine, uow: Callable[[], UnitOfWork]
) -> None:
    """The hold that commits with itself (services/credit/holds.py): its UPDATE of the
    chain's `reserved` joined a seq scan of every account under the generic plan, on a
    table of a few hundred accounts."""
    _a_tree_of(uow, 300)
    # The caller and its reseller: one text per chain length.
    nodes = _generic_plan(one_connection, "siptar_hold_and_commit_2")
    assert ("Seq Scan", "accounts") not in nodes, nodes
    assert nodes.count(("Index Scan", "accounts")) == 2, nodes


def _a_tree_of(uow: Callable[[], UnitOfWork], customers: int) -> None:
    """`customers` customers of reseller 2 (the caller is plan1), others' bundles, every
    other customer with an open and a settled reservation; then ANALYZE."""
    with uow() as u:
        s = u.session
        s.execute(
            text(
                "INSERT INTO accounts (parent_id, role, name, path, balance, credit_limit, "
                "billing_type, currency, status, status_reason, kind, company_name, "
                "accountcode, rate_sheet_id, created_at) "
                "SELECT 2, 'customer', 'c' || g, '', 10, 0, 'prepaid', 'USD', 'active', '', "
                "'sip', '', 'plan' || g, 4, now() FROM generate_series(1, :n) g"
            ),
            {"n": customers},
        )
        s.execute(text("UPDATE accounts SET path = '/1/2/' || id || '/' WHERE path = ''"))
        s.execute(
            text(
                "INSERT INTO bundles (owner_id, name, unit, quantity, period, prefixes, "
                "per_second, carry_over, inbound, created_at) "
                "SELECT 2, 'b' || g, 'seconds', 600, 'monthly', '99', false, false, false, "
                "now() FROM generate_series(1, :n) g"
            ),
            {"n": BUNDLES},
        )
        # Bundles held by others (none by the caller's chain): the EXISTS finds nothing.
        s.execute(
            text(
                "INSERT INTO account_bundles (account_id, bundle_id, position, start, "
                "billing_day, created_at) SELECT a.id, b.id, b.id, DATE '2026-11-01', 1, now() "
                "FROM accounts a CROSS JOIN bundles b WHERE a.name LIKE 'c%' AND a.name <> 'c1'"
            )
        )
        # Every other customer has a call up and an older one settled: the EXISTS of due
        # reservations must go by the partial index of open rows.
        for status, start in (("open", "now()"), ("settled", "now() - interval '1 day'")):
            s.execute(
                text(
                    "INSERT INTO reservations (account_id, number, amount, max_seconds, "
                    "reserved_seconds, status, uniqueid, created_at, expires_at) "
                    f"SELECT id, '34911234567', 0.1, 60, 60, '{status}', name || '{status}', "
                    f"{start}, {start} + interval '1 hour' FROM accounts WHERE name LIKE 'c%'"
                )
            )
        s.execute(text("ANALYZE"))
        u.commit()


def _generic_plan(one_connection: Engine, name: str) -> list[tuple[str, str]]:
    """The nodes of the plan that the one connection keeps for prepared statement
    `name`, read with EXPLAIN of its EXECUTE after two Authorizes (the first prepares
    it); checked to be the generic plan that every later call runs."""
    sent: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if f"EXECUTE {name}(" in statement:
            # The hold is sent with its COMMIT in one string: EXPLAIN the EXECUTE alone.
            sent.append((statement[statement.index("EXECUTE") :].split(";")[0], params))

    factory = make_session_factory(one_connection)
    event.listen(one_connection, "after_cursor_execute", grab)
    for n in range(2):
        with UnitOfWork(factory) as u:
            answer = authorize(u, None, AuthorizeRequest("34911234567", "plan1", uniqueid=f"p{n}"))
            assert answer.allowed, answer
    event.remove(one_connection, "after_cursor_execute", grab)
    statement, params = sent[-1]
    with UnitOfWork(factory) as u:
        explain = f"EXPLAIN (FORMAT JSON) {statement}"
        (plan,) = u.session.connection().exec_driver_sql(explain, params).scalar_one()
        generic = u.session.execute(
            text("SELECT generic_plans FROM pg_prepared_statements WHERE name = :name"),
            {"name": name},
        ).scalar_one()
    assert generic >= 2  # the plan read is the generic one every call runs
    return plan_nodes(plan["Plan"])
