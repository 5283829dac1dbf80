"""The on-net plans of a caller's chain: what each level's sheet says an on-net call
costs (docs/onnet_callback.md).

Authorize (services/credit/authorize._on_net) rates an on-net call at these plans under
the same credit rules as any call: every level of the caller's chain pays its own
sheet's on-net price (rating/onnet.py: a row of prefix `onnet`, else free) and must
afford at least its minimum call at it. A free call still gets a reservation of 0 at
every level: concurrent-call limits and settlement count reservations.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from rating import RatingPlan
from rating.onnet import on_net_plan
from services.credit.answers import Denied, Reason
from services.credit.levels import ChainAccount
from services.credit.routing import plan_for

__all__ = ["on_net_plan_for", "on_net_plans"]

_PLANS: dict[tuple[int, int], RatingPlan] = {}


def on_net_plan_for(plan: RatingPlan) -> RatingPlan:
    """The on-net plan of a compiled sheet, compiled once per (sheet, version)."""
    sheet = plan.sheet
    if sheet.id is None:
        return on_net_plan(plan)
    key = (sheet.id, sheet.version)
    found = _PLANS.get(key)
    if found is None:
        if len(_PLANS) > 1000:  # old versions: dropped wholesale, rebuilt on demand
            _PLANS.clear()
        found = _PLANS[key] = on_net_plan(plan)
    return found


def on_net_plans(session: Session, chain: Sequence[ChainAccount]) -> list[RatingPlan]:
    """The on-net plan of every level of `chain`, customer first."""
    plans = []
    for account in chain:
        if account.rate_sheet_id is None:
            raise Denied(Reason.NO_RATE, chain[0].id, f"account {account.id} has no rate sheet")
        plans.append(on_net_plan_for(plan_for(session, account.rate_sheet_id)))
    return plans
