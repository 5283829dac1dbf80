"""The reseller side of the catalogue, over HTTP through client/: R1 sells a service of
its own to its subtree; R2 sees it with what R1 charges it (`buy_price`), sets its own
price for its customers and subscribes C1; each level is charged at its seller's price
(R1, the owner, nothing; no provider's cost for a reseller's service). X, a reseller
beside them, neither sees, prices nor subscribes to it."""

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


def test_a_reseller_resells_its_parents_service_at_its_own_price_to_its_subtree(
    tree: Tree, session_factory: Callable[[], Session]
) -> None:
    r1, r2, x = tree.api("R1").reseller, tree.api("R2").reseller, tree.api("X").reseller
    fax = r1.CreateService(
        service={"name": "R1 fax line", "price": D("4.00"), "setup_fee": D("1.00")}
    ).id
    voicemail = r2.CreateService(service={"name": "R2 voicemail", "price": D("2.00")}).id

    # What R2 may sell: R1's (at R1's price until R2 sets its own) and its own.
    listed = {s.id: s for s in r2.ListServices().items}
    assert set(listed) == {fax, voicemail}
    assert (listed[fax].owner_id, listed[fax].price, listed[fax].buy_price) == (
        tree.ids["R1"],
        D("4.00"),
        D("4.00"),
    )
    assert (listed[voicemail].price, listed[voicemail].buy_price) == (D("2.00"), None)
    priced = r2.SetServicePrice(service_id=fax, price=D("5.50"), setup_fee=D("1.50"))
    assert (priced.price, priced.setup_fee, priced.buy_price, priced.buy_setup_fee) == (
        D("5.50"),
        D("1.50"),
        D("4.00"),
        D("1.00"),
    )
    # R1 still sells at its own price: R2's is for R2's subtree only.
    own = {s.id: s for s in r1.ListServices().items}
    assert (own[fax].price, own[fax].buy_price) == (D("4.00"), None) and voicemail not in own

    # X, beside R1: not its seller, so nothing of it.
    assert not {fax, voicemail} & {s.id for s in x.ListServices().items}
    for call in (
        lambda: x.SetServicePrice(service_id=fax, price=D("0.01")),
        lambda: x.Subscribe(
            account_id=tree.ids["XC"], service_id=fax, start="2026-12-01T00:00:00Z"
        ),
        lambda: r2.Subscribe(
            account_id=tree.ids["XC"], service_id=fax, start="2026-12-01T00:00:00Z"
        ),
    ):
        with pytest.raises(errors.NotFound):
            call()
    assert r1.ListServices().items[0].price == D("4.00")  # X's attempt changed nothing

    # Its own service the owner changes; the one it resells is its seller's.
    changed = r2.UpdateService(
        service_id=voicemail, changes={"name": "R2 voicemail+", "unpaid_policy": "negative"}
    )
    assert (changed.name, changed.unpaid_policy, changed.price) == (
        "R2 voicemail+",
        "negative",
        D("2.00"),
    )
    with pytest.raises(errors.AccessDenied):
        r2.UpdateService(service_id=fax, changes={"name": "mine now"})
    with pytest.raises(errors.NotFound):
        x.UpdateService(service_id=voicemail, changes={"name": "X's now"})
    backup = r2.CreateService(service={"name": "R2 backup", "price": D("1.00")}).id
    with pytest.raises(errors.AlreadyExists):
        r2.UpdateService(service_id=voicemail, changes={"name": "R2 backup"})
    names = {s.id: s.name for s in r2.ListServices().items}
    assert names == {fax: "R1 fax line", voicemail: "R2 voicemail+", backup: "R2 backup"}
    # The operator's own rename to a name it uses: the same fault (it was `Server`).
    admin = tree.api("admin").config
    first = admin.CreateService(service={"name": "PBX"}).id
    admin.CreateService(service={"name": "PBX 2"})
    with pytest.raises(errors.AlreadyExists):
        admin.UpdateService(service_id=first, changes={"name": "PBX 2"})

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    sub = r2.Subscribe(account_id=tree.ids["C1"], service_id=fax, start=today).id
    charge_due(session_factory, datetime.now(UTC))  # type: ignore[arg-type]
    fees = {(r.account_id, r.what): r.amount for r in charges(session_factory, sub)}  # type: ignore[arg-type]
    assert fees == {
        (tree.ids["C1"], "fee"): D("5.50"),
        (tree.ids["C1"], "setup"): D("1.50"),
        (tree.ids["R2"], "fee"): D("4.00"),
        (tree.ids["R2"], "setup"): D("1.00"),
    }
    assert [s.id for s in r1.ListSubscriptions(account_id=tree.ids["C1"]).items] == [sub]
    assert sub not in {s.id for s in x.ListSubscriptions().items}
