"""Routing rules the strategy tests leave open (found by mutation testing,
docs/mutation.md): a route for a whole number, no route at all, and the 24-hour window
of the `balance` strategy, edge included (docs/credit_control.md, Routes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, update

from db.schema import Account, Provider, Reservation, Route, RouteTrunk, Trunk
from db.session import UnitOfWork
from rating.errors import NotFound
from rating.model import CallToRate
from services.cdr.usecases import Outcome
from services.credit.authorize import AuthorizeRequest, Reason, authorize
from services.credit.routing import RoutePlan, open_channels, plan_for, plan_route, preload_plans
from tests.credit.builders import NOON, route, trunk
from tests.credit.test_authorize import cdr, record

SPAIN = "34911234567"
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def trunks(uow: Uow) -> dict[str, int]:
    """Two trunks for Spain, both cheaper than the operator's 0.0120 (no loss). Alice's
    calls are capped at 60 s, so her 10.00 pays for every call of a test."""
    with uow() as u:
        u.session.execute(update(Account).where(Account.id == 3).values(max_call_seconds=60))
        return {
            "mid": trunk(u, "mid", {"34": "0.0100"}),
            "cheap": trunk(u, "cheap", {"34": "0.0050"}),
        }


def first_offered(uow: Uow, now: datetime = NOON, number: str = SPAIN, uniqueid: str = "") -> str:
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest(number, "acct1001", uniqueid=uniqueid), now)
    assert a.allowed, a.reason
    return a.trunks[0].name


def switch_strategy(uow: Uow, strategy: str) -> None:
    with uow() as u:
        u.session.execute(update(Route).where(Route.prefix == "34").values(strategy=strategy))
        u.commit()


class TestWhichRoute:
    def test_a_route_for_the_whole_number_wins(self, uow: Uow, trunks: dict[str, int]) -> None:
        with uow() as u:
            route(u, "34", "priority", [(trunks["cheap"], 0, 1)])
            route(u, SPAIN, "priority", [(trunks["mid"], 0, 1)])
        assert first_offered(uow) == "mid"
        assert first_offered(uow, number=SPAIN[:-1]) == "cheap"

    def test_read_from_the_database_the_route_is_the_longest_active_prefix(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        # plan_route without a routing stamp (the route preview of the config service)
        # reads the route itself (find_route), by the rules the route cache follows.
        with uow() as u:
            route(u, "34", "priority", [(trunks["cheap"], 0, 1)])
            whole = route(u, SPAIN, "priority", [(trunks["mid"], 0, 1)])
            route(u, "4420123456789012", "priority", [(trunks["mid"], 0, 1)])  # the longest

        def prefix_for(number: str) -> str:
            with uow() as u:
                return plan_route(u.session, number, NOON, 2).prefix

        assert prefix_for(SPAIN) == SPAIN
        assert prefix_for(SPAIN[:-1]) == "34"
        with uow() as u:
            u.session.execute(update(Route).where(Route.id == whole).values(status="disabled"))
            u.commit()
        assert prefix_for(SPAIN) == "34"

    def test_a_route_without_trunks_is_found_and_offers_none(self, uow: Uow) -> None:
        # Read from the database (the config service's preview): the route is the
        # number's, with nothing to offer; Authorize then refuses for want of a route.
        with uow() as u:
            empty = route(u, "34", "lcr", [])
        with uow() as u:
            plan = plan_route(u.session, SPAIN, NOON, 2)
        assert (plan.route_id, plan.prefix, plan.trunks, plan.excluded) == (empty, "34", (), ())
        with uow() as u:
            a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001"), NOON)
        assert (a.allowed, a.reason) == (False, Reason.NO_ROUTE)

    def test_with_no_route_at_all_nothing_is_offered_and_the_call_is_refused(
        self, uow: Uow
    ) -> None:
        with uow() as u:  # the demo's default route "" goes
            u.session.execute(delete(RouteTrunk))
            u.session.execute(delete(Route))
            u.commit()
        with uow() as u:
            assert plan_route(u.session, SPAIN, NOON, 2) == RoutePlan(
                None, "", "", False, None, (), ()
            )
            a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001"), NOON)
        assert (a.allowed, a.reason, a.reservation_id, a.trunks) == (
            False,
            Reason.NO_ROUTE,
            None,
            (),
        )


class TestWhatThePlanSays:
    """What TestRoute shows (docs/credit_control.md, Routes): the route found, the
    usable trunks with their providers, and each trunk left out with why."""

    def test_the_route_its_trunks_and_every_reason_to_leave_one_out(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        with uow() as u:
            extra = {
                "off": trunk(u, "off", {"34": "0.0010"}),
                "gone": trunk(u, "gone", {"34": "0.0010"}),
                "germany": trunk(u, "germany", {"49": "0.0010"}),
                "dear": trunk(u, "dear", {"34": "0.0300"}),
                "even": trunk(u, "even", {"34": "0.0120"}),  # buys at what it sells
            }
            links = [(t, 0, 1) for t in [*trunks.values(), *extra.values()]]
            route_id = route(u, "34", "lcr", links)
            off = u.session.get(Trunk, extra["off"])
            gone = u.session.get(Trunk, extra["gone"])
            assert off is not None and gone is not None
            off.status = "disabled"  # its provider is active
            provider = u.session.get(Provider, gone.provider_id)
            assert provider is not None
            provider.status = "disabled"  # the trunk itself is active
            u.commit()
        with uow() as u:
            plan = plan_route(u.session, SPAIN, NOON, 2)  # sold at Wholesale: 0.0120
            ids = [*trunks.values(), extra["even"]]
            providers = {t: u.session.get(Trunk, t).provider_id for t in ids}  # type: ignore[union-attr]
        assert (plan.route_id, plan.prefix, plan.strategy, plan.allow_loss, plan.sell_cost) == (
            route_id,
            "34",
            "lcr",
            False,
            Decimal("0.012"),
        )
        assert [(c.name, c.provider_id, c.provider, c.buy_cost) for c in plan.trunks] == [
            ("cheap", providers[trunks["cheap"]], "cheap provider", Decimal("0.005")),
            ("mid", providers[trunks["mid"]], "mid provider", Decimal("0.01")),
            ("even", providers[extra["even"]], "even provider", Decimal("0.012")),
        ]
        assert {c.name: why for c, why in plan.excluded} == {
            "off": "inactive",
            "gone": "inactive",
            "germany": "no buy rate",
            "dear": "loss",
        }


class TestBalanceWindow:
    """`balance` counts the calls each trunk was offered first over the last 24 hours;
    one offered exactly 24 hours ago still counts, as in `quality`'s window."""

    def calls_offered_to_mid(self, uow: Uow, trunks: dict[str, int], n: int, at: datetime) -> None:
        with uow() as u:  # fixed order first: mid, then cheap
            route(u, "34", "priority", [(trunks["mid"], 0, 1), (trunks["cheap"], 1, 1)])
        for _ in range(n):
            assert first_offered(uow, at) == "mid"
        switch_strategy(uow, "balance")

    def test_calls_older_than_24_hours_do_not_count(self, uow: Uow, trunks: dict[str, int]) -> None:
        self.calls_offered_to_mid(uow, trunks, 3, NOON - timedelta(hours=24, seconds=1))
        assert first_offered(uow) == "mid"  # a tie at 0: priority

    def test_a_call_offered_exactly_24_hours_ago_counts(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        self.calls_offered_to_mid(uow, trunks, 1, NOON - timedelta(hours=24))
        assert first_offered(uow) == "cheap"


class TestBalanceWeights:
    def test_a_trunk_of_weight_two_is_offered_first_twice_as_often(
        self, uow: Uow, trunks: dict[str, int]
    ) -> None:
        with uow() as u:
            route(u, "34", "balance", [(trunks["mid"], 0, 2), (trunks["cheap"], 1, 1)])
        # first offers per unit of weight: ties go to mid (priority 0)
        firsts = [first_offered(uow) for _ in range(6)]
        assert firsts == ["mid", "cheap", "mid", "mid", "cheap", "mid"]


class TestChannelsInUse:
    @pytest.fixture
    def limited(self, uow: Uow) -> dict[str, int]:
        """Spain over "one" (1 channel), then "two" (2); Alice's calls capped at 60 s."""
        with uow() as u:
            u.session.execute(update(Account).where(Account.id == 3).values(max_call_seconds=60))
            one = trunk(u, "one", {"34": "0.0010"}, channel_limit=1)
            two = trunk(u, "two", {"34": "0.0020"}, channel_limit=2)
            route(u, "34", "lcr", [(one, 0, 1), (two, 0, 1)])
        return {"one": one, "two": two}

    @pytest.mark.usefixtures("limited")
    def test_each_limited_trunk_counts_its_own_open_calls_and_a_settled_call_frees_one(
        self, uow: Uow
    ) -> None:
        assert first_offered(uow, uniqueid="ch.1") == "one"
        assert first_offered(uow, uniqueid="ch.2") == "two"  # one is full
        assert in_use(uow) == ({"two": 1}, {"one": (1, "channel limit")})
        dst = "PJSIP/one-00000001"
        assert record(uow, cdr("ch.1", "acct1001", 30, dstchannel=dst)) is Outcome.RATED
        assert in_use(uow) == ({"one": 0, "two": 1}, {})
        assert first_offered(uow, uniqueid="ch.3") == "one"

    def test_a_channel_freed_in_the_same_transaction_counts_as_free(
        self, uow: Uow, limited: dict[str, int]
    ) -> None:
        # `freed`: open calls this transaction closed and has not yet taken off the
        # trunk's count (Authorize's own expiry): the full trunk is offered again.
        one = limited["one"]
        assert first_offered(uow, uniqueid="fr.1") == "one"
        with uow() as u:
            full = plan_route(u.session, SPAIN, NOON, 2)
            freed = plan_route(u.session, SPAIN, NOON, 2, freed={one: -1})
        assert [c.name for c in full.trunks] == ["two"]
        assert [(c.name, c.channels_in_use) for c in freed.trunks] == [("one", 0), ("two", 0)]


def in_use(uow: Uow) -> tuple[dict[str, int], dict[str, tuple[int, str]]]:
    """Channels in use of the offered trunks, and of the ones left out with why."""
    with uow() as u:
        plan = plan_route(u.session, SPAIN, NOON, 2)
    offered = {c.name: c.channels_in_use for c in plan.trunks}
    return offered, {c.name: (c.channels_in_use, why) for c, why in plan.excluded}


def hold(
    u: UnitOfWork, trunk_id: int | None, status: str = "open", parent: int | None = None
) -> int:
    """A reservation row as the holds write them: the customer's (parent None) or a
    reseller's share of it (parent set, same trunk)."""
    row = Reservation(
        account_id=3 if parent is None else 2,
        number=SPAIN,
        amount=Decimal("0.10"),
        max_seconds=60,
        status=status,
        expires_at=NOON + timedelta(hours=1),
        trunk_id=trunk_id,
        parent_id=parent,
    )
    u.session.add(row)
    u.session.flush()
    return row.id


class TestOpenChannels:
    """`open_channels`, what GetTrunkStatus shows as channels held: a trunk's open calls
    are its customers' open reservations, one row a call whatever the reseller levels."""

    def test_counts_each_trunks_open_calls_once_and_nothing_else(self, uow: Uow) -> None:
        with uow() as u:
            one = trunk(u, "one", {"34": "0.0010"})
            two = trunk(u, "two", {"34": "0.0020"})
            idle = trunk(u, "idle", {"34": "0.0030"})
            first = hold(u, one)
            hold(u, one, parent=first)  # the reseller's share: the same call
            hold(u, one)
            hold(u, two)
            for done in ("settled", "released", "expired"):
                hold(u, two, status=done)
            hold(u, None)  # a call offered no trunk
            hold(u, idle, status="settled")
            u.commit()
        with uow() as u:
            assert open_channels(u.session, [one, two, idle]) == {one: 2, two: 1}
            assert open_channels(u.session, [two]) == {two: 1}
            assert open_channels(u.session, []) == {}


class TestPreloadPlans:
    def test_fills_the_memo_of_several_sheets_in_one_statement_and_keeps_what_it_has(
        self, uow: Uow
    ) -> None:
        with uow() as u:  # compiled once in this process (db/rates.PlanCache)
            warm = {i: plan_for(u.session, i) for i in (2, 3, 4)}
        with uow() as u:
            seen: list[str] = []
            engine = u.session.get_bind()

            def count(*args: object) -> None:
                if not str(args[2]).startswith("BEGIN"):  # SQLite's own BEGIN IMMEDIATE
                    seen.append(str(args[2]))

            event.listen(engine, "before_cursor_execute", count)
            try:
                # A new session, no memo yet: one statement reads both sheets' versions.
                preload_plans(u.session, [3, 4])
                assert len(seen) == 1 and "rate_sheets.version" in seen[0], seen
                kept = plan_for(u.session, 2)  # not preloaded: read on its own
                assert len(seen) == 2, seen
                preload_plans(u.session, [2, 3, 4])
                assert len(seen) == 2, seen  # all three known: no statement
                # plan_for answers from the memo, with no statement of its own.
                assert plan_for(u.session, 2) is kept
                by_id = {i: plan_for(u.session, i) for i in (3, 4)}
                assert len(seen) == 2, seen
            finally:
                event.remove(engine, "before_cursor_execute", count)
        # Each sheet's own plan, not another's (sheets 3 and 4 price Spain differently).
        assert by_id == {3: warm[3], 4: warm[4]}
        probe = CallToRate(SPAIN, NOON, 60, True)
        assert by_id[3].rate_call(probe).cost != by_id[4].rate_call(probe).cost
        with uow() as u, pytest.raises(NotFound) as missing:
            plan_for(u.session, 999)
        assert missing.value.message == "rate sheet 999 not found"
