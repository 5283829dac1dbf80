"""Services, subscriptions and DIDs of X's subtree (outside R2's), for the isolation
matrix: made through the services, as X and the admin would."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.levels.conftest import Tree

D = Decimal


def make_month(tree: Tree) -> dict[str, int]:
    admin, x = tree.api("admin"), tree.api("X")
    provider = admin.config.CreateProvider(name="DID carrier").id
    dids = [
        admin.config.CreateDid(
            did={"number": number, "provider_id": provider, "monthly_fee": D("2.00")}
        ).id
        for number in ("34910000001", "34910000002")
    ]
    x.reseller.AssignDid(did_id=dids[0], account_id=tree.ids["XC"])
    service = x.reseller.CreateService(service={"name": "X backup line", "price": D("3.00")}).id
    sub = x.reseller.Subscribe(
        account_id=tree.ids["XC"], service_id=service, start="2026-11-15T00:00:00Z"
    ).id
    return {
        "provider": provider,
        "x_did": dids[0],
        "free_did": dids[1],
        "x_service": service,
        "x_subscription": sub,
    }


def month_cases(case: Any, month: Any) -> list[Any]:
    """`case`: the matrix's Case class; `month(w, key)` reads make_month's ids."""
    return [
        case("config", "CreateDid", lambda w: {"did": {"number": "349", "provider_id": 1}}),
        case("config", "ImportDids", lambda w: {"csv": "number,provider_id\n34999,1\n"}),
        case("config", "ListDids", lambda w: {}),
        case("config", "GetDid", lambda w: {"did_id": month(w, "x_did")}),
        case(
            "config",
            "UpdateDid",
            lambda w: {"did_id": month(w, "x_did"), "changes": {"monthly_fee": D(0)}},
        ),
        case("config", "RemoveDid", lambda w: {"did_id": month(w, "free_did")}),
        # The operator's catalogue: admin logins only.
        case("config", "CreateService", lambda w: {"service": {"name": "n"}}),
        case("config", "ListServices", lambda w: {}),
        case("config", "GetService", lambda w: {"service_id": month(w, "x_service")}),
        case(
            "config",
            "UpdateService",
            lambda w: {"service_id": month(w, "x_service"), "changes": {"name": "m"}},
        ),
        case(
            "config",
            "SetServicePrice",
            lambda w: {"service_id": month(w, "x_service"), "price": D(0)},
        ),
        case(
            "reseller",
            "CreateService",
            lambda w: {"service": {"name": "n", "provider_id": month(w, "provider")}},
        ),
        case("reseller", "ListServices", lambda w: {}, services_inside),
        case(
            "reseller",
            "UpdateService",
            lambda w: {"service_id": month(w, "x_service"), "changes": {"name": "m"}},
        ),
        case(
            "reseller",
            "SetServicePrice",
            lambda w: {"service_id": month(w, "x_service"), "price": D(0)},
        ),
        case(
            "reseller",
            "Subscribe",
            lambda w: {
                "account_id": w.id("C1"),
                "service_id": month(w, "x_service"),
                "start": "2026-11-20T00:00:00Z",
            },
        ),
        case(
            "reseller",
            "Subscribe",
            lambda w: {"account_id": w.id("XC"), "service_id": 1, "start": "2026-11-20T00:00:00Z"},
        ),
        case(
            "reseller",
            "Unsubscribe",
            lambda w: {
                "subscription_id": month(w, "x_subscription"),
                "end": "2026-12-01T00:00:00Z",
            },
        ),
        case("reseller", "ListSubscriptions", lambda w: {"account_id": w.id("XC")}),
        case("reseller", "ListSubscriptions", lambda w: {}, subscriptions_inside),
        case("reseller", "ListAvailableDids", lambda w: {}, only_free_dids),
        case(
            "reseller",
            "SetDidPrice",
            lambda w: {"did_id": month(w, "x_did"), "monthly_fee": D(0)},
        ),
        case(
            "reseller",
            "AssignDid",
            lambda w: {"did_id": month(w, "free_did"), "account_id": w.id("XC")},
        ),
        case("reseller", "ReleaseDid", lambda w: {"did_id": month(w, "x_did")}),
        case(
            "reseller",
            "SetDidDestination",
            lambda w: {"did_id": month(w, "x_did"), "kind": "external", "destination": "34600"},
        ),
    ]


def services_inside(result: Any, inside: set[int], w: Any) -> bool:
    above = {w.id("R1"), 1}  # R2's seller, and the admin (the first account made)
    return all(s.owner_id in inside | above for s in result.items or [])


def subscriptions_inside(result: Any, inside: set[int], w: Any) -> bool:
    return all(s.account_id in inside for s in result.items or [])


def only_free_dids(result: Any, inside: set[int], w: Any) -> bool:
    return all(d.status == "free" and d.account_id is None for d in result.items or [])
