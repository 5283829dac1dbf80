"""Reservation by slices, the minimum call, extension by the listener's batch, release
of calls whose channel is gone: the use cases on both databases (demo data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select, update

from ami_listener.credit import CreditKeeper
from db import ledger
from db.schema import Account, Cdr, Charge, LiveCall, Reservation
from db.session import UnitOfWork
from services.billing.usecases import get_balance
from services.cdr.usecases import Outcome, record_cdr
from services.common import runtime_settings
from services.common.caller import Caller
from services.credit.authorize import Authorization, AuthorizeRequest, Reason, authorize
from services.credit.expiry import release_gone
from services.credit.policy import CreditPolicy
from services.credit.slices import extend_due
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID, customer, sheet
from tests.credit.test_authorize import balance_and_ledger, cdr

D = Decimal
SPAIN = "34911234567"
AST = "127.0.0.1:5038"
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


SLICES = CreditPolicy()  # the defaults: 5-minute slices, automatic minimum call


def auth(uow: Uow, policy: CreditPolicy = SLICES, now=NOON, **fields: str) -> Authorization:
    fields.setdefault("number", SPAIN)
    with uow() as u:
        return authorize(u, None, AuthorizeRequest(**fields), now, policy)


def rows(uow: Uow, reservation_id: int | None) -> list[Reservation]:
    """The call's reservation, customer first, then its reseller rows."""
    with uow() as u:
        found = list(
            u.session.scalars(
                select(Reservation)
                .where(
                    (Reservation.id == reservation_id) | (Reservation.parent_id == reservation_id)
                )
                .order_by(Reservation.id)
            )
        )
        u.session.expunge_all()
    return found


def answered(uow: Uow, uniqueid: str, seconds_after_noon: int = 0) -> None:
    """The listener saw the call answered (its live_calls row)."""
    with uow() as u:
        u.session.add(
            LiveCall(
                uniqueid=uniqueid,
                channel=f"PJSIP/1001-{uniqueid}",
                state="up",
                started_at=NOON,
                answered_at=NOON + timedelta(seconds=seconds_after_noon),
                asterisk=AST,
                seen_at=NOON,
            )
        )
        u.commit()


ADMIN = Caller(login_id=1, username="admin", account_id=1, role="admin", path="/1/")


def reserved(uow: Uow, account_id: int) -> Decimal:
    with uow() as u:
        return get_balance(u, ADMIN, account_id).reserved


class TestFirstSlice:
    def test_authorize_answers_the_whole_max_and_reserves_a_first_slice(self, uow: Uow) -> None:
        # Alice: 10.00 at 0.0180/min pays 555 min, capped at 3 h; 5 min cost 0.09.
        a = auth(uow, account="acct1001", uniqueid="s.1")
        assert (a.allowed, a.max_seconds, a.reserved_seconds, a.reserved) == (
            True,
            10800,
            300,
            D("0.09"),
        )
        mine, reseller = rows(uow, a.reservation_id)
        assert (mine.amount, mine.reserved_seconds, mine.max_seconds) == (D("0.09"), 300, 10800)
        # The reseller holds 5 min at its own sheet (wholesale 0.0120/min).
        assert (reseller.account_id, reseller.amount, reseller.reserved_seconds) == (
            RESELLER_ID,
            D("0.06"),
            300,
        )
        assert mine.expires_at == NOON + timedelta(seconds=300 + 600)

    def test_a_call_shorter_than_the_slice_reserves_the_whole_call(self, uow: Uow) -> None:
        with uow() as u:
            customer(u, "Short", credit=D("0.036"), accountcode="short")
        a = auth(uow, account="short")
        assert (a.max_seconds, a.reserved_seconds, a.reserved) == (120, 120, D("0.036"))

    def test_ten_parallel_one_minute_calls_fit_in_ten_minutes_of_money(self, uow: Uow) -> None:
        # 0.18 pays 10 minutes at 0.0180/min; a one-minute slice for this account. Whole
        # calls (its 10 minutes each) would have let one call through.
        with uow() as u:
            account = customer(
                u, "Ten", credit=D("0.18"), accountcode="ten", credit_slice_seconds=60
            )
        calls = [auth(uow, account="ten", uniqueid=f"ten.{i}") for i in range(10)]
        assert all(a.allowed for a in calls)
        assert [a.max_seconds for a in calls] == [600 - 60 * i for i in range(10)]
        assert {(a.reserved_seconds, a.reserved) for a in calls} == {(60, D("0.018"))}
        eleventh = auth(uow, account="ten", uniqueid="ten.10")
        assert (eleventh.allowed, eleventh.reason) == (False, Reason.INSUFFICIENT_CREDIT)
        for i in range(10):
            with uow() as u:
                assert record_cdr(u, cdr(f"ten.{i}", "ten", 60)) is Outcome.RATED
        assert balance_and_ledger(uow, account) == (D(0), D(0))
        assert reserved(uow, account) == 0


class TestMinimumCall:
    def per_second_customer(self, uow: Uow, credit: str, **fields: object) -> int:
        with uow() as u:
            per_second = sheet(u, "Per second", {"34": "0.60"}, owner_id=RESELLER_ID)
            return customer(
                u, "Second", credit=D(credit), sheet_id=per_second, accountcode="sec", **fields
            )

    def test_a_credit_for_two_seconds_is_refused_with_its_reason(self, uow: Uow) -> None:
        # 0.02 at 0.01/s, billed per second: a 2-second call, below the 30 s minimum.
        self.per_second_customer(uow, "0.02")
        a = auth(uow, account="sec")
        assert (a.allowed, a.reason, a.reservation_id) == (False, Reason.INSUFFICIENT_CREDIT, None)
        assert a.detail == "the credit pays for 2 s; the minimum call is 30 s"

    def test_the_global_minimum_and_the_accounts_own(self, uow: Uow) -> None:
        account = self.per_second_customer(uow, "0.02")
        refused = auth(uow, CreditPolicy(min_call_seconds=3), account="sec")
        assert refused.detail == "the credit pays for 2 s; the minimum call is 3 s"
        with uow() as u:
            u.session.execute(
                update(Account).where(Account.id == account).values(min_call_seconds=2)
            )
            u.commit()
        a = auth(uow, CreditPolicy(min_call_seconds=3), account="sec")
        assert (a.allowed, a.max_seconds) == (True, 2)

    def test_a_reseller_below_its_minimum_refuses_its_customers(self, uow: Uow) -> None:
        # The reseller keeps 0.01: 48 s at wholesale 0.0120/min "30/6"; its minimum 60 s.
        with uow() as u:
            ledger.post(u.session, RESELLER_ID, "adjustment", D("-499.99"))
            u.session.execute(
                update(Account).where(Account.id == RESELLER_ID).values(min_call_seconds=60)
            )
            u.commit()
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason) == (False, Reason.RESELLER_INSUFFICIENT_CREDIT)
        assert a.detail == "a reseller's credit pays for 48 s; the minimum call is 60 s"

    def test_a_cap_below_the_minimum_is_not_a_lack_of_credit(self, uow: Uow) -> None:
        self.per_second_customer(uow, "10", max_call_seconds=10)
        a = auth(uow, account="sec")
        assert (a.allowed, a.max_seconds) == (True, 10)


class TestExtension:
    def test_a_live_call_gets_one_more_slice_at_every_level(self, uow: Uow) -> None:
        policy = CreditPolicy(slice_seconds=60)
        a = auth(uow, policy, account="acct1001", uniqueid="x.1")
        answered(uow, "x.1")
        with uow() as u:  # 50 s left of 60: more than extend_ahead (30 s)
            assert extend_due(u.session, NOON + timedelta(seconds=10), policy, AST).extended == {}
        with uow() as u:
            done = extend_due(u.session, NOON + timedelta(seconds=40), policy, AST)
            u.commit()
        assert done.extended == {a.reservation_id: 120}
        mine, reseller = rows(uow, a.reservation_id)
        assert (mine.reserved_seconds, mine.amount) == (120, D("0.036"))
        assert (reseller.reserved_seconds, reseller.amount) == (120, D("0.024"))
        assert mine.expires_at == NOON + timedelta(seconds=120 + 600)
        # Holding money moves no balance.
        assert balance_and_ledger(uow, ALICE_ID) == (D("10"), D("10"))

    def test_a_refused_extension_hangs_the_call_up_when_its_seconds_are_spent(
        self, uow: Uow
    ) -> None:
        # 0.018 pays one minute; slices of 30 s.
        with uow() as u:
            customer(u, "Minute", credit=D("0.018"), accountcode="minute")
        policy = CreditPolicy(slice_seconds=30)
        a = auth(uow, policy, account="minute", uniqueid="m.1")
        assert (a.max_seconds, a.reserved_seconds) == (60, 30)
        answered(uow, "m.1")
        keeper = CreditKeeper(AST, policy=policy)
        with uow() as u:
            assert keeper.run(u.session, NOON + timedelta(seconds=20), connected=True) == []
            u.commit()
        assert rows(uow, a.reservation_id)[0].reserved_seconds == 60  # max_seconds
        # Another call spends the rest meanwhile? None left: 60 s is all; at 59 s the
        # call still has its second, at 60 s it is cut.
        with uow() as u:
            assert keeper.run(u.session, NOON + timedelta(seconds=59), connected=True) == []
            u.commit()
        with uow() as u:
            [cut] = keeper.run(u.session, NOON + timedelta(seconds=60), connected=True)
            u.commit()
        assert cut.uniqueid == "m.1" and "holds 60 s" in cut.reason

    def test_an_extension_the_money_cannot_pay_is_refused(self, uow: Uow) -> None:
        # Two calls of one account, 0.018 in all (60 s), slices of 30 s: each holds 30 s;
        # neither can be extended, and each is cut when its 30 s are spent.
        with uow() as u:
            customer(u, "Pair", credit=D("0.018"), accountcode="pair")
        policy = CreditPolicy(slice_seconds=30)
        first = auth(uow, policy, account="pair", uniqueid="p.1")
        second = auth(uow, policy, account="pair", uniqueid="p.2")
        assert (first.reserved_seconds, second.reserved_seconds) == (30, 30)
        answered(uow, "p.1")
        answered(uow, "p.2")
        with uow() as u:
            done = extend_due(u.session, NOON + timedelta(seconds=20), policy, AST)
            u.commit()
        # The second call was allowed only the 30 s left: nothing to extend there.
        assert (first.max_seconds, second.max_seconds) == (60, 30)
        assert (done.extended, done.refused) == ({}, [first.reservation_id])
        keeper = CreditKeeper(AST, policy=policy)
        with uow() as u:
            cut = keeper.run(u.session, NOON + timedelta(seconds=30), connected=True)
            u.commit()
        assert {h.uniqueid for h in cut} == {"p.1", "p.2"}

    def test_every_call_due_is_extended_by_one_update(self, uow: Uow) -> None:
        policy = CreditPolicy(slice_seconds=60)
        ids = [auth(uow, policy, account="acct1001", uniqueid=f"b.{i}") for i in range(30)]
        for i in range(30):
            answered(uow, f"b.{i}")
        updates: list[str] = []

        def count(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("UPDATE RESERVATIONS"):
                updates.append(statement)

        with uow() as u:
            engine = u.session.get_bind()
            event.listen(engine, "before_cursor_execute", count)
            try:
                done = extend_due(u.session, NOON + timedelta(seconds=40), policy, AST)
                u.commit()
            finally:
                event.remove(engine, "before_cursor_execute", count)
        assert len(done.extended) == 30 and set(done.extended.values()) == {120}
        assert len(updates) == 1
        held = {r.reserved_seconds for a in ids for r in rows(uow, a.reservation_id)}
        assert held == {120}


class TestGoneChannels:
    def test_a_released_reservation_frees_the_money_and_its_late_cdr_settles_it(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            account = customer(u, "Gone", credit=D("0.18"), accountcode="gone")
        a = auth(uow, CreditPolicy(slice_seconds=0), account="gone", uniqueid="g.1")
        assert not auth(uow, account="gone").allowed  # all its money is held
        with uow() as u:
            assert release_gone(u.session, ["g.1", "nothing.here"]) == 1
            u.commit()
        assert {r.status for r in rows(uow, a.reservation_id)} == {"released"}
        assert reserved(uow, account) == 0
        again = auth(uow, account="gone", uniqueid="g.2")
        assert again.allowed
        # The CDR comes after all, through a Local channel that names no trunk.
        late = cdr("g.1", "gone", 60, dstchannel="Local/34911234567@pstn-sim-0000001b;1")
        with uow() as u:
            assert record_cdr(u, late) is Outcome.RATED
        assert {r.status for r in rows(uow, a.reservation_id)} == {"settled"}
        with uow() as u:
            stored = u.session.scalars(select(Cdr).where(Cdr.uniqueid == "g.1")).one()
            buy = u.session.scalars(
                select(Charge).where(Charge.cdr_id == stored.id, Charge.provider_id.is_not(None))
            ).one()
            assert stored.trunk_id == a.trunks[0].trunk_id
            assert buy.cost == D("0.008")  # 60 s at Carrier One's 0.0080/min

    def test_a_hangup_with_no_cdr_releases_the_reservation_after_the_grace(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001", uniqueid="h.1")
        keeper = CreditKeeper(AST, release_after=0.0)
        keeper.hung_up("h.1")
        with uow() as u:
            keeper.run(u.session, NOON, connected=False)
            u.commit()
        assert {r.status for r in rows(uow, a.reservation_id)} == {"released"}
        assert keeper.released == 1

    def test_the_listener_expires_overdue_reservations_without_cron(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001", uniqueid="e.1")  # 5 min slice + 10 min margin
        keeper = CreditKeeper(AST)
        with uow() as u:
            keeper.run(u.session, NOON + timedelta(minutes=15), connected=False)
            u.commit()
        assert {r.status for r in rows(uow, a.reservation_id)} == {"expired"}


class TestRuntimeSlice:
    def test_the_listener_extends_by_the_slice_set_while_it_runs(self, uow: Uow) -> None:
        # The keeper was started with 60 s slices (its environment); SetSetting's 120 s
        # reaches its next extension without a restart.
        policy = CreditPolicy(slice_seconds=60)
        keeper = CreditKeeper(AST, policy=policy)
        first = auth(uow, policy, account="acct1001", uniqueid="r.1")
        answered(uow, "r.1")
        with uow() as u:
            keeper.run(u.session, NOON + timedelta(seconds=40), connected=True)
            u.commit()
        assert rows(uow, first.reservation_id)[0].reserved_seconds == 120  # 60 + 60
        with uow() as u:
            runtime_settings.store(u.session, "credit.slice_seconds", "120")
            u.commit()
        second = auth(uow, policy, account="acct1001", uniqueid="r.2")
        answered(uow, "r.2")
        with uow() as u:
            keeper.run(u.session, NOON + timedelta(seconds=40), connected=True)
            u.commit()
        assert rows(uow, second.reservation_id)[0].reserved_seconds == 180  # 60 + 120

    def test_a_longer_expiry_margin_still_finds_and_cuts_the_spent_call(self, uow: Uow) -> None:
        # Reservations keep the margin they were made with: with an hour's margin the
        # listener must still see, at 60 s, that the call's money is spent.
        with uow() as u:
            customer(u, "Hour", credit=D("0.018"), accountcode="hour")
        policy = CreditPolicy(slice_seconds=30, expiry_margin_seconds=3600)
        a = auth(uow, policy, account="hour", uniqueid="h.1")
        assert rows(uow, a.reservation_id)[0].expires_at == NOON + timedelta(seconds=30 + 3600)
        answered(uow, "h.1")
        keeper = CreditKeeper(AST, policy=policy)
        with uow() as u:
            assert keeper.run(u.session, NOON + timedelta(seconds=20), connected=True) == []
            u.commit()
        mine = rows(uow, a.reservation_id)[0]
        assert (mine.reserved_seconds, mine.expires_at) == (60, NOON + timedelta(seconds=3660))
        with uow() as u:
            [cut] = keeper.run(u.session, NOON + timedelta(seconds=60), connected=True)
            u.commit()
        assert cut.uniqueid == "h.1"
