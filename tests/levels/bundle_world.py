"""X's bundles (outside R2's subtree) for the isolation and paging matrices: two
bundles of X, both held by XC, made through the services as X would."""

from __future__ import annotations

from typing import Any

from tests.levels.conftest import Tree

START = "2026-11-15T00:00:00Z"


def make_bundles(tree: Tree, service_id: int) -> dict[str, int]:
    x = tree.api("X").reseller
    ids = [
        x.CreateBundle(bundle={"name": name, "quantity": 600, "service_id": service_id}).id
        for name in ("X 10 min", "X 20 min")
    ]
    held = [x.AssignBundle(account_id=tree.ids["XC"], bundle_id=b, start=START).id for b in ids]
    return {"x_bundle": ids[0], "x_bundle_2": ids[1], "x_held": held[0]}


def bundles_inside(result: Any, inside: set[int], w: Any) -> bool:
    return all(b.owner_id in inside for b in result.items or [])


def bundle_cases(case: Any, month: Any) -> list[Any]:
    """`case`: the matrix's Case class; `month(w, key)` reads the world's ids."""
    return [
        case(
            "reseller",
            "CreateBundle",
            lambda w: {
                "bundle": {"name": "n", "quantity": 60, "service_id": month(w, "x_service")}
            },
        ),
        case("reseller", "ListBundles", lambda w: {}, bundles_inside),
        case(
            "reseller",
            "AssignBundle",
            lambda w: {"account_id": w.id("XC"), "bundle_id": month(w, "x_bundle"), "start": START},
        ),
        case(
            "reseller",
            "AssignBundle",
            lambda w: {"account_id": w.id("C1"), "bundle_id": month(w, "x_bundle"), "start": START},
        ),
        case(
            "reseller",
            "UnassignBundle",
            lambda w: {"account_bundle_id": month(w, "x_held"), "end": "2026-12-01T00:00:00Z"},
        ),
        case("reseller", "ListAccountBundles", lambda w: {"account_id": w.id("XC")}),
        case("billing", "GetBundleUsage", lambda w: {"account_id": w.id("XC")}),
    ]
