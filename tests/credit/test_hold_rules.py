"""The rules of services/credit/holds.py and reservation_rows.py through their public
functions, on both databases (demo data, tests/credit/builders.py): what each adds to
`accounts.reserved` and `trunks.open_calls`, that an object already loaded in the
session sees the new value, what closing rows gives back, and the ids of one call's
rows. test_holds.py checks that a mix of every writer never drifts; these pin down
each piece (found by mutation testing, docs/mutation.md)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from db.schema import Account, Reservation, Trunk
from db.session import UnitOfWork
from services.credit.holds import (
    Closed,
    add_open_calls,
    add_reserved,
    lock_accounts,
    lock_accounts_of_calls,
)
from services.credit.reservation_rows import insert_reservations, new_ids
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID

pytestmark = pytest.mark.usefixtures("demo")

D = Decimal
Uow = Callable[[], UnitOfWork]
BOB_ID, CAROL_ID, TRUNK_ID = 4, 5, 1


def reserved(uow: Uow) -> dict[int, Decimal]:
    with uow() as u:
        return {a: r for a, r in u.session.execute(select(Account.id, Account.reserved))}


def open_calls(uow: Uow) -> int:
    with uow() as u:
        return u.session.execute(select(Trunk.open_calls).where(Trunk.id == TRUNK_ID)).scalar_one()


class TestAddReserved:
    def test_adds_each_amount_to_its_own_account_exactly(self, uow: Uow) -> None:
        before = reserved(uow)
        with uow() as u:
            add_reserved(u.session, {ALICE_ID: D("0.000001"), RESELLER_ID: D("12.345678")})
            u.commit()
        with uow() as u:
            add_reserved(u.session, {ALICE_ID: D("0.5"), RESELLER_ID: D("-2.345678")})
            u.commit()
        after = reserved(uow)
        assert after[ALICE_ID] - before[ALICE_ID] == D("0.500001")
        assert after[RESELLER_ID] - before[RESELLER_ID] == D("10")
        assert {a: r for a, r in after.items() if a not in (ALICE_ID, RESELLER_ID)} == {
            a: r for a, r in before.items() if a not in (ALICE_ID, RESELLER_ID)
        }

    def test_a_loaded_account_sees_its_new_amount_in_the_same_session(self, uow: Uow) -> None:
        with uow() as u:
            alice, bob = u.session.get(Account, ALICE_ID), u.session.get(Account, BOB_ID)
            assert alice is not None and bob is not None
            was_alice, was_bob = alice.reserved, bob.reserved
            add_reserved(u.session, {ALICE_ID: D("1.25"), BOB_ID: D("0.75")})
            assert (alice.reserved, bob.reserved) == (was_alice + D("1.25"), was_bob + D("0.75"))

    def test_zero_amounts_and_none_at_all_change_nothing(self, uow: Uow) -> None:
        before = reserved(uow)
        with uow() as u:
            add_reserved(u.session, {})
            add_reserved(u.session, {ALICE_ID: D(0), BOB_ID: D("0.000000")})
            add_reserved(u.session, {CAROL_ID: D("0.10"), ALICE_ID: D(0)})
            u.commit()
        after = reserved(uow)
        assert after[CAROL_ID] == before[CAROL_ID] + D("0.10")
        assert {a: r for a, r in after.items() if a != CAROL_ID} == {
            a: r for a, r in before.items() if a != CAROL_ID
        }


class TestAddOpenCalls:
    def test_adds_each_count_and_a_loaded_trunk_sees_it(self, uow: Uow) -> None:
        was = open_calls(uow)
        with uow() as u:
            trunk = u.session.get(Trunk, TRUNK_ID)
            assert trunk is not None
            add_open_calls(u.session, {TRUNK_ID: 3})
            assert trunk.open_calls == was + 3
            add_open_calls(u.session, {TRUNK_ID: -1})
            assert trunk.open_calls == was + 2
            u.commit()
        assert open_calls(uow) == was + 2

    def test_zero_counts_change_nothing(self, uow: Uow) -> None:
        was = open_calls(uow)
        with uow() as u:
            add_open_calls(u.session, {})
            add_open_calls(u.session, {TRUNK_ID: 0})
            u.commit()
        assert open_calls(uow) == was


class TestClosed:
    def test_gives_back_each_rows_amount_and_the_customer_rows_trunk(self) -> None:
        closed = Closed()
        closed.row(ALICE_ID, D("0.30"), None, TRUNK_ID)  # Alice's call on trunk 1
        closed.row(RESELLER_ID, D("0.20"), 41, None)  # the reseller's row of that call
        closed.row(ALICE_ID, D("0.05"), None, None)  # a call that offered no trunk
        closed.row(BOB_ID, D("0.10"), None, TRUNK_ID)
        closed.row(RESELLER_ID, D("0.07"), 42, TRUNK_ID)  # a reseller row never counts
        assert closed.reserved == {
            ALICE_ID: D("-0.35"),
            RESELLER_ID: D("-0.27"),
            BOB_ID: D("-0.10"),
        }
        assert dict(closed.calls) == {TRUNK_ID: -2}

    def test_apply_changes_the_accounts_and_the_trunks_unless_told_not_to(self, uow: Uow) -> None:
        before, was = reserved(uow), open_calls(uow)
        closed = Closed()
        closed.row(ALICE_ID, D("0.30"), None, TRUNK_ID)
        with uow() as u:
            closed.apply(u.session, trunks=False)
            u.commit()
        assert reserved(uow)[ALICE_ID] == before[ALICE_ID] - D("0.30")
        assert open_calls(uow) == was
        with uow() as u:
            closed.apply(u.session)
            u.commit()
        assert reserved(uow)[ALICE_ID] == before[ALICE_ID] - D("0.60")
        assert open_calls(uow) == was - 1


def row(account_id: int, amount: str) -> dict[str, object]:
    return {
        "account_id": account_id,
        "number": "34911234567",
        "amount": D(amount),
        "max_seconds": 600,
        "reserved_seconds": 60,
        "status": "open",
        "uniqueid": "r.1",
        "created_at": NOON,
        "expires_at": NOON,
        "trunk_id": None,
    }


class TestReservationRows:
    def test_one_calls_rows_point_at_the_customers_row_written_first(self, uow: Uow) -> None:
        with uow() as u:
            first = insert_reservations(u.session, [row(ALICE_ID, "0.1")])
            customer = insert_reservations(
                u.session, [row(ALICE_ID, "0.3"), row(RESELLER_ID, "0.2"), row(1, "0.1")]
            )
            u.commit()
        with uow() as u:
            rows = u.session.execute(
                select(Reservation.id, Reservation.account_id, Reservation.parent_id)
                .where(Reservation.id >= first)
                .order_by(Reservation.id)
            ).all()
        assert customer > first
        assert [tuple(r) for r in rows] == [
            (first, ALICE_ID, None),
            (customer, ALICE_ID, None),
            (customer + 1, RESELLER_ID, customer),
            (customer + 2, 1, customer),
        ]

    def test_new_ids_are_unused_distinct_and_in_order(self, uow: Uow) -> None:
        with uow() as u:
            insert_reservations(u.session, [row(ALICE_ID, "0.1")])
            highest = u.session.execute(select(func.max(Reservation.id))).scalar_one()
            ids = new_ids(u.session, 3)
        assert len(set(ids)) == 3 and ids == sorted(ids) and min(ids) > highest


def locked(uow: Uow, account_ids: list[int]) -> list[int]:
    """Which of these accounts another transaction cannot lock right now (NOWAIT)."""
    taken = []
    for account_id in account_ids:
        with uow() as u:
            try:
                u.session.execute(
                    text("SELECT id FROM accounts WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": account_id},
                )
            except OperationalError:  # LockNotAvailable
                taken.append(account_id)
    return taken


class TestLocks:
    """On PostgreSQL the lock functions lock exactly the accounts they are given (SQLite
    serialises whole writers and takes no row locks: nothing to see there)."""

    @pytest.fixture(autouse=True)
    def _postgresql_only(self, backend: str) -> None:
        if backend != "postgresql":
            pytest.skip("SQLite takes no row locks (BEGIN IMMEDIATE serialises writers)")

    def test_lock_accounts_locks_those_accounts_until_the_end_of_the_transaction(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            lock_accounts(u.session, [ALICE_ID, RESELLER_ID, ALICE_ID])
            assert locked(uow, [1, RESELLER_ID, ALICE_ID, BOB_ID]) == [RESELLER_ID, ALICE_ID]
        assert locked(uow, [RESELLER_ID, ALICE_ID]) == []

    def test_lock_accounts_of_calls_locks_every_level_of_the_calls_and_the_others(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            call = insert_reservations(u.session, [row(ALICE_ID, "0.3"), row(RESELLER_ID, "0.2")])
            insert_reservations(u.session, [row(BOB_ID, "0.3")])  # another call
            u.commit()
        with uow() as u:
            lock_accounts_of_calls(u.session, [call], [CAROL_ID])
            assert locked(uow, [1, RESELLER_ID, ALICE_ID, BOB_ID, CAROL_ID]) == [
                RESELLER_ID,
                ALICE_ID,
                CAROL_ID,
            ]
        with uow() as u:
            lock_accounts_of_calls(u.session, [], [BOB_ID])
            assert locked(uow, [ALICE_ID, BOB_ID]) == [BOB_ID]
