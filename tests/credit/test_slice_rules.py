"""The extension of live calls' reservations (services/credit/slices.py) rule by rule,
through `extend_due`, the use case the AMI listener calls: when a call is due, how far
it is extended, whose money counts, and the calls left alone. Written from
docs/credit_control.md (Slices) for the survivors of mutation testing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db import ledger
from db.schema import Account, LiveCall, Reservation
from db.session import UnitOfWork
from services.cdr.usecases import Outcome
from services.credit.policy import CreditPolicy
from services.credit.slices import Extensions, extend_due
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID, customer, sheet
from tests.credit.test_authorize import cdr, record, reservations
from tests.credit.test_slices import AST, answered, auth, rows

D = Decimal
Uow = Callable[[], UnitOfWork]
MINUTE = CreditPolicy(slice_seconds=60)  # extend_ahead: 30 s before the slice runs out

pytestmark = pytest.mark.usefixtures("demo")


def extend(uow: Uow, seconds: float, policy: CreditPolicy = MINUTE) -> Extensions:
    with uow() as u:
        done = extend_due(u.session, NOON + timedelta(seconds=seconds), policy, AST)
        u.commit()
    return done


def held(uow: Uow, reservation_id: int | None) -> list[tuple[int, Decimal]]:
    """(reserved_seconds, amount) of the call's rows, the customer's first."""
    return [(r.reserved_seconds, r.amount) for r in rows(uow, reservation_id)]


def alice_call(uow: Uow, uniqueid: str, answered_after: int = 0) -> int:
    a = auth(uow, MINUTE, account="acct1001", uniqueid=uniqueid)
    assert (a.allowed, a.reserved_seconds) == (True, 60)
    answered(uow, uniqueid, answered_after)
    assert a.reservation_id is not None
    return a.reservation_id


class TestWhenACallIsDue:
    def test_half_a_slice_before_its_end_and_not_a_second_sooner(self, uow: Uow) -> None:
        call = alice_call(uow, "d.1")
        # 60 s reserved, extend_ahead(60) = 30 s: at 29 s, 31 s are left.
        assert extend(uow, 29) == Extensions()
        assert extend(uow, 30).extended == {call: 120}

    def test_five_minute_slices_are_extended_a_minute_before_their_end(self, uow: Uow) -> None:
        five = CreditPolicy()
        a = auth(uow, five, account="acct1001", uniqueid="d.8")
        assert a.reserved_seconds == 300
        answered(uow, "d.8")
        assert extend(uow, 239, five) == Extensions()
        assert extend(uow, 240, five).extended == {a.reservation_id: 600}

    def test_a_call_not_due_yet_does_not_hold_up_the_next_one(self, uow: Uow) -> None:
        later = alice_call(uow, "d.9", answered_after=30)  # the older call, 10 s up
        sooner = alice_call(uow, "d.10")  # 40 s up
        assert extend(uow, 40).extended == {sooner: 120}
        assert held(uow, later)[0] == (60, D("0.018"))

    def test_a_second_begun_counts_as_spent(self, uow: Uow) -> None:
        # 29.2 s after the answer the 30th second has begun: 30 s are left at most.
        call = alice_call(uow, "d.2")
        assert extend(uow, 29.2).extended == {call: 120}

    def test_a_call_answered_this_instant_has_spent_nothing(self, uow: Uow) -> None:
        # Reserved 31 s under a 31 s slice; the slice is a minute now (extend_ahead 30 s):
        # at the answer all 31 s are left, one more than the look-ahead.
        a = auth(uow, CreditPolicy(slice_seconds=31), account="acct1001", uniqueid="d.0")
        assert a.reserved_seconds == 31
        answered(uow, "d.0", 10)
        assert extend(uow, 10) == Extensions()
        assert extend(uow, 11).extended == {a.reservation_id: 91}

    def test_time_runs_from_the_answer_not_from_the_authorization(self, uow: Uow) -> None:
        call = alice_call(uow, "d.3", answered_after=5)
        assert extend(uow, 34) == Extensions()  # 29 s since the answer
        assert extend(uow, 35).extended == {call: 120}
        [mine, _] = rows(uow, call)
        assert mine.expires_at == NOON + timedelta(seconds=5 + 120 + 600)

    def test_an_account_whose_slice_became_0_is_left_as_it_is(self, uow: Uow) -> None:
        # 0 = the whole call: nothing to extend, and nothing refused (no hang-up).
        call = alice_call(uow, "d.4")
        with uow() as u:
            u.session.execute(
                update(Account).where(Account.id == ALICE_ID).values(credit_slice_seconds=0)
            )
            u.commit()
        # 2 s left at 58 s, but a slice of 0 adds nothing: not refused, never hung up.
        assert extend(uow, 58) == Extensions()
        assert extend(uow, 70) == Extensions()
        assert held(uow, call) == [(60, D("0.018")), (60, D("0.012"))]

    def test_a_slice_of_one_second_is_still_a_slice(self, uow: Uow) -> None:
        one = CreditPolicy(slice_seconds=1)
        a = auth(uow, one, account="acct1001", uniqueid="d.7")
        assert a.reserved_seconds == 1
        answered(uow, "d.7")
        assert extend(uow, 0, one).extended == {a.reservation_id: 2}

    def test_only_answered_calls_of_this_asterisk(self, uow: Uow) -> None:
        ringing = auth(uow, MINUTE, account="acct1001", uniqueid="d.5").reservation_id
        elsewhere = alice_call(uow, "d.6")
        with uow() as u:
            u.session.execute(
                update(LiveCall).where(LiveCall.uniqueid == "d.6").values(asterisk="10.0.0.9:5038")
            )
            u.commit()
        assert extend(uow, 50) == Extensions()
        assert held(uow, ringing)[0] == held(uow, elsewhere)[0] == (60, D("0.018"))


class TestHowFar:
    def test_a_call_the_listener_was_late_for_gets_a_slice_past_its_elapsed_time(
        self, uow: Uow
    ) -> None:
        # 70 s up on 60 reserved: to 130 s, billed "30/6" as 132 s at each level's sheet.
        call = alice_call(uow, "h.1")
        assert extend(uow, 70).extended == {call: 130}
        assert held(uow, call) == [(130, D("0.0396")), (130, D("0.0264"))]

    def test_never_past_the_calls_max_seconds(self, uow: Uow) -> None:
        with uow() as u:
            customer(u, "Capped", credit=D("10"), accountcode="capped", max_call_seconds=90)
        a = auth(uow, MINUTE, account="capped", uniqueid="h.2")
        assert (a.max_seconds, a.reserved_seconds) == (90, 60)
        answered(uow, "h.2")
        assert extend(uow, 40).extended == {a.reservation_id: 90}
        assert extend(uow, 80) == Extensions()  # all of it is held: no more, no refusal

    def test_a_resellers_money_limits_its_customers_extension(self, uow: Uow) -> None:
        call = alice_call(uow, "h.3")
        # The reseller is left 0.018 in all (it holds 0.012 of it for this call): what it
        # holds for the call is its own, so it pays 90 s at wholesale 0.0120/min.
        with uow() as u:
            ledger.post(u.session, RESELLER_ID, "adjustment", D("-499.982"))
            u.commit()
        assert extend(uow, 40).extended == {call: 90}
        assert held(uow, call) == [(90, D("0.027")), (90, D("0.018"))]

    def test_a_resellers_money_is_shared_by_its_customers_calls(self, uow: Uow) -> None:
        # Two of Alice's calls hold 60 s each at the reseller (0.012 each); the reseller
        # is left 0.048: 4 minutes at wholesale, one more minute for each call.
        first = alice_call(uow, "h.10")
        second = alice_call(uow, "h.11")
        with uow() as u:
            ledger.post(u.session, RESELLER_ID, "adjustment", D("-499.952"))
            u.commit()
        done = extend(uow, 40)
        assert (done.extended, done.refused) == ({first: 120, second: 120}, [])
        assert [held(uow, call)[1] for call in (first, second)] == [(120, D("0.024"))] * 2

    def test_a_customer_of_the_operator_is_one_level(self, uow: Uow) -> None:
        # Carol Ltd is the admin's own customer: her reservation has no reseller rows.
        a = auth(uow, MINUTE, account="acct1003", uniqueid="h.12")
        answered(uow, "h.12")
        assert extend(uow, 40).extended == {a.reservation_id: 120}
        assert len(held(uow, a.reservation_id)) == 1

    def test_the_money_of_a_settled_call_is_free_again(self, uow: Uow) -> None:
        # 0.054 pays 180 s; a first call of 60 s is settled (0.018): 120 s are left for
        # the second, which holds 60 of them and may be extended by the other 60.
        with uow() as u:
            account = customer(u, "Again", credit=D("0.054"), accountcode="again")
        auth(uow, MINUTE, account="again", uniqueid="h.13")
        assert record(uow, cdr("h.13", "again", 60)) is Outcome.RATED
        a = auth(uow, MINUTE, account="again", uniqueid="h.14")
        assert a.max_seconds == 120
        answered(uow, "h.14")
        assert extend(uow, 40).extended == {a.reservation_id: 120}
        assert {r.status for r in reservations(uow, account)} == {"settled", "open"}

    def test_a_postpaid_accounts_limit_pays_and_a_prepaid_ones_does_not(self, uow: Uow) -> None:
        with uow() as u:
            customer(u, "Post", postpaid_limit=D("0.036"), accountcode="post")
            prepaid = customer(u, "Pre", credit=D("0.036"), accountcode="pre")
        post = auth(uow, MINUTE, account="post", uniqueid="h.4")
        pre = auth(uow, MINUTE, account="pre", uniqueid="h.5")
        assert (post.max_seconds, pre.max_seconds) == (120, 120)
        # The prepaid account spends 0.018 elsewhere; a credit limit on a prepaid
        # account lends it nothing.
        with uow() as u:
            ledger.post(u.session, prepaid, "adjustment", D("-0.018"))
            u.session.execute(
                update(Account).where(Account.id == prepaid).values(credit_limit=D("1"))
            )
            u.commit()
        answered(uow, "h.4")
        answered(uow, "h.5")
        done = extend(uow, 40)
        assert (done.extended, done.refused) == ({post.reservation_id: 120}, [pre.reservation_id])

    def test_what_an_extension_takes_is_counted_once(self, uow: Uow) -> None:
        # 0.072 pays 240 s: two calls hold 60 s each and 120 s are free, enough for one
        # more minute each.
        with uow() as u:
            customer(u, "Both", credit=D("0.072"), accountcode="both")
        first = auth(uow, MINUTE, account="both", uniqueid="h.8")
        second = auth(uow, MINUTE, account="both", uniqueid="h.9")
        answered(uow, "h.8")
        answered(uow, "h.9")
        done = extend(uow, 40)
        assert done.extended == {first.reservation_id: 120, second.reservation_id: 120}
        assert done.refused == []

    def test_calls_of_one_account_share_its_money_the_oldest_first(self, uow: Uow) -> None:
        # 0.054 pays 180 s: two calls hold 60 s each, 60 s are free; the first call
        # takes them, the second cannot be extended (never both: that would overspend).
        with uow() as u:
            customer(u, "Share", credit=D("0.054"), accountcode="share")
        first = auth(uow, MINUTE, account="share", uniqueid="h.6")
        second = auth(uow, MINUTE, account="share", uniqueid="h.7")
        assert (first.max_seconds, second.max_seconds) == (180, 120)
        answered(uow, "h.7")
        answered(uow, "h.6")
        done = extend(uow, 40)
        assert (done.extended, done.refused) == (
            {first.reservation_id: 120},
            [second.reservation_id],
        )
        assert held(uow, first.reservation_id)[0] == (120, D("0.036"))
        assert held(uow, second.reservation_id)[0] == (60, D("0.018"))


class TestRefusedOrLeftAlone:
    def test_a_level_without_a_sheet_or_a_rate_refuses_the_extension(self, uow: Uow) -> None:
        no_sheet = alice_call(uow, "r.1")
        with uow() as u:
            customer(u, "Rated", credit=D("10"), accountcode="rated")
        no_rate = auth(uow, MINUTE, account="rated", uniqueid="r.2").reservation_id
        answered(uow, "r.2")
        with uow() as u:
            elsewhere = sheet(u, "Only France", {"33": "0.01"}, owner_id=RESELLER_ID)
            u.session.execute(
                update(Account)
                .where(Account.accountcode == "rated")
                .values(rate_sheet_id=elsewhere)
            )
            u.session.execute(
                update(Account).where(Account.id == RESELLER_ID).values(rate_sheet_id=None)
            )
            u.commit()
        done = extend(uow, 40)
        assert (done.extended, sorted(done.refused)) == ({}, [no_sheet, no_rate])
        assert held(uow, no_sheet) == [(60, D("0.018")), (60, D("0.012"))]

    def test_a_call_being_settled_is_left_alone(self, uow: Uow) -> None:
        # Its reseller row is closed already (a settlement under way), or the whole
        # reservation is (the CDR came before the live call's row went).
        half = alice_call(uow, "r.3")
        whole = alice_call(uow, "r.4")
        with uow() as u:
            u.session.execute(
                update(Reservation).where(Reservation.parent_id == half).values(status="settled")
            )
            u.session.execute(
                update(Reservation)
                .where((Reservation.id == whole) | (Reservation.parent_id == whole))
                .values(status="settled")
            )
            u.commit()
        normal = alice_call(uow, "r.6")  # after them: still extended
        assert extend(uow, 40) == Extensions(extended={normal: 120})
        assert held(uow, half) == held(uow, whole) == [(60, D("0.018")), (60, D("0.012"))]

    def test_a_refusal_is_logged_with_the_number_of_calls(
        self, uow: Uow, caplog: pytest.LogCaptureFixture
    ) -> None:
        with uow() as u:
            customer(u, "Minute", credit=D("0.018"), accountcode="minute")
        a = auth(uow, CreditPolicy(slice_seconds=30), account="minute", uniqueid="r.5")
        assert (a.max_seconds, a.reserved_seconds) == (60, 30)
        with uow() as u:  # the money goes elsewhere before the extension
            ledger.post(u.session, a.account_id, "adjustment", D("-0.009"))
            u.commit()
        answered(uow, "r.5")
        with caplog.at_level(logging.INFO, logger="services.credit.slices"):
            done = extend(uow, 20, CreditPolicy(slice_seconds=30))
        assert done.refused == [a.reservation_id]
        assert "credit: 1 live call(s) could not be extended" in caplog.messages


class TestTheSessionSeesTheNewAmounts:
    def test_rows_loaded_before_the_extension_are_read_again(self, uow: Uow) -> None:
        call = alice_call(uow, "s.1")
        with uow() as u:
            loaded = list(
                u.session.scalars(
                    select(Reservation).where(
                        (Reservation.id == call) | (Reservation.parent_id == call)
                    )
                )
            )
            assert {r.reserved_seconds for r in loaded} == {60}
            extend_due(u.session, NOON + timedelta(seconds=40), MINUTE, AST)
            assert sorted((r.reserved_seconds, r.amount) for r in loaded) == [
                (120, D("0.024")),
                (120, D("0.036")),
            ]
            assert {r.expires_at for r in loaded} == {NOON + timedelta(seconds=120 + 600)}
            u.commit()
