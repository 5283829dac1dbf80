"""Authorize rules of docs/credit_control.md that test_authorize.py leaves open, through
the public `authorize()` only (so they keep holding when its inside is rewritten):
who is identified first, what counts as credit, the caps of a reseller, and what the
answer reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from db.bundle_schema import BundleHold
from db.callshop_schema import Booth, BoothSession, CallShop
from db.currency_schema import ExchangeRateRow
from db.rates import bump_version, row_values
from db.schema import Account, Reservation, Trunk
from db.schema import Rate as RateRow
from db.session import UnitOfWork
from rating.errors import InvalidInput
from services.cdr.usecases import Outcome
from services.credit import authorize as authorize_module
from services.credit import call_hold as call_hold_module
from services.credit import reserve as reserve_module
from services.credit.authorize import AuthorizeRequest, Reason, authorize
from services.credit.expiry import EXPIRY_MARGIN
from services.credit.policy import CreditPolicy
from tests.bundles.builders import give_bundle
from tests.credit.builders import (
    ALICE_ID,
    NOON,
    RESELLER_ID,
    RESELLER_RETAIL,
    bind_callerid,
    customer,
    route,
    trunk,
)
from tests.credit.test_authorize import (
    SPAIN,
    WHOLE_CALL,
    auth,
    cdr,
    record,
    reservations,
    set_fields,
)
from tests.onnet.conftest import BOB_ID as ONNET_BOB_ID
from tests.onnet.conftest import BOB_PEER, ON_NET_RATE
from tests.onnet.test_onnet_dids import did

D = Decimal
Uow = Callable[[], UnitOfWork]
BOB_ID = 4
CAROL_ID = 5

pytestmark = pytest.mark.usefixtures("demo")


class TestWhoCalls:
    def test_a_sip_peer_wins_over_another_accounts_accountcode_of_the_same_name(
        self, uow: Uow
    ) -> None:
        set_fields(uow, BOB_ID, sip_username="acct1001")  # Alice's accountcode
        assert auth(uow, account="acct1001").account_id == BOB_ID

    def test_a_login_username_identifies_its_account(self, uow: Uow) -> None:
        a = auth(uow, account="carol")
        assert (a.allowed, a.account_id) == (True, CAROL_ID)

    def test_a_pin_comes_before_the_account_and_the_caller_id(self, uow: Uow) -> None:
        with uow() as u:
            card = customer(u, "Card", credit=D(5), pin="55512345")
            bind_callerid(u, ALICE_ID, "34600111222")
        a = auth(uow, pin=" 55512345 ", account="acct1002", callerid="34600111222")
        assert a.account_id == card

    def test_the_account_comes_before_the_caller_id_and_an_unknown_name_falls_to_it(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            bind_callerid(u, ALICE_ID, "34600111222")
        assert auth(uow, account="acct1002", callerid="34600111222").account_id == BOB_ID
        assert auth(uow, account="nobody", callerid="34600111222").account_id == ALICE_ID

    def test_a_request_with_no_identity_is_invalid_and_changes_nothing(self, uow: Uow) -> None:
        with pytest.raises(InvalidInput) as raised:
            auth(uow, account="  ", callerid=" ", pin="")
        assert raised.value.message == "give account, callerid or pin to identify the caller"
        assert reservations(uow, ALICE_ID) == []

    def test_the_operator_itself_places_no_billed_calls(self, uow: Uow) -> None:
        a = auth(uow, account="admin")
        assert (a.allowed, a.reason, a.account_id, a.reservation_id) == (
            False,
            Reason.UNKNOWN_ACCOUNT,
            None,
            None,
        )

    def test_restrictions_compare_the_caller_id_and_access_number_without_spaces(
        self, uow: Uow
    ) -> None:
        set_fields(uow, ALICE_ID, restrict_ani=True, allowed_dnis=" , 8005551000,")
        with uow() as u:
            bind_callerid(u, ALICE_ID, "34600111222")
        a = auth(uow, account="acct1001", callerid=" 34600111222 ", dnis=" 8005551000 ")
        assert a.allowed, a.reason
        set_fields(uow, ALICE_ID, restrict_ani=False, allowed_dnis=" , ")  # no number: any
        assert auth(uow, account="acct1001", dnis="8009999999").allowed

    def test_a_caller_id_bound_to_another_account_does_not_pass_the_restriction(
        self, uow: Uow
    ) -> None:
        # Bob's caller ID identifies Bob, not Alice: Alice restricted to her own bound
        # caller IDs may not call with it, and the refusal names her account.
        set_fields(uow, ALICE_ID, restrict_ani=True)
        with uow() as u:
            bind_callerid(u, BOB_ID, "34600333444")
        a = auth(uow, account="acct1001", callerid="34600333444")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.ANI_NOT_ALLOWED, ALICE_ID)
        set_fields(uow, ALICE_ID, restrict_ani=False, allowed_dnis="8005551000")
        a = auth(uow, account="acct1001", dnis="8009999999")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.DNIS_NOT_ALLOWED, ALICE_ID)


class TestConcurrentCalls:
    """`max_concurrent_calls` counts the account's own calls in progress: its open
    reservations (docs/credit_control.md), not another account's, and for a reseller
    not the shares it holds of its customers' calls."""

    def test_only_the_accounts_own_open_calls_count_and_the_refusal_names_it(
        self, uow: Uow
    ) -> None:
        set_fields(uow, ALICE_ID, max_concurrent_calls=1)
        assert auth(uow, account="acct1002", uniqueid="bob.1").allowed  # Bob's call
        assert auth(uow, account="acct1001", uniqueid="alice.1").allowed
        a = auth(uow, account="acct1001", uniqueid="alice.2")
        assert (a.allowed, a.reason, a.account_id) == (
            False,
            Reason.CONCURRENT_CALL_LIMIT,
            ALICE_ID,
        )

    def test_a_resellers_own_call_does_not_count_its_customers_calls(self, uow: Uow) -> None:
        set_fields(uow, RESELLER_ID, max_concurrent_calls=1)
        assert auth(uow, account="acct1001", uniqueid="alice.1").allowed
        assert auth(uow, account="acct1002", uniqueid="bob.1").allowed
        # Reseller One holds a share of both calls, yet has no call of its own.
        own = auth(uow, account="reseller", uniqueid="reseller.1")
        assert (own.allowed, own.account_id) == (True, RESELLER_ID), own.reason
        refused = auth(uow, account="reseller", uniqueid="reseller.2")
        assert refused.reason == Reason.CONCURRENT_CALL_LIMIT


class TestCreditAndCaps:
    def test_a_bundle_not_yet_in_force_leaves_the_call_to_the_money(self, uow: Uow) -> None:
        # Alice holds a Spain bundle from next year: the chain has a bundle, none in
        # force, so her call is priced and held in money as if she had none.
        with uow() as u:
            give_bundle(u.session, RESELLER_ID, ALICE_ID, "Alice 2027", 600, date(2027, 1, 1))
            u.commit()
        a = auth(uow, account="acct1001", uniqueid="nb.1")
        assert (a.allowed, a.max_seconds) == (True, 10800), a.reason
        (mine,) = reservations(uow, ALICE_ID)
        assert (mine.amount, a.reserved) == (D("3.24"), D("3.24"))  # 3 h at 0.0180/min
        with uow() as u:
            assert u.session.scalar(select(func.count()).select_from(BundleHold)) == 0

    def test_a_prepaid_accounts_credit_limit_is_not_credit(self, uow: Uow) -> None:
        # 0.18 at 0.0180/min "30/6" is 600 s; a limit on a prepaid account adds nothing.
        with uow() as u:
            pre = customer(u, "Pre", credit=D("0.18"), accountcode="pre")
        set_fields(uow, pre, credit_limit=D(50))
        assert auth(uow, account="pre").max_seconds == 600

    def test_a_resellers_own_maximum_caps_its_customers_calls(self, uow: Uow) -> None:
        set_fields(uow, RESELLER_ID, max_call_seconds=90)
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.max_seconds) == (True, 90)
        set_fields(uow, ALICE_ID, max_call_seconds=60)  # the lower of the two
        assert auth(uow, account="acct1001").max_seconds == 60

    def test_expired_reservations_neither_count_as_calls_nor_hold_money(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, max_concurrent_calls=1, max_call_seconds=60)
        assert auth(uow, account="acct1001").allowed
        assert auth(uow, account="acct1001").reason == Reason.CONCURRENT_CALL_LIMIT
        later = NOON + timedelta(seconds=60) + EXPIRY_MARGIN
        assert auth(uow, account="acct1001", now=later).allowed


class TestTheRows:
    def test_every_level_holds_the_same_call_from_the_same_moment(self, uow: Uow) -> None:
        a = auth(
            uow, None, NOON, CreditPolicy(slice_seconds=60), account="acct1001", uniqueid="r.1"
        )
        (mine,) = reservations(uow, ALICE_ID)
        (resellers,) = reservations(uow, RESELLER_ID)
        expires = NOON + timedelta(seconds=60) + EXPIRY_MARGIN
        for row in (mine, resellers):
            assert (row.status, row.uniqueid, row.number, row.created_at, row.expires_at) == (
                "open",
                "r.1",
                SPAIN,
                NOON,
                expires,
            )
            assert (row.max_seconds, row.reserved_seconds) == (a.max_seconds, 60)
        assert (mine.parent_id, resellers.parent_id) == (None, mine.id)
        # One slice of 60 s at each level's own sheet: 0.0180 and 0.0120 a minute.
        assert (mine.amount, resellers.amount) == (D("0.018"), D("0.012"))


class TestTheAnswer:
    def test_it_reports_the_number_dialled_the_account_and_the_first_slice(self, uow: Uow) -> None:
        long_id = "1700000000." + "9" * 60
        a = auth(uow, account="acct1001", number="+34 911 234 567", uniqueid=long_id)
        assert (a.number, a.account_id, a.reserved_seconds) == (SPAIN, ALICE_ID, a.max_seconds)
        (held,) = reservations(uow, ALICE_ID)
        assert (held.id, held.number, held.uniqueid) == (a.reservation_id, SPAIN, long_id[:64])
        assert (held.amount, held.max_seconds, held.reserved_seconds) == (
            a.reserved,
            a.max_seconds,
            a.max_seconds,
        )
        assert held.expires_at == NOON + timedelta(seconds=a.max_seconds) + EXPIRY_MARGIN

    def test_without_a_moment_the_call_is_held_from_now_in_utc(self, uow: Uow) -> None:
        # The SOAP service and FastAGI give no moment: Authorize takes the present one.
        before = datetime.now(UTC)
        with uow() as u:
            a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001"), policy=WHOLE_CALL)
        after = datetime.now(UTC)
        assert a.allowed, a.reason
        (held,) = reservations(uow, ALICE_ID)
        assert before <= held.created_at <= after
        assert held.expires_at == held.created_at + timedelta(seconds=a.max_seconds) + EXPIRY_MARGIN

    def test_a_refused_known_account_is_named_in_the_answer(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, status="blocked")
        a = auth(uow, account="acct1001", number="+34 911 234 567")
        assert (a.allowed, a.account_id, a.number, a.max_seconds, a.trunks) == (
            False,
            ALICE_ID,
            "+34 911 234 567",
            0,
            (),
        )
        set_fields(uow, ALICE_ID, status="closed")
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.ACCOUNT_CLOSED, ALICE_ID)


class TestWhoMayCall:
    def test_a_closed_reseller_stops_its_customers_as_a_blocked_one_does(self, uow: Uow) -> None:
        set_fields(uow, RESELLER_ID, status="closed")
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.RESELLER_BLOCKED, ALICE_ID)
        assert reservations(uow, ALICE_ID) == []

    def test_an_account_whose_tree_is_broken_is_refused_not_guessed(self, uow: Uow) -> None:
        # Alice's path names an account that does not exist between her and the operator.
        set_fields(uow, ALICE_ID, path=f"/1/{RESELLER_ID}/999/{ALICE_ID}/")
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.UNKNOWN_ACCOUNT, None)
        assert reservations(uow, ALICE_ID) == []


class TestCapsAndCurrencies:
    def test_a_call_nobody_caps_lasts_three_hours_at_most(self, uow: Uow) -> None:
        # Alice's 10.00 at 0.0180/min pays for over 9 hours; no level has a maximum.
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.max_seconds) == (True, 3 * 3600)

    def test_the_settings_maximum_is_for_accounts_without_their_own(self, uow: Uow) -> None:
        ten_minutes = CreditPolicy(slice_seconds=0, max_call_seconds=600)
        assert auth(uow, None, NOON, ten_minutes, account="acct1001").max_seconds == 600
        set_fields(uow, ALICE_ID, max_call_seconds=900)  # her own, above the setting's
        assert auth(uow, None, NOON, ten_minutes, account="acct1001").max_seconds == 900

    def test_an_account_in_a_currency_without_a_rate_to_its_sheets_is_refused(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            gbp = customer(u, "Gina", credit=D(10), accountcode="gina", currency="GBP")
        a = auth(uow, account="gina")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.NO_EXCHANGE_RATE, gbp)
        # The detail says which rate is missing: her GBP into the sheet's USD, now.
        assert a.detail == f"no exchange rate GBP->USD at {NOON}"
        assert reservations(uow, gbp) == []


def ring_bob_on_net(uow: Uow) -> None:
    """Bob's peer rings on-net; Alice's sheet (Reseller One retail) has an on-net price."""
    set_fields(uow, ONNET_BOB_ID, sip_username=BOB_PEER)
    with uow() as u:
        u.session.execute(
            insert(RateRow), [{"sheet_id": RESELLER_RETAIL, **row_values(ON_NET_RATE)}]
        )
        bump_version(u.session, RESELLER_RETAIL)
        u.commit()


def fill_after_route(monkeypatch: pytest.MonkeyPatch, which: Any) -> None:
    """The trunks `which` selects fill to one call once Authorize has planned its route:
    another call's commit at that moment, done here in the same transaction."""
    planned = authorize_module.plan_route

    def then_filled(session: Any, *args: Any) -> Any:
        found = planned(session, *args)
        session.execute(update(Trunk).where(which).values(open_calls=1))
        return found

    monkeypatch.setattr(authorize_module, "plan_route", then_filled)


def open_calls(uow: Uow) -> dict[str, int]:
    with uow() as u:
        return {n: c for n, c in u.session.execute(select(Trunk.name, Trunk.open_calls))}


class TestTrunkClaim:
    """The channel a call takes (docs/credit_control.md, Routes: channel limits): counted
    on its first trunk, limited or not, and given back by its CDR or its expiry."""

    @pytest.fixture
    def one_and_open(self, uow: Uow) -> None:
        """Spain over "one" (1 channel), else "open" (no limit); 60-second calls."""
        set_fields(uow, ALICE_ID, max_call_seconds=60)
        with uow() as u:
            one = trunk(u, "one", {"34": "0.0010"}, channel_limit=1)
            unlimited = trunk(u, "open", {"34": "0.0020"})
            route(u, "34", "lcr", [(one, 0, 1), (unlimited, 0, 1)])

    @pytest.mark.usefixtures("one_and_open")
    def test_each_call_counts_once_on_its_first_trunk_only(self, uow: Uow) -> None:
        first = auth(uow, account="acct1001", uniqueid="t.1")
        assert [t.name for t in first.trunks] == ["one", "open"]
        assert (open_calls(uow)["one"], open_calls(uow)["open"]) == (1, 0)
        second = auth(uow, account="acct1001", uniqueid="t.2")  # "one" is full
        assert [t.name for t in second.trunks] == ["open"]
        assert (open_calls(uow)["one"], open_calls(uow)["open"]) == (1, 1)
        third = auth(uow, account="acct1001", uniqueid="t.3")
        assert [t.name for t in third.trunks] == ["open"]
        assert open_calls(uow)["open"] == 2
        # Only the customer's row names the trunk: the reseller's counts no channel.
        (mine,) = [r for r in reservations(uow, ALICE_ID) if r.uniqueid == "t.1"]
        (resellers,) = [r for r in reservations(uow, RESELLER_ID) if r.parent_id == mine.id]
        assert (mine.trunk_id, resellers.trunk_id) == (first.trunks[0].trunk_id, None)
        dst = "PJSIP/open-00000001"
        assert record(uow, cdr("t.2", "acct1001", 30, dstchannel=dst)) is Outcome.RATED
        assert (open_calls(uow)["one"], open_calls(uow)["open"]) == (1, 1)

    @pytest.mark.usefixtures("one_and_open")
    def test_a_call_that_expires_in_an_authorize_frees_its_channel_for_that_call(
        self, uow: Uow
    ) -> None:
        assert auth(uow, account="acct1001", uniqueid="e.1").trunks[0].name == "one"
        later = NOON + timedelta(seconds=61) + EXPIRY_MARGIN  # e.1 is overdue
        again = auth(uow, account="acct1001", uniqueid="e.2", now=later)
        assert again.allowed, again.reason
        assert [t.name for t in again.trunks] == ["one", "open"]
        assert (open_calls(uow)["one"], open_calls(uow)["open"]) == (1, 0)
        assert [r.status for r in reservations(uow, ALICE_ID)] == ["expired", "open"]

    @pytest.mark.usefixtures("one_and_open")
    def test_an_expiry_frees_one_trunk_while_the_call_takes_another(self, uow: Uow) -> None:
        set_fields(uow, ONNET_BOB_ID, max_call_seconds=60)
        assert auth(uow, account="acct1002", uniqueid="b.1").trunks[0].name == "one"
        assert auth(uow, account="acct1001", uniqueid="a.1").trunks[0].name == "open"
        dst = "PJSIP/one-00000001"
        assert record(uow, cdr("b.1", "acct1002", 30, dstchannel=dst)) is Outcome.RATED
        assert (open_calls(uow)["one"], open_calls(uow)["open"]) == (0, 1)
        later = NOON + timedelta(seconds=61) + EXPIRY_MARGIN  # a.1 is overdue
        again = auth(uow, account="acct1001", uniqueid="a.2", now=later)
        assert [t.name for t in again.trunks] == ["one", "open"]
        # a.1's channel on "open" given back, a.2's taken on "one": each counted once.
        assert (open_calls(uow)["one"], open_calls(uow)["open"]) == (1, 0)

    @pytest.mark.usefixtures("one_and_open")
    def test_an_authorize_expires_its_own_chains_calls_only(self, uow: Uow) -> None:
        # Bob's and Alice's calls are both overdue; Alice's next Authorize expires hers
        # (its chain's rows, locked with it), not Bob's, which is another chain's.
        set_fields(uow, ONNET_BOB_ID, max_call_seconds=60)
        assert auth(uow, account="acct1002", uniqueid="b.1").allowed
        assert auth(uow, account="acct1001", uniqueid="a.1").allowed
        later = NOON + timedelta(seconds=61) + EXPIRY_MARGIN
        assert auth(uow, account="acct1001", uniqueid="a.2", now=later).allowed
        assert [r.status for r in reservations(uow, ALICE_ID)] == ["expired", "open"]
        assert [r.status for r in reservations(uow, ONNET_BOB_ID)] == ["open"]

    @pytest.mark.usefixtures("one_and_open")
    def test_a_channel_freed_by_expiry_is_given_back_when_the_call_takes_no_trunk(
        self, uow: Uow
    ) -> None:
        # Alice's overdue call held "one"; her next call expires it, then goes nowhere
        # over a trunk: refused for want of a route, or rung on-net. Either way the
        # channel is free again, and the refusal names her account.
        assert auth(uow, account="acct1001", uniqueid="a.1").trunks[0].name == "one"
        later = NOON + timedelta(seconds=61) + EXPIRY_MARGIN
        with uow() as u:
            u.session.execute(update(Trunk).values(status="disabled"))
            u.commit()
        a = auth(uow, account="acct1001", uniqueid="a.2", now=later)
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.NO_ROUTE, ALICE_ID)
        assert open_calls(uow)["one"] == 0
        with uow() as u:
            u.session.execute(update(Trunk).values(status="active"))
            u.commit()
        assert auth(uow, account="acct1001", uniqueid="a.4", now=later).trunks[0].name == "one"
        even_later = later + timedelta(seconds=61) + EXPIRY_MARGIN
        ring_bob_on_net(uow)
        on_net = auth(uow, account="acct1001", number=BOB_PEER, uniqueid="a.5", now=even_later)
        assert (on_net.allowed, on_net.trunks) == (True, ())
        assert open_calls(uow)["one"] == 0

    @pytest.mark.usefixtures("one_and_open")
    def test_a_trunk_filled_between_the_route_and_the_claim_refuses_the_call(
        self, uow: Uow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Only "one" (1 channel) on the route; another call takes its channel after
        # this call's route was planned (the other call's commit, done here in the
        # same transaction at that moment). The claim finds it full: NoRoute, naming
        # the account, and nothing held.
        with uow() as u:
            u.session.execute(update(Trunk).where(Trunk.name == "open").values(status="disabled"))
            u.commit()
        fill_after_route(monkeypatch, Trunk.name == "one")
        a = auth(uow, account="acct1001", uniqueid="late.1")
        assert (a.allowed, a.reason, a.account_id, a.reservation_id) == (
            False,
            Reason.NO_ROUTE,
            ALICE_ID,
            None,
        )
        assert reservations(uow, ALICE_ID) == []
        with uow() as u:
            assert u.session.get(Account, ALICE_ID).reserved == 0  # type: ignore[union-attr]

    @pytest.mark.usefixtures("one_and_open")
    def test_a_trunk_loaded_before_authorize_sees_its_channel_taken(self, uow: Uow) -> None:
        # The claim changes the count by a statement; a Trunk object the unit of work
        # loaded before reads the new count, not the one it was loaded with.
        with uow() as u:
            one = u.session.scalars(select(Trunk).where(Trunk.name == "one")).one()
            assert one.open_calls == 0
            a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001", uniqueid="ld.1"), NOON)
            assert [t.name for t in a.trunks][:1] == ["one"]
            assert one.open_calls == 1

    def test_trunks_filled_between_the_route_and_the_claim_are_passed_over(
        self, uow: Uow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # one and two (a channel each), then open (no limit); both limited trunks fill
        # after the route was planned: the claim counts them under their locks and the
        # call takes open, leaving their counts as the other calls left them.
        set_fields(uow, ALICE_ID, max_call_seconds=60)
        with uow() as u:
            one = trunk(u, "one", {"34": "0.0010"}, channel_limit=1)
            two = trunk(u, "two", {"34": "0.0015"}, channel_limit=1)
            unlimited = trunk(u, "open", {"34": "0.0020"})
            route(u, "34", "lcr", [(one, 0, 1), (two, 0, 1), (unlimited, 0, 1)])
        fill_after_route(monkeypatch, Trunk.id.in_((one, two)))
        a = auth(uow, account="acct1001", uniqueid="late.2")
        assert [t.name for t in a.trunks] == ["open"], a.reason
        assert open_calls(uow) == {"carrier1": 0, "one": 1, "two": 1, "open": 1}

    def test_a_hold_that_was_to_commit_finds_its_trunk_full_and_the_call_takes_the_next(
        self, uow: Uow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # PostgreSQL's ordinary call commits with its hold (call_hold.hold_and_commit). The
        # first trunk filled after the route: that statement fails whole (TrunkTaken),
        # Authorize rolls back and holds the call with the plain statements, which take
        # the next trunk. One reservation, the counters as every writer keeps them.
        if not uses_row_locks(uow):
            pytest.skip("the hold that commits is PostgreSQL's")
        set_fields(uow, ALICE_ID, max_call_seconds=60)
        with uow() as u:
            one = trunk(u, "one", {"34": "0.0010"}, channel_limit=1)
            unlimited = trunk(u, "open", {"34": "0.0020"})
            route(u, "34", "lcr", [(one, 0, 1), (unlimited, 0, 1)])
        for n in range(2):  # the sheets' plans built, so the hold may commit with itself
            assert auth(uow, account="acct1001", uniqueid=f"warm.{n}").allowed
        with uow() as u:
            u.session.execute(update(Trunk).values(open_calls=0))
            u.commit()
        taken: list[str] = []
        committing = call_hold_module.hold_and_commit

        def spied(*args: Any, **kwargs: Any) -> bool:
            try:
                return committing(*args, **kwargs)
            except call_hold_module.TrunkTaken:
                taken.append("full")
                raise

        monkeypatch.setattr(reserve_module, "hold_and_commit", spied)
        fill_after_route(monkeypatch, Trunk.id == one)
        a = auth(uow, account="acct1001", uniqueid="late.3")
        assert taken == ["full"]
        assert [t.name for t in a.trunks] == ["open"], a.reason
        assert open_calls(uow) == {"carrier1": 0, "one": 1, "open": 1}
        with uow() as u:
            rows = u.session.scalars(
                select(Reservation).where(Reservation.uniqueid == "late.3")
            ).all()
            assert [r.id for r in rows if r.parent_id is None] == [a.reservation_id]
            for account_id in {r.account_id for r in rows}:
                held = u.session.scalar(
                    select(func.coalesce(func.sum(Reservation.amount), 0)).where(
                        Reservation.account_id == account_id, Reservation.status == "open"
                    )
                )
                assert u.session.get(Account, account_id).reserved == held  # type: ignore[union-attr]


def uses_row_locks(uow: Uow) -> bool:
    with uow() as u:
        return u.session.get_bind().dialect.name == "postgresql"


class TestBooths:
    """A call shop's booths (docs/callshop.md): the booth's SIP peer stands for its shop,
    and only a booth that is not locked and has an open session may call."""

    @pytest.fixture
    def booth(self, uow: Uow) -> int:
        with uow() as u:
            shop = u.session.get(Account, ALICE_ID)
            assert shop is not None
            shop.kind = "callshop"
            u.session.add(CallShop(account_id=ALICE_ID, sell_sheet_id=shop.rate_sheet_id))
            b = Booth(shop_id=ALICE_ID, name="b1", sip_peer="booth-b1")
            u.session.add(b)
            u.commit()
            return b.id

    def test_a_booth_without_an_open_session_is_locked_and_says_so(
        self, uow: Uow, booth: int
    ) -> None:
        a = auth(uow, account=" booth-b1 ")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.BOOTH_LOCKED, ALICE_ID)
        assert a.detail == "booth b1 has no open session"
        with uow() as u:
            u.session.add(BoothSession(booth_id=booth, shop_id=ALICE_ID))
            u.commit()
        a = auth(uow, account="booth-b1")
        assert (a.allowed, a.account_id) == (True, ALICE_ID)
        with uow() as u:
            locked = u.session.get(Booth, booth)
            assert locked is not None
            locked.locked = True
            u.commit()
        a = auth(uow, account="booth-b1")
        assert (a.reason, a.detail) == (Reason.BOOTH_LOCKED, "booth b1 is locked")
        assert len(reservations(uow, ALICE_ID)) == 1

    @pytest.mark.usefixtures("booth")
    def test_the_shops_own_account_must_name_a_booth(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.BOOTH_REQUIRED, ALICE_ID)
        assert a.detail == "a call shop's calls must name the booth's SIP peer"
        assert reservations(uow, ALICE_ID) == []


class TestOnNet:
    """An on-net call (docs/onnet_callback.md): Bob's peer rings on-net, Alice pays her
    sheet's on-net price (0.0100 a minute, whole minutes), Reseller One's sheet has none
    (free at its level); the whole call is held at once and no trunk is taken."""

    @pytest.fixture(autouse=True)
    def on_net_price(self, uow: Uow) -> None:
        ring_bob_on_net(uow)

    def test_the_whole_call_is_held_at_the_on_net_price_and_no_trunk_is_taken(
        self, uow: Uow
    ) -> None:
        policy = CreditPolicy(expiry_margin_seconds=180)
        a = auth(uow, None, NOON, policy, account="acct1001", number=BOB_PEER, uniqueid="on.1")
        assert (a.allowed, a.reason, a.number, a.account_id) == (
            True,
            Reason.OK,
            BOB_PEER,
            ALICE_ID,
        )
        assert (a.onnet_account_id, a.dial_string, a.trunks) == (ONNET_BOB_ID, "PJSIP/1002", ())
        # 10.00 pays 1,000 minutes: capped at 3 hours, all of it held (slices or not).
        assert (a.max_seconds, a.reserved_seconds, a.reserved) == (10800, 10800, D("1.8"))
        mine, resellers = (*reservations(uow, ALICE_ID), *reservations(uow, RESELLER_ID))
        assert (mine.id, mine.number, mine.trunk_id, mine.amount) == (
            a.reservation_id,
            BOB_PEER,
            None,
            D("1.8"),
        )
        assert (mine.uniqueid, mine.max_seconds, mine.reserved_seconds) == ("on.1", 10800, 10800)
        # It expires after the whole call and the margin of the policy given.
        assert mine.expires_at == NOON + timedelta(seconds=10800, minutes=3)
        assert (resellers.parent_id, resellers.amount) == (mine.id, D(0))
        assert set(open_calls(uow).values()) == {0}

    def test_a_refusal_for_credit_says_it_is_about_the_on_net_price(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, balance=D(0))
        a = auth(uow, None, NOON, CreditPolicy(), account="acct1001", number=BOB_PEER)
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.INSUFFICIENT_CREDIT, ALICE_ID)
        assert a.detail == "on-net: the credit pays for 0 s; the minimum call is 60 s"
        assert reservations(uow, ALICE_ID) == []

    def test_an_on_net_call_in_another_currency_needs_its_exchange_rate(self, uow: Uow) -> None:
        with uow() as u:
            gbp = customer(u, "Gina", credit=D(10), accountcode="gina", currency="GBP")
        a = auth(uow, None, NOON, CreditPolicy(), account="gina", number=BOB_PEER)
        assert (a.allowed, a.reason, a.account_id) == (False, Reason.NO_EXCHANGE_RATE, gbp)
        assert a.detail == f"on-net: no exchange rate GBP->USD at {NOON}"

    def test_an_on_net_call_in_another_currency_is_held_in_the_accounts(self, uow: Uow) -> None:
        # 1 GBP = 1.25 USD: Gina's 10.00 GBP pay the 3 hours' cap, 1.80 USD at the
        # on-net price, held as 1.44 GBP (the inverse rate; docs/currencies.md).
        with uow() as u:
            gbp = customer(u, "Gina", credit=D(10), accountcode="gina", currency="GBP")
            u.session.add(
                ExchangeRateRow(
                    from_currency="GBP",
                    to_currency="USD",
                    rate=D("1.25"),
                    valid_from=NOON - timedelta(days=1),
                )
            )
            u.commit()
        a = auth(uow, None, NOON, CreditPolicy(), account="gina", number=BOB_PEER)
        assert (a.allowed, a.account_id, a.max_seconds) == (True, gbp, 10800)
        (held,) = reservations(uow, gbp)
        assert (held.amount, a.reserved) == (D("1.44"), D("1.44"))

    def test_an_on_net_call_takes_nothing_of_a_bundle_for_the_same_digits(self, uow: Uow) -> None:
        # Bob's DID 34910000001 rings on-net; Alice's bundle is for Spain (34). The call
        # is priced at the on-net rate, not taken from the bundle (docs/bundles.md).
        with uow() as u:
            give_bundle(u.session, RESELLER_ID, ALICE_ID, "Alice Spain", 600, date(2026, 1, 1))
            u.commit()
            did(u, "34910000001", "assigned")
        a = auth(uow, None, NOON, CreditPolicy(), account="acct1001", number="34910000001")
        assert (a.allowed, a.onnet_account_id, a.reserved) == (True, ONNET_BOB_ID, D("1.8"))
        with uow() as u:
            assert u.session.scalar(select(func.count()).select_from(BundleHold)) == 0


class TestRoutesChanged:
    def test_a_route_added_between_two_calls_is_the_next_calls_route(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, max_call_seconds=60)
        before = auth(uow, account="acct1001")
        assert [t.name for t in before.trunks] == ["carrier1"]
        with uow() as u:
            cheap = trunk(u, "cheap", {"34": "0.0010"})
            route(u, "349", "priority", [(cheap, 0, 1)])
        after = auth(uow, account="acct1001")
        assert [t.name for t in after.trunks] == ["cheap"]
