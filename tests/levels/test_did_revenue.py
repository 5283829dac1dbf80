"""GetProfit and GetTrafficStats show calls to DIDs apart from outbound calls, and
GetProfit the recurring fees apart too: per level, exact, over HTTP through client/.

The captured session's outbound calls are in November 2026; the DID is assigned today
(AssignDid starts the subscription on the current UTC day) and its inbound call is
replayed today, so each report period holds one kind and the other shows zero."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from services.recurring.charging import charge_due
from tests.ami_synth import BANNER
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree
from tests.levels.test_three_levels import (
    COST,
    PERIOD,
    R2_PRICE,
    RETAIL,
    add_provider,
    per_30s,
)
from tests.recurring.test_inbound_did import inbound_event

pytestmark = pytest.mark.e2e
D = Decimal
ZERO = D("0.000000")


def today_period() -> dict[str, datetime]:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"period_start": day, "period_end": day + timedelta(days=1)}


def sell_a_did(tree: Tree) -> None:
    """admin -> R1 -> R2 -> C1, each at its own price; the provider's costs below."""
    admin, r1, r2 = tree.api("admin"), tree.api("R1"), tree.api("R2")
    provider = admin.config.CreateProvider(name="DID carrier").id
    did = admin.config.CreateDid(
        did={
            "number": "34910000001",
            "provider_id": provider,
            "setup_cost": D("0.20"),
            "monthly_cost": D("1.10"),
            "inbound_cost": D("0.002"),
            "setup_fee": D("0.50"),
            "monthly_fee": D("2.00"),
            "inbound_price": D("0.01"),
        }
    ).id
    r1.reseller.SetDidPrice(
        did_id=did, monthly_fee=D("3.00"), setup_fee=D("1.00"), inbound_price=D("0.015")
    )
    r2.reseller.SetDidPrice(
        did_id=did, monthly_fee=D("4.00"), setup_fee=D("1.50"), inbound_price=D("0.02")
    )
    r2.reseller.AssignDid(did_id=did, account_id=tree.ids["C1"])


def figures(report: object, prefix: str) -> tuple[object, ...]:
    return tuple(getattr(report, f"{prefix}{name}") for name in ("children_paid", "paid", "profit"))


async def test_did_revenue_and_recurring_fees_are_reported_apart_from_outbound_per_level(
    tree: Tree, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    add_provider(tree)
    await replay(session_factory)  # November's outbound calls
    sell_a_did(tree)
    charge_due(session_factory, datetime.now(UTC))  # type: ignore[arg-type]
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    event = inbound_event("1900000009.1", "34910000001", 125)  # 3 minutes at 60/60
    path = tmp_path / "inbound.txt"
    path.write_text(BANNER + event.replace("2027-01-12", day), newline="")
    await replay(session_factory, path, events=1)

    today = today_period()
    outbound = {  # (children paid, paid) of November's calls (test_three_levels)
        "R2": (
            2 * per_30s(RETAIL["34"]) + per_30s(RETAIL["44"]) + per_30s(RETAIL["61"]),
            2 * per_30s(R2_PRICE["34"]) + per_30s(R2_PRICE["44"]) + per_30s(R2_PRICE["61"]),
        ),
        "R1": (
            2 * per_30s(R2_PRICE["34"]) + per_30s(R2_PRICE["44"]) + per_30s(R2_PRICE["61"]),
            2 * per_30s(COST["34"]) + per_30s(COST["44"]) + per_30s(COST["61"]),
        ),
    }
    # Inbound: 3 minutes; C1 pays R2's 0.02, R2 R1's 0.015, R1 the admin's 0.01, the
    # operator the provider's 0.002. Recurring: fee + setup at each level's price; the
    # operator pays the provider's monthly and setup cost.
    inbound = {"R2": ("0.06", "0.045"), "R1": ("0.045", "0.03"), "admin": ("0.03", "0.006")}
    recurring = {"R2": ("5.50", "4.00"), "R1": ("4.00", "2.50"), "admin": ("2.50", "1.30")}
    for who in ("R2", "R1", "admin"):
        november = tree.api(who).reseller.GetProfit(**PERIOD)
        now = tree.api(who).reseller.GetProfit(**today)
        if who in outbound:
            child, own = outbound[who]
            assert figures(november, "") == (child, own, child - own), who
        assert figures(november, "inbound_") == (ZERO, ZERO, ZERO), who
        assert figures(now, "") == (ZERO, ZERO, ZERO), who
        child, own = (D(x) for x in inbound[who])
        assert figures(now, "inbound_") == (child, own, child - own), who
        assert [(x.key, x.calls, x.inbound_calls) for x in now.lines] == [("total", 0, 1)], who
        fee_child, fee_own = (D(x) for x in recurring[who])
        assert figures(now, "recurring_") == (fee_child, fee_own, fee_child - fee_own), who
        assert now.recurring_charges == 2, who  # the fee and the setup fee
        assert now.total_profit == (child - own) + (fee_child - fee_own), who
        assert november.recurring_charges == 0, who

    by_account = tree.api("R2").reseller.GetTrafficStats(
        today["period_start"], today["period_end"], "account"
    )
    [c1] = by_account.items
    assert (c1.key, c1.calls, c1.revenue, c1.cost) == (str(tree.ids["C1"]), 0, ZERO, ZERO)
    assert (c1.inbound_calls, c1.inbound_answered, c1.inbound_minutes) == (1, 1, D("2.083333"))
    assert (c1.inbound_revenue, c1.inbound_cost, c1.inbound_profit) == (
        D("0.06"),
        D("0.045"),
        D("0.015"),
    )
    operator = tree.api("admin").config.GetTrafficStats(
        PERIOD["period_start"], today["period_end"], "account"
    )
    # By the calling account; the admin's revenue is what R1 paid, its cost the providers'.
    c1 = {r.key: r for r in operator.items}[str(tree.ids["C1"])]
    assert (c1.inbound_calls, c1.inbound_revenue, c1.inbound_cost) == (1, D("0.03"), D("0.006"))
    assert c1.revenue == 2 * per_30s(COST["34"])  # its two billed Spain calls
