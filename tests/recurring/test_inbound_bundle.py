"""A bundle that covers inbound calls: C's call to its DID, replayed over AMI, is free
at C's level (one call of C's inbound "calls" bundle; its outbound-only bundle, first in
order, is left alone), while R2 and R1 pay their own inbound prices as without it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.bundle_schema import AccountBundle, Bundle, BundleCounter
from db.schema import Cdr, Charge
from services.dids import assignment
from tests.ami_synth import BANNER
from tests.e2e.test_ami_to_services import replay
from tests.recurring.conftest import Tree, at
from tests.recurring.test_inbound_did import inbound_event
from tests.recurring.test_peer_failures import assign, new_did

D = Decimal


def give(tree: Tree, name: str, **fields: object) -> int:
    with tree.uow() as u:
        bundle = Bundle(owner_id=tree.ids["R2"], name=name, **fields)
        u.session.add(bundle)
        u.session.flush()
        held = AccountBundle(
            account_id=tree.ids["C"],
            bundle_id=bundle.id,
            position=len(name),  # the shorter name first
            start=date(2027, 1, 1),
            billing_day=1,
        )
        u.session.add(held)
        u.commit()
        return held.id


async def test_an_inbound_bundle_makes_a_did_call_free_at_its_level_only(
    tree: Tree, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    did = new_did(tree, "34910000001")
    now = at("2027-01-10 09:00")
    for who, inbound in (("R1", "0.015"), ("R2", "0.0275")):
        with tree.uow() as u:
            assignment.set_did_price(u, tree.caller(who), did, D("5"), D("0"), D(inbound), now)
    assign(tree, did, "2027-01-10 09:00")
    outbound = give(tree, "Out", quantity=600)
    calls = give(tree, "In calls", quantity=2, unit="calls", period="daily", inbound=True)
    path = tmp_path / "inbound.txt"
    path.write_text(BANNER + inbound_event("1900000000.1", "34910000001", 125), newline="")
    await replay(session_factory, path, events=1)
    with session_factory() as s:
        rated = s.scalars(select(Cdr)).one()
        charges = s.execute(
            select(Charge.level, Charge.cost)
            .where(Charge.cdr_id == rated.id)
            .order_by(Charge.level)
        ).all()
        assert [tuple(c) for c in charges] == [
            (0, D("0")),  # C: one free call
            (1, D("0.0450")),  # R2: 3 x 0.015, as without the bundle
            (2, D("0.0300")),
            (3, D("0.0060")),  # the provider's cost
        ]
        used = {
            c.account_bundle_id: (c.period_start, c.consumed)
            for c in s.scalars(select(BundleCounter))
        }
        assert used == {outbound: (date(2027, 1, 1), 0), calls: (date(2027, 1, 12), 1)}
