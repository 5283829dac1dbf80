"""Authorize's round trips do not grow with the depth of the tree: the chain is locked
in one statement that also checks every level's sheet version, every level's
reservation written in one. Counted, not timed, on both databases, for customers 0, 1,
2 and 4 reseller levels below the admin, each level buying at a sheet of its own; and
for the cases that add statements of their own: bundles, on-net numbers, booths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select

from db import ledger
from db.callshop_schema import Booth, BoothSession, CallShop
from db.schema import Account, Reservation
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, authorize
from tests.bundles.builders import give_bundle
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


def statements(uow: Uow, code: str, n: int, number: str = "34911234567") -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE: not counted
            seen.append(statement)

    with uow() as u:
        engine = u.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            req = AuthorizeRequest(number, code, uniqueid=f"{code}.{n}")
            answer = authorize(u, None, req, now=NOON)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert answer.allowed, answer
    return len(seen), seen


def counted(uow: Uow, codes: dict[int, str], number: str = "34911234567") -> int:
    """The statements of one Authorize (after a first that compiles the plans) of every
    code, the same for each, and that number."""
    counts, sent = {}, {}
    for depth, code in codes.items():
        statements(uow, code, 0, number)
        counts[depth], sent[depth] = statements(uow, code, 1, number)
    assert len(set(counts.values())) == 1, (counts, sent[max(codes)])
    return counts[min(codes)]


def on_postgresql(uow: Uow) -> bool:
    with uow() as u:
        return u.session.get_bind().dialect.name == "postgresql"


def test_statements_per_authorize_are_the_same_at_every_depth(uow: Uow) -> None:
    with uow() as u:
        codes = {depth: chain_of(u, depth) for depth in DEPTHS}
    # SQLite, 7: identify (which also tells whether the number may be on-net); lock the
    # chain (with every level's sheet version, whether any of its reservations is due,
    # whether any level holds a bundle, and the routes' stamp:
    # services/credit/chain_lock.lock_chain); the buy sheets' versions with the route's
    # trunks' open calls (the route itself from the per-process cache,
    # services/credit/route_cache.RouteCache); the trunk's channel; the ids, the INSERT, the
    # accounts' `reserved`. Was 13: the sheets' versions, expiry's look-up, the on-net
    # look-up, the bundles' look-up, the route and its trunks are not statements of
    # their own any more. SQLite keeps these plain statements: there a statement has no
    # round trip.
    # PostgreSQL, 2 (was 7): identify, the lock and the buy sheets' versions with the
    # trunks' open calls (of the route the process's route cache gives the number) are
    # one statement (services/credit/chain_lock.identify_and_lock), and the trunk's
    # channel, the ids, the INSERT and the accounts' `reserved` another
    # (services/credit/call_hold.hold_new_call).
    assert counted(uow, codes) == (2 if on_postgresql(uow) else 7)
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


def test_a_chain_with_a_bundle_adds_its_counters_and_holds(uow: Uow) -> None:
    """The customer holds a bundle of its parent: the counters' lock and the hold."""
    with uow() as u:
        codes = {depth: chain_of(u, depth) for depth in DEPTHS}
        for code in codes.values():
            customer = u.session.scalars(select(Account).where(Account.accountcode == code)).one()
            assert customer.parent_id is not None
            give_bundle(u.session, customer.parent_id, customer.id, code, 10**6, NOON.date())
        u.commit()
    # An ordinary call's statements, then the chain's bundles and their counters, locked
    # (services/bundles/counters.py), the units taken and the hold written. (At depth 0
    # the first slice is all free: no level holds money, and no `reserved` changes; from
    # depth 1 the resellers pay.) A bundle's hold takes the 4 plain statements on
    # PostgreSQL too (its units are held once the rows are written): there identify,
    # lock and the route's live figures, and those 4 (was 7); on SQLite the 7.
    ordinary = 1 + 4 if on_postgresql(uow) else 7
    assert counted(uow, {d: c for d, c in codes.items() if d}) == ordinary + 4


def test_an_on_net_number_adds_its_look_up(uow: Uow) -> None:
    """The number is another account's SIP peer: identify's statement says it may be,
    services/onnet/callee.py looks; no route, no trunk."""
    with uow() as u:
        codes = {depth: chain_of(u, depth) for depth in DEPTHS}
        callee = u.session.get(Account, 2)
        assert callee is not None
        callee.sip_username = "5550100"
        u.commit()
    # identify, lock, the callee, the ids, the INSERT (the sheets have no on-net price:
    # the call is free, every level holds 0 and no `reserved` changes): 5 on SQLite; on
    # PostgreSQL 4 (was 5): identify and the lock are one statement.
    assert counted(uow, codes, "5550100") == (4 if on_postgresql(uow) else 5)


def test_a_booth_call(uow: Uow) -> None:
    """A call shop's booth: identify finds no account of that name (nor login), the
    booth and its session are read (services/callshop/booths.booth_gate), and the
    on-net look-up runs, since no identify statement found a row to rule it out."""
    with uow() as u:
        code = chain_of(u, 0)
        shop = u.session.scalars(select(Account).where(Account.accountcode == code)).one()
        shop.kind = "callshop"
        u.session.add(CallShop(account_id=shop.id, sell_sheet_id=shop.rate_sheet_id))
        booth = Booth(shop_id=shop.id, name="b1", sip_peer="booth-b1")
        u.session.add(booth)
        u.session.flush()
        u.session.add(BoothSession(booth_id=booth.id, shop_id=shop.id))
        u.commit()
    # By name, by login, the booth, its shop, its session, lock, on-net, then the buy
    # sheets' versions and the hold of an ordinary call after the lock: 12 on SQLite. On
    # PostgreSQL 9 (was 12): by name is identify_and_lock's statement, which found
    # nobody of that name (so it is not asked again), and the hold is one statement.
    assert counted(uow, {0: "booth-b1"}) == (9 if on_postgresql(uow) else 12)
