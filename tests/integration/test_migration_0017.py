"""Revision 0017 (configuration manager) keeps the routes written before it working:
a route gets the status `active`, so its trunks are offered as before; a provider or
trunk status that was never one of active/disabled/retired becomes `disabled` (it was
not routed before either)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from db import migrate
from db.session import make_engine, make_session_factory
from services.credit.routing import plan_route
from tests.integration.test_migrations import empty_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


def test_routes_from_before_route_as_before(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url, "0018")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO providers (id, name, status, created_at) VALUES "
                "(1, 'Old', 'active', :now), (2, 'Odd', 'inactive', :now)"
            ),
            {"now": datetime.now(UTC).replace(tzinfo=None)},
        )
        conn.execute(
            text(
                "INSERT INTO trunks (id, provider_id, name, dial_string, status, sip_host) "
                "VALUES (1, 1, 'old', 'SIP/${NUMBER}@old', 'active', ''), "
                "(2, 2, 'odd', 'SIP/${NUMBER}@odd', 'active', '')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO routes (id, prefix, name, strategy, allow_loss) "
                "VALUES (1, '', 'default', 'priority', :no)"
            ),
            {"no": False},
        )
        conn.execute(
            text(
                "INSERT INTO route_trunks (route_id, trunk_id, priority, weight) "
                "VALUES (1, 1, 0, 1), (1, 2, 1, 1)"
            )
        )
    engine.dispose()
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM providers ORDER BY id")).all()
            route = conn.execute(text("SELECT status FROM routes")).scalar_one()
        assert [s for (s,) in statuses] == ["active", "disabled"]
        assert route == "active"
        with make_session_factory(engine)() as session:
            plan = plan_route(session, "34911234567", datetime.now(UTC), None)
        assert plan.route_id == 1
        # Neither has a buy sheet; the odd provider's trunk is left out as inactive.
        assert [(c.name, why) for c, why in plan.excluded] == [
            ("old", "no buy rate"),
            ("odd", "inactive"),
        ]
    finally:
        engine.dispose()
