"""Authorize's round trips do not grow with the depth of the tree: the chain is locked
in one statement, every level's sheet version checked in one, every level's
reservation written in one. Counted, not timed, on both databases, for customers 0, 1,
2 and 4 reseller levels below the admin, each level buying at a sheet of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select

from db import ledger
from db.schema import Account, Reservation
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, authorize
from tests.credit.builders import NOON, D, sheet

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
DEPTHS = (0, 1, 2, 4)


def chain_of(u: UnitOfWork, depth: int) -> str:
    """A customer `depth` resellers below the admin; every level its own sheet and funds."""
    s = u.session
    parent = s.get(Account, 1)
    assert parent is not None
    for level in range(depth + 1):
        role = "customer" if level == depth else "reseller"
        price = f"0.0{5 - level}00" if level < 5 else "0.0100"
        sheet_id = sheet(u, f"d{depth}.{level}", {"34": price})
        account = Account(
            parent_id=parent.id,
            role=role,
            name=f"d{depth}.{level}",
            accountcode=f"d{depth}.{level}",
            rate_sheet_id=sheet_id,
        )
        s.add(account)
        s.flush()
        account.path = f"{parent.path}{account.id}/"
        ledger.post(s, account.id, "payment", D(100), reference="test")
        parent = account
    u.commit()
    return f"d{depth}.{depth}"


def statements(uow: Uow, code: str, n: int) -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    with uow() as u:
        engine = u.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            req = AuthorizeRequest("34911234567", code, uniqueid=f"{code}.{n}")
            answer = authorize(u, None, req, now=NOON)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert answer.allowed, answer
    return len(seen), seen


def test_statements_per_authorize_are_the_same_at_every_depth(uow: Uow) -> None:
    with uow() as u:
        codes = {depth: chain_of(u, depth) for depth in DEPTHS}
    counts, sent = {}, {}
    for depth, code in codes.items():
        statements(uow, code, 0)  # the first compiles the plans
        counts[depth], sent[depth] = statements(uow, code, 1)
    assert len(set(counts.values())) == 1, (counts, sent[max(DEPTHS)])
    # identify, lock the chain, the sheets' versions, expiry's look-up, whether the number
    # is another account's (on-net: services/onnet/callee.py), the chain's bundles
    # (services/bundles/counters.py: one look-up for every level), the route and its
    # trunks, the buy sheets' versions, the trunk's channel, the ids, the INSERT, the
    # accounts' `reserved` (what the chain holds is read from the locked rows, a trunk's
    # count from its row: neither is a statement of its own any more).
    # (SQLite's BEGIN IMMEDIATE is a statement of its own: not counted here.)
    assert len([q for q in sent[0] if not q.startswith("BEGIN")]) == 13, sent[0]
    # And the reservations are all there, each reseller's pointing at the customer's.
    with uow() as u:
        rows = u.session.execute(
            select(Reservation.account_id, Reservation.parent_id, Reservation.id)
            .where(Reservation.uniqueid == f"{codes[4]}.1")
            .order_by(Reservation.id)
        ).all()
    assert len(rows) == 5
    assert rows[0].parent_id is None
    assert all(r.parent_id == rows[0].id for r in rows[1:])
