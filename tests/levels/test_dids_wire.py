"""DIDs, services and subscriptions over real HTTP through client/ (zeep)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from client import errors
from services.recurring.charging import charge_due
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal


def test_a_did_is_bought_priced_assigned_and_charged_at_each_level_over_the_wire(
    tree: Tree, session_factory: Callable[[], Session]
) -> None:
    admin, r1, r2 = tree.api("admin"), tree.api("R1"), tree.api("R2")
    provider = admin.config.CreateProvider(name="DID carrier").id
    imported = admin.config.ImportDids(
        csv="number,provider_id,monthly_cost,monthly_fee,setup_fee,inbound_price\n"
        f"34910000001,{provider},1.10,2.00,0.50,0.01\n"
        f"34910000002,{provider},1.10,2.00,0.50,0.01\n"
    )
    assert imported == 2
    page = admin.config.ListDids(status="free", prefix="3491", limit=1)
    assert page.total == 2 and len(page.items) == 1
    did = page.items[0]
    assert (did.monthly_cost, did.monthly_fee) == (D("1.10"), D("2.00"))
    r1.reseller.SetDidPrice(did_id=did.id, monthly_fee=D("3.00"), setup_fee=D("1.00"))
    offered = r2.reseller.ListAvailableDids(prefix="34910000001")
    assert [(d.number, d.monthly_fee, d.setup_fee) for d in offered.items] == [
        ("34910000001", D("3.00"), D("1.00"))
    ]
    assert not hasattr(offered.items[0], "monthly_cost")  # the operator's cost stays hidden
    r2.reseller.SetDidPrice(did_id=did.id, monthly_fee=D("4.00"), setup_fee=D("1.50"))
    assigned = r2.reseller.AssignDid(did_id=did.id, account_id=tree.ids["C1"])
    assert assigned.status == "assigned" and assigned.account_id == tree.ids["C1"]
    r2.reseller.SetDidDestination(did_id=did.id, kind="external", destination="+34600111222")
    subs = r2.reseller.ListSubscriptions(account_id=tree.ids["C1"])
    assert subs.total == 1 and subs.items[0].did_id == did.id
    before = {n: r1.billing.GetBalance(account_id=tree.ids[n]).balance for n in ("C1", "R2")}
    charge_due(session_factory, datetime.now(UTC))  # type: ignore[arg-type]
    after = {n: r1.billing.GetBalance(account_id=tree.ids[n]).balance for n in ("C1", "R2")}
    assert before["C1"] - after["C1"] == D("5.50")  # 4.00 + 1.50 setup, R2's prices
    assert before["R2"] - after["R2"] == D("4.00")  # 3.00 + 1.00, R1's prices
    with pytest.raises(errors.InvalidInput, match="release it first"):
        admin.config.RemoveDid(did_id=did.id)
    released = r2.reseller.ReleaseDid(did_id=did.id, quarantine_days=30)
    assert released.status == "quarantine"


def test_a_bad_did_import_names_its_line_and_stores_nothing(tree: Tree) -> None:
    admin = tree.api("admin")
    provider = admin.config.CreateProvider(name="DID carrier").id
    with pytest.raises(errors.InvalidInput, match="line 3"):
        admin.config.ImportDids(
            csv=f"number,provider_id,monthly_fee\n34910000001,{provider},2\n34x,{provider},2\n"
        )
    assert admin.config.ListDids().total == 0


def test_a_service_is_resold_and_subscribed_over_the_wire(
    tree: Tree, session_factory: Callable[[], Session]
) -> None:
    admin, r2 = tree.api("admin"), tree.api("R2")
    service = admin.reseller.CreateService(
        service={"name": "Voicemail", "period": "monthly", "price": D("1.00")}
    )
    r2.reseller.SetServicePrice(service_id=service.id, price=D("2.50"))
    listed = r2.reseller.ListServices()
    assert [(s.name, s.price) for s in listed.items] == [("Voicemail", D("2.50"))]
    sub = r2.reseller.Subscribe(
        account_id=tree.ids["C1"], service_id=service.id, start="2026-12-01T00:00:00Z"
    )
    assert sub.billing_day == 1 and sub.status == "active"
    ended = r2.reseller.Unsubscribe(subscription_id=sub.id, end="2027-01-01T00:00:00Z")
    assert str(ended.end) == "2027-01-01"
    with pytest.raises(errors.InvalidInput):
        r2.reseller.Unsubscribe(subscription_id=sub.id, end="2027-01-01T00:00:00Z")
