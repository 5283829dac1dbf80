"""SettleCall's rules through its use case (docs/credit_control.md, Settlement; the
faults are docs/faults.md): every refusal with its message and nothing stored, and the
defaults of a call the switch reports with few fields. Found by mutation testing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.schema import Account, Cdr, Reservation
from db.session import UnitOfWork
from rating.errors import BillingError, InvalidInput, NotFound
from services.credit.calls import MAX_BILLSEC, SettleCommand, Settled, settle_call
from tests.credit.builders import ALICE_ID, NOON, customer
from tests.credit.test_authorize import SPAIN, auth, reservations
from tests.credit.test_slices import ADMIN

D = Decimal
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


def settle(uow: Uow, uniqueid: str = "s.1", billsec: int = 60, **fields: object) -> Settled:
    with uow() as u:
        return settle_call(u, ADMIN, SettleCommand(uniqueid, billsec, **fields))  # type: ignore[arg-type]


def refused(uow: Uow, error: type[BillingError], **fields: object) -> str:
    """The message of the refusal; and nothing was stored."""
    with pytest.raises(error) as raised:
        settle(uow, **fields)  # type: ignore[arg-type]
    with uow() as u:
        assert u.session.scalars(select(Cdr)).all() == []
    return raised.value.message


class TestRefusals:
    def test_the_uniqueid_is_1_to_64_characters(self, uow: Uow) -> None:
        for bad in ["", "   ", "u" * 65]:
            message = refused(uow, InvalidInput, uniqueid=bad, account_id=ALICE_ID, number=SPAIN)
            assert message == "uniqueid: 1 to 64 characters"
        assert settle(uow, "u" * 64, account_id=ALICE_ID, number=SPAIN).outcome == "rated"

    def test_billsec_is_0_to_a_day(self, uow: Uow) -> None:
        for bad in [-1, MAX_BILLSEC + 1]:
            message = refused(uow, InvalidInput, billsec=bad, account_id=ALICE_ID, number=SPAIN)
            assert message == "billsec: 0 to 86400"
        assert MAX_BILLSEC == 86_400
        done = settle(uow, "day", MAX_BILLSEC, account_id=5, number=SPAIN)  # Carol, postpaid
        assert done.outcome == "rated"
        zero = settle(uow, "zero", 0, account_id=ALICE_ID, number=SPAIN)
        assert (zero.outcome, zero.cost) == ("rated", D(0))

    def test_without_a_reservation_the_account_and_number_are_needed(self, uow: Uow) -> None:
        assert refused(uow, InvalidInput) == "give reservation_id or account_id"
        assert refused(uow, NotFound, account_id=99, number=SPAIN) == "account 99 not found"
        message = refused(uow, InvalidInput, account_id=ALICE_ID, number="  ")
        assert message == "number: required without a reservation"

    def test_a_reservation_must_be_a_calls_own_and_the_accounts(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001", uniqueid="chan.1")
        assert refused(uow, NotFound, reservation_id=9999) == "reservation 9999 not found"
        (reseller_row,) = [r for r in reservations(uow, 2) if r.parent_id == a.reservation_id]
        message = refused(uow, NotFound, reservation_id=reseller_row.id)
        assert message == f"reservation {reseller_row.id} not found"  # only a call's own row
        message = refused(uow, InvalidInput, uniqueid="chan.2", reservation_id=a.reservation_id)
        assert message == "uniqueid: the reservation was made for another channel"
        message = refused(
            uow, InvalidInput, uniqueid="chan.1", reservation_id=a.reservation_id, account_id=4
        )
        assert message == "account_id: the reservation is another account's"
        assert {r.status for r in reservations(uow, ALICE_ID)} == {"open"}

    def test_an_unknown_trunk_or_disposition_is_refused(self, uow: Uow) -> None:
        call = {"account_id": ALICE_ID, "number": SPAIN}
        assert refused(uow, NotFound, trunk_id=99, **call) == "trunk 99 not found"
        message = refused(uow, InvalidInput, disposition="HUNG", **call)
        assert message == "disposition: one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION"


class TestDefaults:
    def test_a_reservation_named_without_a_channel_takes_the_calls_uniqueid(self, uow: Uow) -> None:
        a = auth(uow, account="acct1001")  # Authorize over SOAP may name no channel
        done = settle(uow, "late.1", 125, reservation_id=a.reservation_id)
        assert (done.reservation_id, done.reservation_status) == (a.reservation_id, "settled")
        assert (done.account_id, done.cost) == (ALICE_ID, D("0.0378"))
        with uow() as u:
            held = u.session.get(Reservation, a.reservation_id)
            assert held is not None and held.uniqueid == "late.1"

    def test_the_call_starts_when_it_was_reserved_and_its_number_is_the_reservations(
        self, uow: Uow
    ) -> None:
        auth(uow, account="acct1001", uniqueid="r.1")  # at NOON
        done = settle(uow, "r.1", 60)
        with uow() as u:
            stored = u.session.scalars(select(Cdr).where(Cdr.id == done.cdr_id)).one()
            row = (stored.dst, stored.start_time, stored.answer_time, stored.end_time)
            assert row == (SPAIN, NOON, NOON, NOON + timedelta(seconds=60))
            assert (stored.disposition, stored.billsec, stored.source) == ("ANSWERED", 60, "soap")

    def test_a_call_of_zero_seconds_was_not_answered_and_a_busy_one_bills_nothing(
        self, uow: Uow
    ) -> None:
        call = {"account_id": ALICE_ID, "number": SPAIN}
        settle(uow, "z.1", 0, **call)
        busy = settle(uow, "z.2", 30, disposition="BUSY", **call)
        assert busy.cost == D(0)
        with uow() as u:
            rows = u.session.execute(
                select(Cdr.uniqueid, Cdr.disposition, Cdr.billsec, Cdr.answer_time).order_by(
                    Cdr.uniqueid
                )
            )
            assert [tuple(r) for r in rows] == [
                ("z.1", "NO ANSWER", 0, None),
                ("z.2", "BUSY", 0, None),
            ]

    def test_an_unrated_call_costs_nothing_and_a_call_without_reservation_names_none(
        self, uow: Uow
    ) -> None:
        done = settle(uow, "x.1", 60, account_id=ALICE_ID, number="99123456")  # no rate
        assert (done.status, done.cost) == ("unrated", D(0))
        assert (done.reservation_id, done.reservation_status) == (None, "")


class TestTheStoredCdrAndRetries:
    def test_what_the_switch_did_not_say_is_empty_on_the_cdr(self, uow: Uow) -> None:
        # SettleCall knows the account, the number and the seconds: the CDR carries the
        # account's accountcode (empty for an account without one), `Dial` as its
        # application, a duration of the seconds reported, and nothing made up.
        with uow() as u:
            nameless = customer(u, "Nameless", credit=D("10"))
        settle(uow, "f.1", 45, account_id=ALICE_ID, number=SPAIN)
        settle(uow, "f.2", 30, account_id=nameless, number=SPAIN, disposition="BUSY")
        with uow() as u:
            rows = u.session.execute(
                select(
                    Cdr.uniqueid,
                    Cdr.accountcode,
                    Cdr.src,
                    Cdr.dcontext,
                    Cdr.callerid,
                    Cdr.channel,
                    Cdr.dstchannel,
                    Cdr.lastapp,
                    Cdr.lastdata,
                    Cdr.duration,
                    Cdr.billsec,
                ).order_by(Cdr.uniqueid)
            )
            assert [tuple(r) for r in rows] == [
                ("f.1", "acct1001", "", "", "", "", "", "Dial", "", 45, 45),
                ("f.2", "", "", "", "", "", "", "Dial", "", 30, 0),
            ]

    def test_a_one_second_call_was_answered_and_pays_its_first_block(self, uow: Uow) -> None:
        done = settle(uow, "one.1", 1, account_id=ALICE_ID, number=SPAIN)
        assert (done.status, done.cost) == ("rated", D("0.009"))  # "30/6" at 0.0180/min
        with uow() as u:
            stored = u.session.get(Cdr, done.cdr_id)
            assert stored is not None
            assert (stored.disposition, stored.billsec) == ("ANSWERED", 1)

    def test_a_retry_by_uniqueid_alone_answers_the_first_settlement(self, uow: Uow) -> None:
        # A switch that lost the answer sends the call again, as the first time, with
        # only its channel: the reservation is settled by then, which must not turn the
        # retry into "give reservation_id or account_id".
        a = auth(uow, account="acct1001", uniqueid="t.1")
        first = settle(uow, "t.1", 60)
        again = settle(uow, "t.1", 60)
        assert (first.outcome, again.outcome) == ("rated", "duplicate")
        assert again == Settled(
            first.cdr_id, "duplicate", "rated", ALICE_ID, D("0.018"), a.reservation_id, "settled"
        )
        with uow() as u:
            assert len(u.session.scalars(select(Cdr)).all()) == 1
            alice = u.session.get(Account, ALICE_ID)
            assert alice is not None and alice.balance == D("9.982")

    def test_the_answer_names_the_calls_own_reservation_only(self, uow: Uow) -> None:
        other = auth(uow, account="acct1001", uniqueid="own.1")
        assert other.allowed
        done = settle(uow, "own.2", 60, account_id=ALICE_ID, number=SPAIN)
        assert (done.outcome, done.reservation_id, done.reservation_status) == ("rated", None, "")
        assert {r.status for r in reservations(uow, ALICE_ID)} == {"open"}
