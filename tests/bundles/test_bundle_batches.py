"""Bundled calls at the cost of a batch, not of a call, on both databases: the
listener's slice extension (services/credit/slices.extend_due) reads the holds and
counters of all its bundled calls at once, and a batch of bundled CDRs looks up which
accounts hold a bundle and what each call holds once for the batch
(services/cdr/prefetch.py). The charges stay those of the one-by-one path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ami_listener.spool import Spool
from ami_listener.writer import CdrWriter
from db import ledger
from db.bundle_schema import BundleCounter, BundleHold, BundleUse
from db.schema import Account, Reservation
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.policy import CreditPolicy
from services.credit.slices import extend_due
from tests.bundles.test_authorize_bundles import with_bundle
from tests.credit.builders import NOON
from tests.credit.test_slices import AST, answered
from tests.integration.test_cdr_batches import counted, records

D = Decimal
Uow = Callable[[], UnitOfWork]
SPAIN = "34911234567"


def bundled_calls(uow: Uow, first: int, count: int) -> list[int]:
    """`count` accounts with 60 free seconds and money for a paid minute, each with
    one answered call reserved by one-minute slices (the free minute first)."""
    ids = []
    for n in range(first, first + count):
        with uow() as u:
            with_bundle(u, f"B{n}", 60, credit=D("0.018"), accountcode=f"b{n}")
        with uow() as u:
            req = AuthorizeRequest(SPAIN, f"b{n}", uniqueid=f"bun.{n}")
            a = authorize(u, None, req, NOON, CreditPolicy(slice_seconds=60))
        assert (a.allowed, a.reserved_seconds) == (True, 60)
        answered(uow, f"bun.{n}")
        ids.append(a.reservation_id)
    return ids


def extend_counted(uow: Uow, *, commit: bool) -> tuple[dict[int, int], int]:
    with uow() as u, counted(u) as seen:
        done = extend_due(u.session, NOON + timedelta(seconds=30), CreditPolicy(), AST)
        if commit:
            u.commit()
    return done.extended, len(seen)


def test_the_extension_tick_costs_the_same_for_two_bundled_calls_as_for_six(
    uow: Uow, demo: None
) -> None:
    """Each bundled call cost two statements of its own (its holds, its counters);
    now the tick reads them for all its calls together. Each call still gets its
    paid minute past the held free one, at the paid minute's money only."""
    two = bundled_calls(uow, 0, 2)
    extend_counted(uow, commit=False)  # the first look compiles the sheets
    extended, with_two = extend_counted(uow, commit=False)
    assert extended == dict.fromkeys(two, 120)
    six = two + bundled_calls(uow, 2, 4)
    extended, with_six = extend_counted(uow, commit=True)
    assert extended == dict.fromkeys(six, 120)
    assert with_six == with_two
    with uow() as u:
        calls = u.session.scalars(select(Reservation).where(Reservation.id.in_(six))).all()
        assert {r.amount for r in calls} == {D("0.018")}  # the paid minute only, each
        for n in range(6):  # kept with the rows (services/credit/holds.py)
            code = f"b{n}"
            account = u.session.scalars(select(Account).where(Account.accountcode == code)).one()
            assert account.reserved == D("0.018")


def cdr(n: int, billsec: int) -> CdrRecord:
    """Account b<n>'s answered call (records(0, 1) is one) of `billsec` s to Spain at NOON."""
    return replace(
        records(0, 1)[0],
        uniqueid=f"bun.{n}",
        accountcode=f"b{n}",
        dst=SPAIN,
        start=NOON,
        answer=NOON,
        end=NOON + timedelta(seconds=billsec),
        duration=billsec,
        billsec=billsec,
    )


def test_a_batch_of_bundled_cdrs_consumes_each_calls_free_part_once(uow: Uow, demo: None) -> None:
    """Six bundled calls of 90 s in one batch: each level 0 counter has consumed its 60
    free seconds, holds nothing, each customer paid the 30 s past them, balances equal
    ledgers; the batch's bundle look-ups (which accounts hold one, what each call holds)
    are one statement each, whatever the number of calls."""
    bundled_calls(uow, 0, 6)
    with uow() as u, counted(u) as seen:
        assert store_batch(u, [cdr(n, 90) for n in range(6)]) == [Outcome.RATED] * 6
    # The batch's holds, and the release of what closed calls still hold (none): one
    # statement each (was one a CDR, and one a chain to ask if it holds a bundle).
    holds_read = [s for s in seen if s.lstrip().startswith("SELECT") and "FROM bundle_holds" in s]
    which = [s for s in seen if s.startswith("SELECT DISTINCT account_bundles.account_id")]
    per_chain = [s for s in seen if "count(*)" in s.lower() and "account_bundles" in s]
    assert (len(holds_read), len(which), len(per_chain)) == (2, 1, 0)
    assert_each_consumed_its_free_minute(uow)


def test_bundled_cdrs_in_a_writers_batches_one_beside_the_other(
    uow: Uow, session_factory: Callable[[], Session], tmp_path: Path, demo: None
) -> None:
    """The same six calls as three batches of the listener's writer: on PostgreSQL the
    next batch's rating, beside the one before (services/cdr/pipeline.py), must lock the
    calls' counters; it is refused that, and the batches go one after the other."""
    bundled_calls(uow, 0, 6)
    writer = CdrWriter(session_factory, Spool(tmp_path / "spool"), batch_size=2)
    writer.write([cdr(n, 90) for n in range(6)])
    assert (writer.pending, writer.outcomes["rated"], writer.failed) == ([], 6, 0)
    assert_each_consumed_its_free_minute(uow)


def assert_each_consumed_its_free_minute(uow: Uow) -> None:
    """Each level 0 counter has consumed its 60 free seconds and holds nothing, each
    customer paid the 30 s past them, balances equal ledgers."""
    with uow() as u:
        s = u.session
        assert s.scalar(select(func.count()).select_from(BundleHold)) == 0
        counters = s.scalars(select(BundleCounter)).all()
        assert len(counters) == 6
        assert {(c.consumed, c.reserved) for c in counters} == {(60, 0)}
        assert s.scalar(select(func.sum(BundleUse.amount))) == 360
        for n in range(6):
            account = s.scalars(select(Account).where(Account.accountcode == f"b{n}")).one()
            assert account.balance == ledger.ledger_sum(s, account.id)
            assert account.balance < D("0.018")  # paid the 30 s past the free minute
            assert account.reserved == 0
