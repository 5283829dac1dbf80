"""The operator's catalogue in the config service (admin logins only), over HTTP through
client/: create with the provider's cost, list every owner's services, change the
cost, price; the new cost is what the next period records. Resellers keep theirs in
the reseller service and get AccessDenied here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from client import errors
from services.recurring.charging import charge_due
from tests.levels.conftest import Tree
from tests.recurring.test_charging import charges

pytestmark = pytest.mark.e2e
D = Decimal


def test_the_admin_runs_its_catalogue_in_config_and_resellers_theirs_in_reseller(
    tree: Tree, session_factory: Callable[[], Session]
) -> None:
    admin, r2 = tree.api("admin").config, tree.api("R2")
    provider = admin.CreateProvider(name="PBX host").id
    created = admin.CreateService(
        service={
            "name": "Hosted PBX",
            "price": D("10.00"),
            "setup_fee": D("2.00"),
            "provider_id": provider,
            "cost_price": D("3.00"),
            "cost_setup": D("1.00"),
        }
    )
    assert (created.provider_id, created.cost_price, created.cost_setup, created.price) == (
        provider,
        D("3.00"),
        D("1.00"),
        D("10.00"),
    )
    own = r2.reseller.CreateService(service={"name": "R2 voicemail", "price": D("1.00")}).id
    with pytest.raises(errors.AlreadyExists):
        admin.CreateService(service={"name": "Hosted PBX"})
    everything = admin.ListServices(limit=1)
    assert everything.total == 2 and [s.id for s in everything.items] == [created.id]
    mine = admin.ListServices(owner_id=tree.ids["R2"])
    assert [(s.id, s.name, s.price) for s in mine.items] == [(own, "R2 voicemail", D("1.00"))]
    with pytest.raises(errors.InvalidInput, match="reseller's own"):
        admin.UpdateService(service_id=own, changes={"cost_price": D("1")})
    changed = admin.UpdateService(service_id=created.id, changes={"cost_price": D("3.50")})
    assert (changed.name, changed.cost_price, changed.cost_setup) == (
        "Hosted PBX",
        D("3.50"),
        D("1.00"),
    )
    priced = admin.SetServicePrice(service_id=created.id, price=D("11.00"), setup_fee=D("2.00"))
    assert admin.GetService(service_id=created.id).price == priced.price == D("11.00")
    for call in (
        lambda: r2.config.CreateService(service={"name": "x"}),
        lambda: r2.config.ListServices(),
        lambda: r2.config.UpdateService(service_id=created.id, changes={"name": "y"}),
    ):
        with pytest.raises(errors.AccessDenied):
            call()

    # Sold down the tree: R1 pays the admin's new price, the operator's cost row the new cost.
    sub = r2.reseller.Subscribe(
        account_id=tree.ids["C1"], service_id=created.id, start=datetime.now(UTC)
    ).id
    charge_due(session_factory, datetime.now(UTC))  # type: ignore[arg-type]
    fees = {
        (r.account_id, r.what): r.amount
        for r in charges(session_factory, sub)  # type: ignore[arg-type]
        if r.account_id in (None, tree.ids["R1"])
    }
    assert fees == {
        (tree.ids["R1"], "fee"): D("11.00"),
        (tree.ids["R1"], "setup"): D("2.00"),
        (None, "fee"): D("3.50"),
        (None, "setup"): D("1.00"),
    }
