"""Changing and retiring providers, trunks and routes over SOAP (docs/credit_control.md,
"Changing and retiring"): routing follows at once, nothing is deleted, a retired one
can't be changed, bad input changes nothing, every change is audited and bumps the
routing version stamp."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from client import errors
from db import config_versions
from db.schema import Cdr, Charge, LiveCall, Provider, Route, Trunk

pytestmark = pytest.mark.usefixtures("demo")
SPAIN = "34911234567"


@pytest.fixture
def api(client_for: Callable[[str, str], Any]) -> Any:
    return client_for("admin", "admin")


def budget_route(api: Any) -> tuple[int, int]:
    """A Spain route over the demo's carrier1 and a cheaper "budget" trunk."""
    sheet = api.config.CreateRateSheet(sheet={"name": "Budget buy"})
    api.config.ImportRates(sheet_id=sheet.id, csv="prefix,price\n34,0.0060\n")
    provider = api.config.CreateProvider(name="Budget", buy_sheet_id=sheet.id)
    budget = api.config.CreateTrunk(
        trunk={"provider_id": provider.id, "name": "budget", "dial_string": "SIP/${NUMBER}@b"}
    )
    route = api.config.CreateRoute(
        route={"prefix": "34", "trunks": [{"trunk_id": budget.id}, {"trunk_id": 1}]}
    )
    return int(route.id), int(budget.id)


def offered(api: Any) -> list[str]:
    a = api.billing.Authorize(call={"number": SPAIN, "account": "acct1001"})
    assert a.allowed, a.reason
    return [t.name for t in a.trunks]


def routing_version(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return config_versions.current(s, config_versions.ROUTING)


class TestTrunks:
    def test_a_disabled_trunk_leaves_routing_and_comes_back(
        self, api: Any, session_factory: Callable[[], Session]
    ) -> None:
        _, budget = budget_route(api)
        assert offered(api) == ["budget", "carrier1"]
        before = routing_version(session_factory)
        changed = api.config.UpdateTrunk(trunk_id=budget, changes={"status": "disabled"})
        assert changed.status == "disabled"
        # Moved (by the use case's bump and by the trunks' trigger, db/routing_triggers.py).
        assert routing_version(session_factory) > before
        assert offered(api) == ["carrier1"]
        test = api.config.TestRoute(number=SPAIN)
        assert [(t.name, t.excluded) for t in test.trunks] == [
            ("carrier1", None),
            ("budget", "inactive"),
        ]
        api.config.UpdateTrunk(trunk_id=budget, changes={"status": "active"})
        assert offered(api) == ["budget", "carrier1"]

    def test_a_retired_trunk_stays_listed_and_can_not_change(
        self, api: Any, session_factory: Callable[[], Session]
    ) -> None:
        api.config.UpdateTrunk(trunk_id=1, changes={"status": "retired"})
        with pytest.raises(errors.InvalidInput, match="retired"):
            api.config.UpdateTrunk(trunk_id=1, changes={"status": "active"})
        assert [(t.id, t.status) for t in api.config.ListTrunks().items] == [(1, "retired")]
        a = api.billing.Authorize(call={"number": SPAIN, "account": "acct1001"})
        assert (a.allowed, a.reason) == (False, "NoRoute")

    def test_fields_change_and_the_limit_can_be_cleared(self, api: Any) -> None:
        t = api.config.UpdateTrunk(
            trunk_id=1, changes={"dial_string": "PJSIP/${NUMBER}@c1", "name": "c1"}
        )
        assert (t.name, t.dial_string, t.channel_limit) == ("c1", "PJSIP/${NUMBER}@c1", 30)
        assert api.config.UpdateTrunk(trunk_id=1, changes={"channel_limit": 5}).channel_limit == 5
        cleared = api.config.UpdateTrunk(trunk_id=1, changes={"clear_channel_limit": True})
        assert cleared.channel_limit is None

    def test_bad_changes_fault_and_change_nothing(
        self,
        api: Any,
        client_for: Callable[[str, str], Any],
        session_factory: Callable[[], Session],
    ) -> None:
        budget_route(api)
        before = routing_version(session_factory)
        with pytest.raises(errors.InvalidInput):
            api.config.UpdateTrunk(trunk_id=1, changes={"dial_string": "PJSIP/no-number"})
        with pytest.raises(errors.AlreadyExists):
            api.config.UpdateTrunk(trunk_id=1, changes={"name": "budget", "status": "disabled"})
        with pytest.raises(errors.SchemaValidationError):
            api.config.UpdateTrunk(trunk_id=1, changes={"status": "gone"})
        with pytest.raises(errors.NotFound):
            api.config.UpdateTrunk(trunk_id=999, changes={"status": "disabled"})
        with pytest.raises(errors.AccessDenied):
            client_for("reseller", "reseller").config.UpdateTrunk(
                trunk_id=1, changes={"status": "disabled"}
            )
        with session_factory() as s:
            trunk = s.get(Trunk, 1)
            assert trunk is not None
            assert (trunk.name, trunk.status, trunk.dial_string) == (
                "carrier1",
                "active",
                "PJSIP/${NUMBER}@carrier1",
            )
        assert routing_version(session_factory) == before


class TestProviders:
    def test_a_disabled_provider_takes_its_trunks_out(self, api: Any) -> None:
        budget_route(api)
        provider = api.config.ListProviders().items[-1]
        api.config.UpdateProvider(provider_id=provider.id, changes={"status": "disabled"})
        assert offered(api) == ["carrier1"]

    def test_a_new_buy_sheet_reorders_lcr(self, api: Any) -> None:
        budget_route(api)
        dear = api.config.CreateRateSheet(sheet={"name": "Budget, dearer"})
        api.config.ImportRates(sheet_id=dear.id, csv="prefix,price\n34,0.0090\n")
        provider = api.config.ListProviders().items[-1]
        changed = api.config.UpdateProvider(
            provider_id=provider.id, changes={"buy_sheet_id": dear.id, "name": "Budget 2"}
        )
        assert (changed.name, changed.buy_sheet_id) == ("Budget 2", dear.id)
        assert offered(api) == ["carrier1", "budget"]
        with pytest.raises(errors.NotFound):
            api.config.UpdateProvider(provider_id=provider.id, changes={"buy_sheet_id": 999})


class TestRoutes:
    def test_strategy_trunks_and_weights_change(self, api: Any) -> None:
        route, budget = budget_route(api)
        changed = api.config.UpdateRoute(
            route_id=route,
            changes={
                "strategy": "priority",
                "set_trunks": True,
                "trunks": [{"trunk_id": 1, "priority": 0}, {"trunk_id": budget, "priority": 1}],
            },
        )
        assert changed.strategy == "priority"
        assert [(t.trunk_id, t.priority) for t in changed.trunks] == [(1, 0), (budget, 1)]
        assert offered(api) == ["carrier1", "budget"]
        only = api.config.UpdateRoute(
            route_id=route, changes={"set_trunks": True, "trunks": [{"trunk_id": budget}]}
        )
        assert [t.trunk_id for t in only.trunks] == [budget]
        assert offered(api) == ["budget"]
        with pytest.raises(errors.InvalidInput):
            api.config.UpdateRoute(
                route_id=route,
                changes={"set_trunks": True, "trunks": [{"trunk_id": 1}, {"trunk_id": 1}]},
            )
        assert [t.trunk_id for t in api.config.ListRoutes().items[1].trunks] == [budget]

    def test_a_disabled_route_falls_back_to_the_shorter_prefix(self, api: Any) -> None:
        route, _ = budget_route(api)
        api.config.UpdateRoute(route_id=route, changes={"status": "disabled"})
        assert offered(api) == ["carrier1"]  # the default route's one trunk
        assert api.config.TestRoute(number=SPAIN).prefix is None  # "" comes back as None

    def test_a_prefix_taken_by_another_route_is_refused(self, api: Any) -> None:
        route, _ = budget_route(api)
        with pytest.raises(errors.AlreadyExists):
            api.config.UpdateRoute(route_id=route, changes={"prefix": ""})
        assert api.config.UpdateRoute(route_id=route, changes={"prefix": "+3491"}).prefix == "3491"


class TestNothingIsDeleted:
    def test_a_retired_trunk_and_provider_keep_their_rows_and_cdrs(
        self, api: Any, session_factory: Callable[[], Session]
    ) -> None:
        with session_factory() as s:
            cdrs = s.scalar(select(func.count()).select_from(Cdr))
        api.config.UpdateTrunk(trunk_id=1, changes={"status": "retired"})
        api.config.UpdateProvider(provider_id=1, changes={"status": "retired"})
        api.config.UpdateRoute(route_id=1, changes={"status": "retired"})
        with session_factory() as s:
            assert [x.status for x in (s.get(Trunk, 1), s.get(Provider, 1), s.get(Route, 1))] == [
                "retired"
            ] * 3
            assert s.scalar(select(func.count()).select_from(Cdr)) == cdrs

    def test_each_change_is_in_the_audit_log(self, api: Any) -> None:
        api.config.UpdateTrunk(trunk_id=1, changes={"status": "disabled"})
        found = api.reseller.ListAuditEvents(operation="Config.UpdateTrunk").items
        (event,) = [e for e in found if e.object_type == "trunks"]
        assert event.object_id == "1"
        assert json.loads(event.changes)["status"] == ["active", "disabled"]
        # Only the trunk: the routes' stamp is bumped by the database's triggers
        # (db/routing_triggers.py), not by a statement of the change.
        assert {e.object_type for e in found} == {"trunks"}


class TestTrunkStatus:
    def test_calls_up_channels_quality_and_cost_today(
        self, api: Any, session_factory: Callable[[], Session]
    ) -> None:
        idle = api.config.GetTrunkStatus(trunk_id=1)
        assert (idle.name, idle.channel_limit, idle.calls_up, idle.calls_last_hour) == (
            "carrier1",
            30,
            0,
            0,
        )
        assert idle.cost_today == Decimal(0)
        # Two calls settled over carrier1 (one answered, one not), one still held.
        first = api.billing.Authorize(call={"number": SPAIN, "account": "acct1001"})
        api.billing.SettleCall(
            call={"uniqueid": "ts.1", "reservation_id": first.reservation_id, "billsec": 125}
        )
        api.billing.SettleCall(
            call={
                "uniqueid": "ts.2",
                "billsec": 0,
                "account_id": 3,
                "number": SPAIN,
                "trunk_id": 1,
                "disposition": "NO ANSWER",
            }
        )
        api.billing.Authorize(call={"number": SPAIN, "account": "acct1001"})
        with session_factory() as s:  # what the AMI listener keeps of a call up
            s.add(LiveCall(uniqueid="up.1", trunk_id=1, number=SPAIN, state="up"))
            s.commit()
        status = api.config.GetTrunkStatus(trunk_id=1)
        assert (status.calls_up, status.channels_held) == (1, 1)
        assert (status.calls_last_hour, status.answered_last_hour) == (2, 1)
        assert (status.asr, status.acd) == (Decimal(50), Decimal(125))
        # Cost today is what the provider charges of its calls say, to the millionth.
        with session_factory() as s:
            owed = s.scalar(
                select(func.sum(Charge.cost)).where(
                    Charge.provider_id == 1, Charge.account_id.is_(None)
                )
            )
        assert owed and status.cost_today == owed
        with pytest.raises(errors.NotFound):
            api.config.GetTrunkStatus(trunk_id=999)
