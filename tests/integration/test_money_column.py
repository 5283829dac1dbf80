"""Money is exact on both databases: in columns, in SQL arithmetic and in sums."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from db import ledger
from db.schema import Account, Cdr, LedgerEntry
from db.session import UnitOfWork

D = Decimal


def new_account(uow: Callable[[], UnitOfWork], **fields: object) -> int:
    with uow() as u:
        account = Account(role="customer", name="t", path="/", **fields)
        u.session.add(account)
        u.commit()
        return account.id


@pytest.mark.parametrize(
    "amount", ["10.555", "0.000001", "-0.000001", "999999999999.999999", "123456.123456", "0"]
)
def test_an_amount_comes_back_exactly(uow: Callable[[], UnitOfWork], amount: str) -> None:
    account_id = new_account(uow, balance=D(amount))
    with uow() as u:
        assert u.session.get(Account, account_id).balance == D(amount)


def test_more_than_six_places_is_rounded_half_up_before_writing(
    uow: Callable[[], UnitOfWork],
) -> None:
    account_id = new_account(uow, balance=D("0.0000005"))
    with uow() as u:
        assert u.session.get(Account, account_id).balance == D("0.000001")


def test_a_float_is_refused(uow: Callable[[], UnitOfWork]) -> None:
    with pytest.raises(StatementError, match="never float"):
        new_account(uow, balance=0.1)


def test_two_thousand_postings_sum_exactly_in_sql(uow: Callable[[], UnitOfWork]) -> None:
    account_id = new_account(uow)
    with uow() as u:
        for _ in range(2_000):
            ledger.post(u.session, account_id, "adjustment", D("0.000001"))
        ledger.post(u.session, account_id, "payment", D("0.1"))
        u.commit()
    with uow() as u:
        balance = u.session.get(Account, account_id).balance
        assert balance == D("0.102")
        assert ledger.ledger_sum(u.session, account_id) == balance
        last = u.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(1)).one()
        assert last.balance_after == D("0.102")


def test_an_uncommitted_posting_changes_nothing(uow: Callable[[], UnitOfWork]) -> None:
    account_id = new_account(uow, balance=D("5"))
    with uow() as u:
        ledger.post(u.session, account_id, "payment", D("1"))
    with uow() as u:
        assert u.session.get(Account, account_id).balance == D("5")
        assert ledger.ledger_sum(u.session, account_id) == D(0)


def test_times_are_stored_as_utc_whatever_their_offset(uow: Callable[[], UnitOfWork]) -> None:
    plus3 = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    with uow() as u:
        cdr = Cdr(uniqueid="1.1", sequence=1, start_time=plus3, end_time=plus3)
        u.session.add(cdr)
        u.commit()
        cdr_id = cdr.id
    with uow() as u:
        stored = u.session.get(Cdr, cdr_id).start_time
        assert stored == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
        assert stored.tzinfo is UTC


def test_a_naive_time_is_refused(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u, pytest.raises(StatementError, match="timezone-aware"):
        now = datetime(2026, 11, 22, 12, 0)
        u.session.add(Cdr(uniqueid="1.2", sequence=1, start_time=now, end_time=now))
        u.session.flush()
