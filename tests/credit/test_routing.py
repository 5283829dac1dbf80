"""Routes: the four strategies' orders, the loss guard, trunk channel limits, the
longest prefix; and the routing operations of the config service over HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from client.errors import AccessDenied, AlreadyExists, InvalidInput
from db.schema import Account, Cdr
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, Reason, authorize
from services.credit.routing import plan_route
from tests.credit.builders import NOON, route, trunk

D = Decimal
SPAIN = "34911234567"
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def trunks(uow: Uow) -> dict[str, int]:
    """Three trunks for Spain: buy 0.0050, 0.0100 and 0.0300 per minute. The operator
    sells Spain to Reseller One at 0.0120 (Wholesale), so `dear` loses money. Alice's calls
    are capped at 60 s, so that her 10.00 pays for every authorization of a test."""
    with uow() as u:
        u.session.execute(update(Account).where(Account.id == 3).values(max_call_seconds=60))
        return {
            "cheap": trunk(u, "cheap", {"34": "0.0050"}),
            "mid": trunk(u, "mid", {"34": "0.0100"}),
            "dear": trunk(u, "dear", {"34": "0.0300"}),
        }


def spain_route(uow: Uow, trunks: dict[str, int], strategy: str, **kw: Any) -> None:
    # Priorities: dear 0, mid 1, cheap 2.
    links = [(trunks["dear"], 0, 1), (trunks["mid"], 1, 1), (trunks["cheap"], 2, 1)]
    with uow() as u:
        route(u, "34", strategy, links, **kw)


def offered(uow: Uow, number: str = SPAIN, uniqueid: str = "") -> list[str]:
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest(number, "acct1001", uniqueid=uniqueid), NOON)
    assert a.allowed, a.reason
    return [t.name for t in a.trunks]


class TestStrategies:
    def test_lcr_offers_the_cheapest_buy_rate_first_and_leaves_out_a_loss(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "lcr")
        assert offered(uow) == ["cheap", "mid"]

    def test_a_route_that_allows_a_loss_offers_the_dear_trunk_last(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "lcr", allow_loss=True)
        assert offered(uow) == ["cheap", "mid", "dear"]

    def test_priority_keeps_the_fixed_order(self, uow: Uow, trunks: dict[str, int]) -> None:
        spain_route(uow, trunks, "priority", allow_loss=True)
        assert offered(uow) == ["dear", "mid", "cheap"]

    def test_balance_spreads_the_first_choice_evenly(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "balance")
        firsts = Counter(offered(uow)[0] for _ in range(4))
        assert firsts == {"mid": 2, "cheap": 2}

    def test_quality_offers_the_best_answer_ratio_first_and_unknown_trunks_last(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "quality", allow_loss=True)
        with uow() as u:
            for name, answered in [("cheap", 1), ("mid", 3)]:
                for i in range(4):
                    u.session.add(quality_cdr(f"{name}.{i}", trunks[name], i < answered))
            u.commit()
        assert offered(uow) == ["mid", "cheap", "dear"]

    def test_the_longest_prefix_picks_the_route(self, uow: Uow, trunks: dict[str, int]) -> None:
        spain_route(uow, trunks, "lcr")
        with uow() as u:
            route(u, "346", "priority", [(trunks["mid"], 0, 1)])
        assert offered(uow, "34612345678") == ["mid"]
        assert offered(uow, "34912345678") == ["cheap", "mid"]
        assert offered(uow, "4930123456") == ["carrier1"]  # the demo's default route


def quality_cdr(uniqueid: str, trunk_id: int, answered: bool) -> Cdr:
    start = NOON - timedelta(hours=1)
    return Cdr(
        uniqueid=uniqueid,
        start_time=start,
        end_time=start + timedelta(seconds=60),
        disposition="ANSWERED" if answered else "NO ANSWER",
        billsec=60 if answered else 0,
        trunk_id=trunk_id,
        status="unrated",
    )


class TestLimits:
    def test_a_trunk_at_its_channel_limit_is_left_out_until_a_call_ends(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        with uow() as u:
            full = trunk(u, "small", {"34": "0.0010"}, channel_limit=1)
            route(u, "34", "lcr", [(full, 0, 1), (trunks["mid"], 0, 1)])
        assert offered(uow, uniqueid="lim.1") == ["small", "mid"]
        assert offered(uow, uniqueid="lim.2") == ["mid"]
        with uow() as u:
            plan = plan_route(u.session, SPAIN, NOON, 2)
        assert [(c.name, why) for c, why in plan.excluded] == [("small", "channel limit")]

    def test_a_route_with_only_loss_making_trunks_refuses_the_call(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        with uow() as u:
            route(u, "34", "lcr", [(trunks["dear"], 0, 1)])
            a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001"), NOON)
        assert (a.allowed, a.reason, a.reservation_id) == (False, Reason.NO_ROUTE, None)


class TestRoutingOperations:
    def test_an_admin_builds_a_route_and_tests_it(
        self, client_for: Callable[[str, str], Any], demo: None
    ) -> None:
        api = client_for("admin", "admin")
        sheet = api.config.CreateRateSheet(sheet={"name": "Budget buy"})
        api.config.ImportRates(sheet_id=sheet.id, csv="prefix,price\n34,0.0060\n")
        provider = api.config.CreateProvider(name="Budget", buy_sheet_id=sheet.id)
        budget = api.config.CreateTrunk(
            trunk={"provider_id": provider.id, "name": "budget", "dial_string": "SIP/${NUMBER}@b"}
        )
        created = api.config.CreateRoute(
            route={
                "prefix": "+34",
                "name": "Spain",
                "strategy": "lcr",
                "trunks": [{"trunk_id": budget.id}, {"trunk_id": 1, "priority": 1}],
            }
        )
        assert (created.prefix, [t.trunk_id for t in created.trunks]) == ("34", [budget.id, 1])
        test = api.config.TestRoute(number="34911234567", account_id=3)
        assert test.sell_cost == D("0.012")
        assert [(t.name, t.buy_cost, t.dial_string, t.excluded) for t in test.trunks] == [
            ("budget", D("0.006"), "SIP/34911234567@b", None),
            ("carrier1", D("0.008"), "PJSIP/34911234567@carrier1", None),
        ]
        assert [p.name for p in api.config.ListProviders().items] == ["Carrier One", "Budget"]
        assert [r.prefix for r in api.config.ListRoutes().items] == [None, "34"]

    def test_bad_routing_requests_fault_and_resellers_are_refused(
        self, client_for: Callable[[str, str], Any], demo: None
    ) -> None:
        api = client_for("admin", "admin")
        with pytest.raises(InvalidInput):
            api.config.CreateTrunk(trunk={"provider_id": 1, "name": "x", "dial_string": "SIP/1"})
        with pytest.raises(AlreadyExists):
            api.config.CreateRoute(route={"prefix": "", "strategy": "priority"})
        with pytest.raises(AccessDenied):
            client_for("reseller", "reseller").config.TestRoute(number="34911234567")
        assert api.config.ListTrunks().total == 1


# The quality strategy's whole order (docs/credit_control.md, Routes): the answer-seizure
# ratio, then the average call, over the last 24 h; trunks with no calls last.
WINDOW_START = NOON - timedelta(hours=24)  # authorize runs at NOON


def calls(
    uow: Uow,
    trunk_id: int,
    answered: list[int],
    unanswered: int = 0,
    start: datetime = NOON - timedelta(hours=1),
) -> None:
    """CDRs carried by `trunk_id`: one answered call per billsec in `answered`, and
    `unanswered` calls that were not answered."""
    rows = [(True, billsec) for billsec in answered] + [(False, 0)] * unanswered
    with uow() as u:
        first = u.session.query(Cdr).count()
        for i, (was_answered, billsec) in enumerate(rows):
            u.session.add(
                Cdr(
                    uniqueid=f"q.{trunk_id}.{first + i}",
                    start_time=start,
                    end_time=start + timedelta(seconds=billsec),
                    disposition="ANSWERED" if was_answered else "NO ANSWER",
                    billsec=billsec,
                    trunk_id=trunk_id,
                    status="unrated",
                )
            )
        u.commit()


class TestQualityOrder:
    """Priorities: dear 0, mid 1, cheap 2 (tests/credit/test_routing.py)."""

    def test_the_answer_ratio_comes_before_the_average_call(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "quality", allow_loss=True)
        calls(uow, trunks["cheap"], answered=[30, 30, 30], unanswered=1)  # ASR 75 %, ACD 30
        calls(uow, trunks["mid"], answered=[600], unanswered=3)  # ASR 25 %, ACD 600
        assert offered(uow) == ["cheap", "mid", "dear"]

    def test_the_longer_average_call_breaks_a_tie_of_answer_ratios(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "quality", allow_loss=True)
        calls(uow, trunks["cheap"], answered=[120, 120], unanswered=2)
        calls(uow, trunks["mid"], answered=[60, 60], unanswered=2)
        assert offered(uow) == ["cheap", "mid", "dear"]

    def test_a_trunk_whose_calls_were_never_answered_comes_before_one_with_no_calls(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "quality", allow_loss=True)
        calls(uow, trunks["cheap"], answered=[], unanswered=2)
        assert offered(uow) == ["cheap", "dear", "mid"]

    def test_only_the_last_24_hours_count_and_one_call_is_data(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        spain_route(uow, trunks, "quality", allow_loss=True)
        calls(uow, trunks["mid"], answered=[60], start=WINDOW_START)  # just inside
        calls(uow, trunks["cheap"], answered=[60] * 5, start=WINDOW_START - timedelta(seconds=1))
        assert offered(uow) == ["mid", "dear", "cheap"]
