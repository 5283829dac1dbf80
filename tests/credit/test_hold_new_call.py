"""A new call's hold in one statement on PostgreSQL (services/credit/call_hold.hold_new_call)
and the reserve step that uses it (services/credit/reserve.claim_and_hold): the rows it
writes are the ones the plain statements write, `accounts.reserved` and
`trunks.open_calls` move with them, a full trunk changes nothing, and the reserve step
then takes the next trunk with the plain statements. On SQLite the reserve step takes
the plain statements only (checked by the statement count, test_statement_count.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db.schema import Account, Reservation, Trunk
from db.session import UnitOfWork
from services.credit.call_hold import hold_new_call
from services.credit.reservation_rows import insert_reservations
from services.credit.reserve import PricedHold, claim_and_hold
from services.credit.routing import TrunkChoice
from tests.credit.builders import ALICE_ID, RESELLER_ID, trunk
from tests.credit.test_hold_rules import row as rules_row

pytestmark = pytest.mark.usefixtures("demo")

D = Decimal
Uow = Callable[[], UnitOfWork]
FIELDS = (
    Reservation.account_id,
    Reservation.number,
    Reservation.amount,
    Reservation.max_seconds,
    Reservation.reserved_seconds,
    Reservation.status,
    Reservation.created_at,
    Reservation.expires_at,
)


def postgresql_only(uow: Uow) -> None:
    with uow() as u:
        if u.session.get_bind().dialect.name != "postgresql":
            pytest.skip("the one-statement hold is PostgreSQL's")


def row(account_id: int, amount: str, uniqueid: str) -> dict[str, object]:
    return {**rules_row(account_id, amount), "uniqueid": uniqueid}


def state(uow: Uow, trunk_id: int) -> tuple[dict[int, Decimal], int, int]:
    """Every account's `reserved`, the trunk's open calls, the reservation rows."""
    with uow() as u:
        held = {a: r for a, r in u.session.execute(select(Account.id, Account.reserved))}
        calls = u.session.execute(select(Trunk.open_calls).where(Trunk.id == trunk_id)).scalar_one()
        rows = len(u.session.execute(select(Reservation.id)).all())
    return held, calls, rows


def call_rows(uow: Uow, uniqueid: str) -> list[tuple[object, ...]]:
    with uow() as u:
        found = u.session.execute(
            select(Reservation.id, Reservation.parent_id, Reservation.trunk_id, *FIELDS)
            .where(Reservation.uniqueid == uniqueid)  # the one field that differs
            .order_by(Reservation.id)
        ).all()
    return [tuple(r) for r in found]


def choice(trunk_id: int, limit: int | None) -> TrunkChoice:
    return TrunkChoice(trunk_id, f"t{trunk_id}", 1, "p", "PJSIP/x", D("0.01"), limit, 0)


def test_writes_the_rows_the_plain_statements_write_and_moves_both_counters(uow: Uow) -> None:
    postgresql_only(uow)
    with uow() as u:
        trunk_id = trunk(u, "one", {"34": "0.01"}, channel_limit=2)
    before, calls, _ = state(uow, trunk_id)
    with uow() as u:
        plain = insert_reservations(
            u.session,
            [
                dict(row(ALICE_ID, "0.3", "plain"), trunk_id=trunk_id),
                row(RESELLER_ID, "0", "plain"),
            ],
        )
        customer = hold_new_call(
            u.session, [row(ALICE_ID, "0.3", "one"), row(RESELLER_ID, "0", "one")], trunk_id
        )
        u.commit()
    assert customer is not None and customer > plain
    one, written = call_rows(uow, "one"), call_rows(uow, "plain")
    assert [r[0] for r in one] == [customer, customer + 1]
    assert [r[1:3] for r in one] == [(None, trunk_id), (customer, None)]
    assert [r[3:] for r in one] == [r[3:] for r in written]  # every field alike
    after, now_calls, _ = state(uow, trunk_id)
    assert now_calls == calls + 1  # the plain INSERT moves no counter: only the hold did
    assert after[ALICE_ID] == before[ALICE_ID] + D("0.3")
    assert after[RESELLER_ID] == before[RESELLER_ID]  # a level that holds 0


def test_a_full_trunk_changes_nothing(uow: Uow) -> None:
    postgresql_only(uow)
    with uow() as u:
        trunk_id = trunk(u, "full", {"34": "0.01"}, channel_limit=1)
        u.session.execute(update(Trunk).where(Trunk.id == trunk_id).values(open_calls=1))
        u.commit()
    before = state(uow, trunk_id)
    with uow() as u:
        assert hold_new_call(u.session, [row(ALICE_ID, "0.3", "full")], trunk_id) is None
        u.commit()
    assert state(uow, trunk_id) == before
    assert call_rows(uow, "full") == []


def test_the_reserve_step_takes_the_next_trunk_when_the_first_filled_up(uow: Uow) -> None:
    """The route was read before another call took the first trunk's last channel: the
    one statement changes nothing, the plain path locks and counts, and takes the next."""
    postgresql_only(uow)
    with uow() as u:
        full = trunk(u, "was free", {"34": "0.01"}, channel_limit=1)
        spare = trunk(u, "spare", {"34": "0.01"}, channel_limit=5)
        u.session.execute(update(Trunk).where(Trunk.id == full).values(open_calls=1))
        u.commit()
    before, _, _ = state(uow, full)
    hold = PricedHold([row(ALICE_ID, "0.3", "next")], [D("0.3")], 60, None)
    with uow() as u:
        trunks, customer = claim_and_hold(
            u.session, [choice(full, 1), choice(spare, 5)], Counter(), hold
        )
        u.commit()
    assert [t.trunk_id for t in trunks] == [spare]
    assert customer is not None
    assert [r[:3] for r in call_rows(uow, "next")] == [(customer, None, spare)]
    assert state(uow, full)[1] == 1
    assert state(uow, spare)[1] == 1
    assert state(uow, spare)[0][ALICE_ID] == before[ALICE_ID] + D("0.3")
