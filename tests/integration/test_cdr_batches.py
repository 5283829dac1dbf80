"""The listener's batch path (services/cdr/batches.py, db/bulk.py) stores exactly what
the one-CDR path stores, at a number of statements that does not grow with the batch,
on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, func, select
from sqlalchemy.exc import IntegrityError

from ami_listener.events import cdr_from_message
from db import bulk
from db.ledger import ledger_sum
from db.schema import Account, Cdr, Charge, LedgerEntry, Reservation
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome, record_cdr
from tests.ami_synth import cdr_event

pytestmark = pytest.mark.integration

Uow = Callable[[], UnitOfWork]
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CHARGES = cast(Table, Charge.__table__)


def records(first: int, count: int) -> list[CdrRecord]:
    """Synthetic CDRs for the demo accounts (answered, unanswered, every level)."""
    out = []
    for n in range(first, first + count):
        fields = dict(
            line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            for line in cdr_event(n, START).strip().split("\r\n")
        )
        out.append(cdr_from_message(fields, UTC))
    return out


def reserve(u: UnitOfWork, calls: list[CdrRecord]) -> None:
    """An open reservation per call, as Authorize leaves it."""
    ids = dict(u.session.execute(select(Account.accountcode, Account.id)).all())
    u.session.add_all(
        Reservation(
            account_id=ids[c.accountcode],
            number=c.dst,
            amount=Decimal(1),
            max_seconds=600,
            uniqueid=c.uniqueid,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        for c in calls
    )


@contextmanager
def counted(u: UnitOfWork) -> Iterator[list[str]]:
    engine = u.session.get_bind()
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


CDR_FIELDS = (
    "accountcode",
    "account_id",
    "dst",
    "start_time",
    "answer_time",
    "billsec",
    "disposition",
    "trunk_id",
    "status",
    "unrated_reason",
    "hangup_reason",
    "prefix",
    "destination",
    "billed_seconds",
    "exact_cost",
    "cost",
    "extra",
    "source",
)


def stored(u: UnitOfWork, uniqueid: str) -> tuple[Any, ...]:
    """What is stored for one call, without its ids and clock times."""
    cdr = u.session.scalars(select(Cdr).where(Cdr.uniqueid == uniqueid)).one()
    charges = u.session.scalars(
        select(Charge).where(Charge.cdr_id == cdr.id).order_by(Charge.level)
    ).all()
    ledger = u.session.scalars(
        select(LedgerEntry).where(LedgerEntry.cdr_id == cdr.id).order_by(LedgerEntry.account_id)
    ).all()
    return (
        tuple(getattr(cdr, f) for f in CDR_FIELDS),
        cdr.rated_at is not None,
        [
            (c.level, c.account_id, c.provider_id, c.sheet_id, c.prefix, c.billed_seconds, c.cost)
            for c in charges
        ],
        [(e.account_id, e.kind, e.amount, e.reference) for e in ledger],
    )


class TestBatchPath:
    def test_stores_what_one_by_one_stores(self, uow: Uow, demo: None) -> None:
        batch = records(0, 30)
        # The same calls again under other UniqueIDs, one at a time; one unknown account.
        single = [replace(r, uniqueid=f"single.{i}") for i, r in enumerate(batch)]
        batch.append(replace(batch[0], uniqueid="batch.nobody", accountcode="nobody"))
        single.append(replace(batch[0], uniqueid="single.nobody", accountcode="nobody"))
        with uow() as u:
            outcomes = store_batch(u, batch)
        for record in single:
            with uow() as u:
                record_cdr(u, record)
        assert outcomes.count(Outcome.UNRATED) == 1 and outcomes.count(Outcome.RATED) == 30
        with uow() as u:
            for b, s in zip(batch, single, strict=True):
                assert stored(u, b.uniqueid) == stored(u, s.uniqueid), b.uniqueid
            unrated = u.session.scalars(select(Cdr).where(Cdr.uniqueid == "batch.nobody")).one()
            assert unrated.unrated_reason == "no account with accountcode 'nobody'"
            assert all(
                a.balance == ledger_sum(u.session, a.id) for a in u.session.scalars(select(Account))
            )

    def test_costs_the_same_statements_for_20_cdrs_as_for_200(self, uow: Uow, demo: None) -> None:
        with uow() as u:  # the first batch also compiles the rate sheets
            store_batch(u, records(0, 20))
        with uow() as u, counted(u) as small:
            assert None not in store_batch(u, records(20, 20))
        with uow() as u, counted(u) as large:
            assert None not in store_batch(u, records(40, 200))
        # A fall back to one by one (a bug in the fast path) would cost hundreds.
        assert len(large) == len(small) < 20

    def test_costs_the_same_statements_for_one_account_and_number_as_for_many(
        self, uow: Uow, demo: None
    ) -> None:
        """Accounts, their resellers, plans, trunks, providers and DIDs are looked up
        once for the batch (services/cdr/prefetch.py), not once each: a batch of one
        answered call (one account, one number) costs what 200 calls of three accounts
        to five numbers cost (they cost 5 statements more when each distinct accountcode,
        parent, sheet version, trunk and number was a statement of its own)."""
        with uow() as u:  # the first batch also compiles the rate sheets
            store_batch(u, records(0, 20))
        with uow() as u, counted(u) as one:
            assert store_batch(u, records(30, 1)) == [Outcome.RATED]
        with uow() as u, counted(u) as many:
            assert None not in store_batch(u, records(40, 200))
        assert len(one) == len(many)

    def test_settles_each_calls_reservation_and_releases_an_unrated_ones(
        self, uow: Uow, demo: None
    ) -> None:
        calls = records(0, 40)
        calls.append(replace(calls[0], uniqueid="bad.1", dst="not-a-number"))
        with uow() as u:
            reserve(u, calls)
            u.commit()
        with uow() as u, counted(u) as statements:
            outcomes = store_batch(u, calls)
        assert outcomes[-1] == Outcome.UNRATED
        assert sum(s.startswith("UPDATE reservations") for s in statements) == 1
        with uow() as u:
            linked = {
                uniqueid: (status, cdr_uniqueid)
                for uniqueid, status, cdr_uniqueid in u.session.execute(
                    select(Reservation.uniqueid, Reservation.status, Cdr.uniqueid).join(
                        Cdr, Cdr.id == Reservation.cdr_id, isouter=True
                    )
                )
            }
        assert linked == {
            c.uniqueid: ("released" if c.uniqueid == "bad.1" else "settled", c.uniqueid)
            for c in calls
        }

    def test_a_replayed_batch_changes_nothing(self, uow: Uow, demo: None) -> None:
        with uow() as u:
            store_batch(u, records(0, 50))
        with uow() as u:
            before = u.session.execute(select(func.count(LedgerEntry.id))).scalar_one()
            assert store_batch(u, records(0, 50)) == [Outcome.DUPLICATE] * 50
            after = u.session.execute(select(func.count(LedgerEntry.id))).scalar_one()
            cdrs = u.session.execute(select(func.count(Cdr.id))).scalar_one()
        assert (before, cdrs) == (after, 50)


@pytest.fixture
def cdr_id(uow: Uow, demo: None) -> int:
    """One stored CDR, for charges to point at."""
    with uow() as u:
        store_batch(u, records(0, 1))
        return int(u.session.execute(select(Cdr.id)).scalar_one())


def charge(cdr_id: int, **values: object) -> dict[str, object]:
    return {"cdr_id": cdr_id, "level": 0, "cost": Decimal("0.0000015"), **values}


class TestBulkInsert:
    def test_fills_the_columns_defaults_and_rounds_money_as_the_orm(
        self, uow: Uow, cdr_id: int
    ) -> None:
        with uow() as u:
            bulk.insert_rows(u.session, CHARGES, [charge(cdr_id, prefix="34\t\\")])
            u.commit()
        with uow() as u:
            row = u.session.scalars(select(Charge).where(Charge.prefix == "34\t\\")).one()
            assert (row.cost, row.exact_cost, row.billed_seconds) == (Decimal("0.000002"), 0, 0)
            assert row.created_at.tzinfo is UTC and row.account_id is None

    def test_text_comes_back_as_written_clean_columns_or_not(self, uow: Uow, cdr_id: int) -> None:
        """A text column is escaped for COPY only when one of its values needs it (a
        scan of the whole column first): either way every value comes back as it was,
        and a NULL among them too."""
        prefixes = ["34", "", "34\t1", "back\\slash", "line\nbreak\r", "44"]
        with uow() as u:
            before = u.session.execute(select(func.max(Charge.id))).scalar_one()
            bulk.insert_rows(u.session, CHARGES, [charge(cdr_id, prefix=p) for p in prefixes])
            bulk.insert_rows(u.session, CHARGES, [charge(cdr_id, prefix=p) for p in ("1", "2")])
            currencies = ["EUR", None, "US\t"]
            bulk.insert_rows(
                u.session, CHARGES, [charge(cdr_id, sheet_currency=c) for c in currencies]
            )
            u.commit()
        with uow() as u:
            stored = u.session.execute(
                select(Charge.prefix, Charge.sheet_currency)
                .where(Charge.id > before)
                .order_by(Charge.id)
            ).all()
        assert [p for p, _ in stored] == [*prefixes, "1", "2", "", "", ""]
        assert [c for _, c in stored][-3:] == currencies
        # A clean column's values go into the lines as they are: no pass over them.
        with uow() as u:
            clean, dirty = ["34", "", "44"], ["34", "4\t4"]
            conn = u.session.connection()
            if conn.dialect.name == "postgresql":
                assert bulk._column_text(conn, CHARGES, "prefix", clean) is clean
                assert bulk._column_text(conn, CHARGES, "prefix", dirty) == ["34", "4\\t4"]

    def test_amounts_and_times_that_differ_row_by_row_come_back_exactly(
        self, uow: Uow, cdr_id: int
    ) -> None:
        """Money, rate and time columns have a text form of their own in the COPY (not
        copy_text's): each row's value, None, an int, an amount in exponent form (what
        `str` of a Decimal may write), another time zone."""
        madrid = timezone(timedelta(hours=2))
        amounts = [Decimal("1.5"), None, Decimal("-1E-6"), 3, Decimal("999999.123456")]
        rates = [Decimal("1.2E-8"), Decimal("1.0850000000"), None, 1, Decimal("1E+2")]
        times = [
            datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 3, 29, 4, 0, 0, 1, tzinfo=madrid),
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 12, 31, 23, 59, 59, tzinfo=madrid),
            datetime(2027, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
        ]
        rows = [
            charge(cdr_id, prefix=f"p{n}", operator_cost=amount, fx_rate=rate, created_at=at)
            for n, (amount, rate, at) in enumerate(zip(amounts, rates, times, strict=True))
        ]
        with uow() as u:
            bulk.insert_rows(u.session, CHARGES, rows)
            u.commit()
        with uow() as u:
            got = u.session.execute(
                select(Charge.operator_cost, Charge.fx_rate, Charge.created_at)
                .where(Charge.prefix.like("p%"))
                .order_by(Charge.prefix)
            ).all()
        assert [tuple(r) for r in got] == [
            (
                None if a is None else Decimal(a),
                None if r is None else Decimal(r),
                t.astimezone(UTC),
            )
            for a, r, t in zip(amounts, rates, times, strict=True)
        ]

    def test_refuses_rows_with_different_columns_and_writes_nothing(
        self, uow: Uow, cdr_id: int
    ) -> None:
        with uow() as u:
            before = u.session.execute(select(func.count(Charge.id))).scalar_one()
            rows = [charge(cdr_id), charge(cdr_id, prefix="1")]
            with pytest.raises(ValueError, match="different columns"):
                bulk.insert_rows(u.session, CHARGES, rows)
            # as wide as the first, with another column in place of one of its own
            rows = [charge(cdr_id), {**charge(cdr_id, prefix="1"), "level": None}]
            del rows[1]["cost"]
            with pytest.raises(ValueError, match="different columns"):
                bulk.insert_rows(u.session, CHARGES, rows)
            assert u.session.execute(select(func.count(Charge.id))).scalar_one() == before

    def test_a_constraint_violation_is_sqlalchemys_integrity_error(
        self, uow: Uow, cdr_id: int
    ) -> None:
        with uow() as u, pytest.raises(IntegrityError):
            bulk.insert_rows(u.session, CHARGES, [charge(cdr_id, level=None)])
