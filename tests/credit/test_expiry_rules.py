"""Expiry and release rules the other credit tests leave open (docs/credit_control.md,
"Expiry" and "Channels gone, CDRs late"; found by mutation testing): whose reservations
an Authorize expires, what release_gone touches, and what both tell the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest

from db.session import UnitOfWork
from services.cdr.usecases import Outcome
from services.credit.expiry import EXPIRY_MARGIN, expire_reservations, release_gone
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID
from tests.credit.test_authorize import auth, cdr, record, reservations

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
