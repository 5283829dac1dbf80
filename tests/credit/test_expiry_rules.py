"""Expiry and release rules the other credit tests leave open (docs/credit_control.md,
"Expiry" and "Channels gone, CDRs late"; found by mutation testing): whose reservations
an Authorize expires, what release_gone touches, and what both tell the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update

from db.schema import Account, Reservation
from db.session import UnitOfWork
from services.cdr.usecases import Outcome
from services.credit.expiry import (
    EXPIRY_MARGIN,
    expire_due,
    expire_reservations,
    release_calls,
    release_gone,
)
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID
from tests.credit.test_authorize import auth, cdr, record, reservations

D = Decimal
Uow = Callable[[], UnitOfWork]
CAROL_ID = 5  # postpaid, directly below the operator: a chain of her own

pytestmark = pytest.mark.usefixtures("demo")


class TestWhoseReservationsExpire:
    def test_an_authorize_expires_only_its_own_chains_overdue_reservations(self, uow: Uow) -> None:
        alice = auth(uow, account="acct1001")  # the whole call: max_seconds reserved
        overdue = NOON + timedelta(seconds=alice.max_seconds) + EXPIRY_MARGIN
        carol = auth(uow, account="acct1003", now=overdue)
        assert (carol.allowed, carol.account_id) == (True, CAROL_ID)
        statuses = {r.status for r in reservations(uow, ALICE_ID) + reservations(uow, RESELLER_ID)}
        assert statuses == {"open"}

    def test_an_authorize_that_expires_its_own_leaves_the_other_chains_alone(
        self, uow: Uow
    ) -> None:
        alice = auth(uow, account="acct1001")
        auth(uow, account="acct1003", uniqueid="carol.1")
        overdue = NOON + timedelta(seconds=alice.max_seconds) + EXPIRY_MARGIN
        assert auth(uow, account="acct1003", uniqueid="carol.2", now=overdue).allowed
        assert [r.status for r in reservations(uow, CAROL_ID)] == ["expired", "open"]
        statuses = {r.status for r in reservations(uow, ALICE_ID) + reservations(uow, RESELLER_ID)}
        assert statuses == {"open"}  # as overdue as Carol's, but another chain's

    def test_the_expiry_job_counts_calls_and_says_how_many(
        self, uow: Uow, caplog: pytest.LogCaptureFixture
    ) -> None:
        first = auth(uow, account="acct1001")
        auth(uow, account="acct1001")
        auth(uow, account="acct1003")  # Carol's: no reseller above her, one row
        overdue = NOON + timedelta(seconds=first.max_seconds) + EXPIRY_MARGIN
        with caplog.at_level(logging.INFO, logger="services.credit.expiry"), uow() as u:
            assert expire_reservations(u, overdue) == 3  # three calls, five rows
        assert "expired the reservations of 3 calls" in caplog.messages
        assert {r.status for r in reservations(uow, RESELLER_ID)} == {"expired"}
        with uow() as u:
            assert expire_reservations(u, overdue) == 0  # nothing left to expire

    def test_the_expiry_job_without_a_moment_expires_what_is_overdue_now(self, uow: Uow) -> None:
        # `siptar reservations expire` gives no moment: the present, an aware UTC one.
        # The call of 23 November 2026 at noon is long overdue by now.
        auth(uow, account="acct1003")
        with uow() as u:
            assert expire_reservations(u) == 1
        assert [r.status for r in reservations(uow, CAROL_ID)] == ["expired"]


class TestReleaseGone:
    def test_only_open_reservations_of_the_channels_named_are_released_at_every_level(
        self, uow: Uow, caplog: pytest.LogCaptureFixture
    ) -> None:
        gone = auth(uow, account="acct1001", uniqueid="zz.gone")
        early = auth(uow, account="acct1001", uniqueid="aa.gone")
        done = auth(uow, account="acct1001", uniqueid="done.1")
        kept = auth(uow, account="acct1001", uniqueid="kept.1")
        assert record(uow, cdr("done.1", "acct1001", 60)) is Outcome.RATED
        # More channels than two queries take (500 each): gone ones sort first and last.
        names = [f"other.{i:04}" for i in range(1200)] + ["", "done.1", "zz.gone", "aa.gone"]
        with caplog.at_level(logging.INFO, logger="services.credit.expiry"), uow() as u:
            assert release_gone(u.session, names) == 2
            u.commit()
        assert "released the reservations of 2 call(s) whose channel is gone" in caplog.messages
        by_call: dict[int | None, set[str]] = {}
        for r in reservations(uow, ALICE_ID) + reservations(uow, RESELLER_ID):
            by_call.setdefault(r.parent_id or r.id, set()).add(r.status)
        assert by_call == {
            gone.reservation_id: {"released"},
            early.reservation_id: {"released"},
            done.reservation_id: {"settled"},
            kept.reservation_id: {"open"},
        }
        with uow() as u:
            assert release_gone(u.session, ["zz.gone", "aa.gone", ""]) == 0  # released already


class TestWhatClosingLeavesBehind:
    def test_a_reservation_loaded_in_the_session_shows_its_new_status(self, uow: Uow) -> None:
        """Expiry and release close rows by a Core UPDATE: a caller that loaded one
        before (Authorize, a callback) reads its status as it is now, not as it was."""
        late = auth(uow, account="acct1003", uniqueid="late.1")  # Carol: a chain of her own
        gone = auth(uow, account="acct1001", uniqueid="gone.1", now=NOON + timedelta(hours=4))
        with uow() as u:
            loaded = [u.session.get(Reservation, r.reservation_id) for r in (late, gone)]
            assert [r.status for r in loaded if r is not None] == ["open", "open"]
            assert expire_due(u.session, NOON + timedelta(hours=4)) == 1
            assert [r.status for r in loaded if r is not None] == ["expired", "open"]
            assert release_gone(u.session, ["gone.1"]) == 1
            assert [r.status for r in loaded if r is not None] == ["expired", "released"]

    def test_releasing_a_call_that_expired_or_was_settled_changes_nothing(self, uow: Uow) -> None:
        """release_calls (a callback's legs) on calls closed meanwhile: their money was
        freed once, when they closed, and is not freed again."""
        expired = auth(uow, account="acct1001", uniqueid="x.1")
        settled = auth(uow, account="acct1001", uniqueid="s.1")
        with uow() as u:
            assert expire_due(u.session, NOON + timedelta(hours=4), [ALICE_ID, RESELLER_ID]) == 2
            u.commit()
        auth(uow, account="acct1001", uniqueid="s.1", now=NOON + timedelta(hours=4))
        assert record(uow, cdr("s.1", "acct1001", 60)) is Outcome.RATED
        before = held_by(uow, ALICE_ID, RESELLER_ID)
        with uow() as u:
            ids = [expired.reservation_id, settled.reservation_id]
            assert release_calls(u.session, [i for i in ids if i is not None]) == 0
            u.commit()
        assert held_by(uow, ALICE_ID, RESELLER_ID) == before
        statuses = {r.status for r in reservations(uow, ALICE_ID) + reservations(uow, RESELLER_ID)}
        assert statuses == {"expired", "settled"}


class TestManyCallsAtOnce:
    """More calls than one statement takes (500 channels, 1,000 rows): none is left out
    or counted twice. Carol's calls (no reseller above her: one row a call), written
    straight into the table with what they hold."""

    CALLS = 1001

    def calls(self, uow: Uow, prefix: str, expires_at: datetime) -> list[str]:
        uniqueids = [f"{prefix}.{i:04}" for i in range(self.CALLS)]
        row = {"account_id": CAROL_ID, "number": "34911234567", "amount": D("0.01")}
        with uow() as u:
            u.session.execute(
                insert(Reservation),
                [
                    {**row, "max_seconds": 60, "uniqueid": uid, "expires_at": expires_at}
                    for uid in uniqueids
                ],
            )
            u.session.execute(
                update(Account)
                .where(Account.id == CAROL_ID)
                .values(reserved=Account.reserved + D("0.01") * self.CALLS)
            )
            u.commit()
        return uniqueids

    def test_every_channel_gone_is_released_and_every_overdue_call_expired(self, uow: Uow) -> None:
        gone = self.calls(uow, "gone", NOON + timedelta(hours=1))
        self.calls(uow, "due", NOON)
        with uow() as u:
            assert release_gone(u.session, gone) == self.CALLS
            assert expire_due(u.session, NOON) == self.CALLS
            u.commit()
        with uow() as u:
            counts = u.session.execute(
                select(Reservation.status, func.count())
                .where(Reservation.account_id == CAROL_ID)
                .group_by(Reservation.status)
            ).all()
            assert dict(counts) == {"released": self.CALLS, "expired": self.CALLS}
        assert held_by(uow, CAROL_ID) == [D(0)]


def held_by(uow: Uow, *account_ids: int) -> list[Decimal]:
    with uow() as u:
        return [u.session.get_one(Account, a).reserved for a in account_ids]
