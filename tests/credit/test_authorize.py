"""Authorize, reservations, expiry and settlement, through the use cases on both
databases (the demo data plus the builders)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db import ledger
from db.schema import Account, Cdr, Charge, Reservation
from db.session import UnitOfWork
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome, record_cdr
from services.common.caller import Caller
from services.credit.authorize import Authorization, AuthorizeRequest, Reason, authorize
from services.credit.expiry import EXPIRY_MARGIN, expire_reservations
from services.credit.policy import CreditPolicy
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID, bind_callerid, customer

D = Decimal
SPAIN = "34911234567"
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


# Reserve the whole call at once: what the tests of max durations and expiry are about.
WHOLE_CALL = CreditPolicy(slice_seconds=0)


def auth(
    uow: Uow,
    caller: Caller | None = None,
    now=NOON,
    policy: CreditPolicy = WHOLE_CALL,
    **fields: str,
) -> Authorization:
    fields.setdefault("number", SPAIN)
    with uow() as u:
        return authorize(u, caller, AuthorizeRequest(**fields), now, policy)


def set_fields(uow: Uow, account_id: int, **values: object) -> None:
    with uow() as u:
        u.session.execute(update(Account).where(Account.id == account_id).values(**values))
        u.commit()


def cdr(uniqueid: str, accountcode: str, billsec: int, **fields: object) -> CdrRecord:
    values: dict[str, object] = {
        "uniqueid": uniqueid,
        "sequence": None,
        "accountcode": accountcode,
        "src": "1001",
        "dst": SPAIN,
        "dcontext": "from-internal",
        "callerid": "",
        "channel": "PJSIP/1001-00000001",
        "dstchannel": "PJSIP/carrier1-00000002",
        "lastapp": "Dial",
        "lastdata": "",
        "start": NOON,
        "answer": NOON if billsec else None,
        "end": NOON + timedelta(seconds=billsec),
        "duration": billsec,
        "billsec": billsec,
        "disposition": "ANSWERED" if billsec else "NO ANSWER",
    }
    values.update(fields)
    return CdrRecord(**values)  # type: ignore[arg-type]


def record(uow: Uow, rec: CdrRecord) -> Outcome:
    with uow() as u:
        return record_cdr(u, rec)


def reservations(uow: Uow, account_id: int) -> list[Reservation]:
    with uow() as u:
        rows = list(
            u.session.scalars(
                select(Reservation)
                .where(Reservation.account_id == account_id)
                .order_by(Reservation.id)
            )
        )
        u.session.expunge_all()  # keep their values past the rollback that ends the block
        return rows


def balance_and_ledger(uow: Uow, account_id: int) -> tuple[Decimal, Decimal]:
    with uow() as u:
        account = u.session.get(Account, account_id)
        assert account is not None
        return account.balance, ledger.ledger_sum(u.session, account_id)


class TestIdentification:
    def test_an_accountcode_identifies_the_account(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason, a.account_id) == (True, Reason.OK, ALICE_ID)
        assert a.trunks[0].dial_string == f"PJSIP/{SPAIN}@carrier1"

    def test_a_sip_peer_identifies_the_account(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, sip_username="alice-phone")
        assert auth(uow, account="alice-phone").account_id == ALICE_ID

    def test_a_caller_id_bound_to_the_account_identifies_it(self, uow: Uow) -> None:
        with uow() as u:
            bind_callerid(u, ALICE_ID, "34600111222")
        a = auth(uow, callerid="34600111222")
        assert (a.allowed, a.account_id) == (True, ALICE_ID)

    def test_a_pin_identifies_the_account_and_a_wrong_pin_nobody(self, uow: Uow) -> None:
        with uow() as u:
            card = customer(u, "Card", credit=D(5), pin="55512345")
            bind_callerid(u, card, "34600999888")
        assert auth(uow, pin="55512345").account_id == card
        wrong = auth(uow, pin="55599999", callerid="34600999888")
        assert (wrong.allowed, wrong.reason) == (False, Reason.UNKNOWN_ACCOUNT)

    def test_an_unknown_account_is_refused(self, uow: Uow) -> None:
        a = auth(uow, account="nobody")
        assert (a.allowed, a.reason, a.reservation_id) == (False, Reason.UNKNOWN_ACCOUNT, None)

    def test_a_login_authorizes_only_accounts_of_its_subtree(self, uow: Uow) -> None:
        bob = Caller(login_id=4, username="bob", account_id=4, role="customer", path="/1/2/4/")
        assert auth(uow, caller=bob, account="acct1001").reason == Reason.UNKNOWN_ACCOUNT
        assert auth(uow, caller=bob, account="acct1002").allowed


class TestRestrictions:
    def test_an_ani_restricted_account_calls_only_from_its_bound_caller_ids(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, restrict_ani=True)
        with uow() as u:
            bind_callerid(u, ALICE_ID, "34600111222")
        assert auth(uow, account="acct1001", callerid="34600111222").allowed
        other = auth(uow, account="acct1001", callerid="34600000000")
        assert (other.allowed, other.reason) == (False, Reason.ANI_NOT_ALLOWED)

    def test_a_dnis_restricted_account_calls_in_only_through_its_access_numbers(
        self, uow: Uow
    ) -> None:
        set_fields(uow, ALICE_ID, allowed_dnis="8005551000, 8005552000")
        assert auth(uow, account="acct1001", dnis="8005552000").allowed
        assert auth(uow, account="acct1001", dnis="8009999999").reason == Reason.DNIS_NOT_ALLOWED
        assert auth(uow, account="acct1001").reason == Reason.DNIS_NOT_ALLOWED


class TestStatus:
    @pytest.mark.parametrize(
        ("status", "reason"),
        [("blocked", Reason.ACCOUNT_BLOCKED), ("closed", Reason.ACCOUNT_CLOSED)],
    )
    def test_an_inactive_account_is_refused_and_nothing_reserved(
        self, uow: Uow, status: str, reason: Reason
    ) -> None:
        set_fields(uow, ALICE_ID, status=status)
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason) == (False, reason)
        assert reservations(uow, ALICE_ID) == []

    def test_the_customers_of_a_blocked_reseller_are_refused(self, uow: Uow) -> None:
        set_fields(uow, RESELLER_ID, status="blocked")
        assert auth(uow, account="acct1001").reason == Reason.RESELLER_BLOCKED

    def test_a_number_with_no_rate_or_no_digits_is_refused(self, uow: Uow) -> None:
        assert auth(uow, account="acct1001", number="99912345").reason == Reason.NO_RATE
        assert auth(uow, account="acct1001", number="call me").reason == Reason.INVALID_NUMBER


class TestConcurrentCalls:
    def test_the_call_over_the_limit_is_refused_until_one_ends(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, max_concurrent_calls=2)
        assert auth(uow, account="acct1001", uniqueid="c.1").allowed
        assert auth(uow, account="acct1001", uniqueid="c.2").allowed
        third = auth(uow, account="acct1001", uniqueid="c.3")
        assert (third.allowed, third.reason) == (False, Reason.CONCURRENT_CALL_LIMIT)
        assert record(uow, cdr("c.1", "acct1001", 30)) is Outcome.RATED
        assert auth(uow, account="acct1001", uniqueid="c.4").allowed


class TestMaxDuration:
    def test_the_whole_credit_buys_exactly_the_longest_call_and_no_second(self, uow: Uow) -> None:
        # 0.18 at 0.0180/min, "30/6": 600 s cost 0.1800 exactly; 606 s would cost 0.1818.
        with uow() as u:
            customer(u, "Exact", credit=D("0.18"), accountcode="exact")
        a = auth(uow, account="exact")
        assert (a.allowed, a.max_seconds, a.reserved) == (True, 600, D("0.18"))
        second = auth(uow, account="exact")
        assert (second.allowed, second.reason) == (False, Reason.INSUFFICIENT_CREDIT)

    def test_a_postpaid_account_may_reserve_down_to_its_credit_limit(self, uow: Uow) -> None:
        with uow() as u:
            customer(u, "Post", postpaid_limit=D("0.18"), accountcode="post")
        assert auth(uow, account="post").max_seconds == 600
        assert auth(uow, account="post").reason == Reason.INSUFFICIENT_CREDIT

    def test_the_accounts_own_maximum_caps_the_call(self, uow: Uow) -> None:
        set_fields(uow, ALICE_ID, max_call_seconds=120)
        a = auth(uow, account="acct1001")
        assert (a.max_seconds, a.reserved) == (120, D("0.036"))

    def test_the_resellers_available_credit_at_its_own_sheet_caps_the_call(self, uow: Uow) -> None:
        # The reseller keeps 0.01; at wholesale 0.0120/min "30/6", 48 s cost 0.0096 and
        # 54 s 0.0108: its customer's call is cut to 48 s, though she has 10.00.
        with uow() as u:
            ledger.post(u.session, RESELLER_ID, "adjustment", D("-499.99"))
            u.commit()
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.max_seconds) == (True, 48)
        held = reservations(uow, RESELLER_ID)
        assert [(r.amount, r.parent_id) for r in held] == [(D("0.0096"), a.reservation_id)]

    def test_a_reseller_out_of_credit_stops_its_customers(self, uow: Uow) -> None:
        with uow() as u:
            ledger.post(u.session, RESELLER_ID, "adjustment", D("-500"))
            u.commit()
        a = auth(uow, account="acct1001")
        assert (a.allowed, a.reason) == (False, Reason.RESELLER_INSUFFICIENT_CREDIT)


class TestExpiry:
    def test_a_reservation_with_no_cdr_expires_after_its_call_plus_the_margin(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            customer(u, "Exact", credit=D("0.18"), accountcode="exact")
        assert auth(uow, account="exact").max_seconds == 600
        end = NOON + timedelta(seconds=600) + EXPIRY_MARGIN
        with uow() as u:
            assert expire_reservations(u, end - timedelta(seconds=1)) == 0
        with uow() as u:
            assert expire_reservations(u, end) == 1
        assert {r.status for r in reservations(uow, RESELLER_ID)} == {"expired"}
        assert auth(uow, account="exact", now=end).allowed

    def test_the_next_authorize_of_the_account_expires_its_overdue_reservations(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            customer(u, "Exact", credit=D("0.18"), accountcode="exact")
        first = auth(uow, account="exact")
        later = NOON + timedelta(seconds=600) + EXPIRY_MARGIN
        assert auth(uow, account="exact", now=later - timedelta(seconds=1)).reason == (
            Reason.INSUFFICIENT_CREDIT
        )
        assert auth(uow, account="exact", now=later).allowed
        statuses = {r.id: r.status for r in reservations(uow, first.account_id or 0)}
        assert statuses[first.reservation_id or 0] == "expired"

    def test_a_cdr_after_the_expiry_is_still_charged(self, uow: Uow) -> None:
        with uow() as u:
            account = customer(u, "Late", credit=D("1"), accountcode="late")
        a = auth(uow, account="late", uniqueid="late.1")
        with uow() as u:
            expire_reservations(u, NOON + timedelta(days=1))
        assert record(uow, cdr("late.1", "late", 60)) is Outcome.RATED
        (held,) = [r for r in reservations(uow, account) if r.id == a.reservation_id]
        assert held.status == "expired" and held.cdr_id is not None
        assert balance_and_ledger(uow, account) == (D("0.982"), D("0.982"))


class TestSettlement:
    def test_the_cdr_settles_its_reservation_and_records_trunk_and_buy_cost(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001", uniqueid="1700000000.1")
        assert record(uow, cdr("1700000000.1", "acct1001", 125)) is Outcome.RATED
        for r in reservations(uow, ALICE_ID) + reservations(uow, RESELLER_ID):
            assert (r.status, r.cdr_id is not None) == ("settled", True)
        with uow() as u:
            stored = u.session.scalars(select(Cdr)).one()
            charges = list(u.session.scalars(select(Charge).order_by(Charge.level)))
            u.session.expunge_all()
        assert stored.trunk_id == a.trunks[0].trunk_id
        # Alice 0.0180/min 30/6 -> 126 s; reseller 0.0120; provider 0.0080 per second.
        assert [(c.level, c.account_id, c.provider_id, c.cost) for c in charges] == [
            (0, ALICE_ID, None, D("0.0378")),
            (1, RESELLER_ID, None, D("0.0252")),
            (2, None, 1, D("0.0167")),
        ]
        assert balance_and_ledger(uow, ALICE_ID) == (D("9.9622"), D("9.9622"))

    def test_a_cdr_with_no_reservation_is_still_charged(self, uow: Uow) -> None:
        assert record(uow, cdr("no.res", "acct1001", 60)) is Outcome.RATED
        assert balance_and_ledger(uow, ALICE_ID) == (D("9.982"), D("9.982"))

    def test_a_cdr_that_cannot_be_rated_releases_its_reservation(self, uow: Uow) -> None:
        auth(uow, account="acct1001", uniqueid="bad.1")
        assert record(uow, cdr("bad.1", "acct1001", 60, dst="s")) is Outcome.UNRATED
        assert {r.status for r in reservations(uow, ALICE_ID)} == {"released"}
        assert balance_and_ledger(uow, ALICE_ID) == (D("10"), D("10"))
