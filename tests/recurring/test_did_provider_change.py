"""A DID moved to another provider (UpdateDid with a provider): the provider cost of
later periods and of inbound calls rated after the change names the new provider; the
periods and calls charged before keep theirs. Inbound calls over AMI (a real socket)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import Did, RecurringCharge
from db.schema import Cdr, Charge, Provider
from rating.errors import InvalidInput, NotFound
from services.dids import inventory
from services.recurring.charging import charge_due
from tests.ami_synth import BANNER
from tests.e2e.test_ami_to_services import replay
from tests.recurring.conftest import Tree, at
from tests.recurring.test_inbound_did import inbound_event
from tests.recurring.test_peer_failures import assign, new_did

D = Decimal
NUMBER = "34910000001"


def provider_rows(factory: sessionmaker[Session]) -> list[tuple[str, str, int | None, Decimal]]:
    """The provider level's recurring rows: (what, period start, provider, amount)."""
    with factory() as s:
        rows = s.scalars(
            select(RecurringCharge)
            .where(RecurringCharge.account_id.is_(None))
            .order_by(RecurringCharge.period_start, RecurringCharge.what)
        )
        return [(r.what, r.period_start.isoformat(), r.provider_id, r.amount) for r in rows]


def inbound_provider(factory: sessionmaker[Session], uniqueid: str) -> tuple[int | None, Decimal]:
    with factory() as s:
        cdr = s.scalars(select(Cdr).where(Cdr.uniqueid == uniqueid)).one()
        charge = s.scalars(
            select(Charge).where(Charge.cdr_id == cdr.id, Charge.account_id.is_(None))
        ).one()
        return charge.provider_id, charge.cost


def add_provider(tree: Tree, name: str, status: str = "active") -> int:
    with tree.uow() as u:
        provider = Provider(name=name, status=status)
        u.session.add(provider)
        u.commit()
        return provider.id


async def test_a_new_provider_takes_the_later_periods_and_calls_and_the_old_rows_stay(
    tree: Tree, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    old = tree.provider_id
    tree.pay("C", D("20.00"))  # two months' fees: an unpaid one would suspend the DID
    did = new_did(tree, NUMBER)  # the provider: 1.50 a month, 0.50 setup, 0.002/min
    assign(tree, did, "2027-01-10 09:00")
    charge_due(session_factory, at("2027-01-10 09:05"))
    first = tmp_path / "first.txt"
    first.write_text(BANNER + inbound_event("1900000000.1", NUMBER, 125), newline="")
    await replay(session_factory, first, events=1)
    before = provider_rows(session_factory)
    assert {row[2] for row in before} == {old} and len(before) == 2  # fee and setup
    new = add_provider(tree, "New DID carrier")

    with tree.uow() as u:
        inventory.update_did(
            u,
            tree.caller("admin"),
            did,
            {"monthly_cost": D("2.00"), "inbound_cost": D("0.003")},
            new,
        )

    with session_factory() as s:
        moved = s.get(Did, did)
        assert moved is not None and moved.provider_id == new
    second = tmp_path / "second.txt"
    second.write_text(BANNER + inbound_event("1900000000.2", NUMBER, 125), newline="")
    await replay(session_factory, second, events=1)
    assert inbound_provider(session_factory, "1900000000.1") == (old, D("0.0060"))
    assert inbound_provider(session_factory, "1900000000.2") == (new, D("0.0090"))  # 3 x 0.003
    charge_due(session_factory, at("2027-02-10 00:05"))  # the billing day: the 10th
    after = provider_rows(session_factory)
    assert after[: len(before)] == before  # January, charged before the change: untouched
    assert after[len(before) :] == [("fee", "2027-02-10", new, D("2.00"))]


def test_a_retired_or_unknown_provider_is_refused_and_changes_nothing(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    did = new_did(tree, NUMBER)
    retired = add_provider(tree, "Gone", status="retired")
    for provider, fault in ((retired, InvalidInput), (999_999, NotFound)):
        with tree.uow() as u, pytest.raises(fault):
            inventory.update_did(u, tree.caller("admin"), did, {"monthly_cost": D("9")}, provider)
    with session_factory() as s:
        unchanged = s.get(Did, did)
        assert unchanged is not None and unchanged.provider_id == tree.provider_id
    assert provider_rows(session_factory) == []
