"""The price of an on-net call: a call from one account to another of the same server.

A sheet says what its on-net calls cost with a row of prefix `onnet` (rating.model.ON_NET),
with every field of an ordinary row (price or tiers, increments, connect fee, bands,
validity); a sheet without one makes them free. The on-net plan of a sheet is a small
plan of those rows alone, asked for the number ON_NET_NUMBER, so the cost, the longest
affordable call and the rounding follow the same rules as any other call.
"""

from __future__ import annotations

from dataclasses import replace

from rating.compile import compile_sheet
from rating.model import ON_NET, CallCost, CallToRate, Rate
from rating.money import ZERO
from rating.plan import RatingPlan

__all__ = ["ON_NET_NUMBER", "on_net_cost", "on_net_plan"]

# What an on-net call is rated as inside its on-net plan: the plan holds only the on-net
# rows, under this prefix.
ON_NET_NUMBER = "0"


def on_net_plan(plan: RatingPlan) -> RatingPlan:
    """The plan of `plan`'s on-net rows; without any, a plan where on-net calls are free."""
    sheet = plan.sheet
    rows = tuple(
        replace(rate, prefix=ON_NET_NUMBER) for rate in sheet.rates if rate.prefix == ON_NET
    )
    if not rows:
        rows = (Rate(prefix=ON_NET_NUMBER, destination="On-net", price=ZERO),)
    return compile_sheet(replace(sheet, name=f"{sheet.name} (on-net)", rates=rows))


def on_net_cost(on_net: RatingPlan, call: CallToRate) -> CallCost:
    """The cost of an on-net call in an on-net plan, whatever number was dialled; its
    prefix reads `onnet`."""
    # Built, not dataclasses.replace()d: this runs for every level of every on-net CDR.
    c = on_net.rate_call(CallToRate(ON_NET_NUMBER, call.start, call.billsec, call.answered))
    destination = c.destination or "On-net"
    return CallCost(c.cost, c.exact_cost, ON_NET, destination, c.billed_seconds, c.rate, c.parts)
