"""Authorize's rating of the chain, one pass over its levels: the longest call every
level can pay for, and what each level's money holds for the call's first slice
(services/credit/reserve.price_hold writes the rows from it).

Both used to be a pass of their own, each finding every level's plan and rate again.
Here each level's plan is found once and its rate read from the one `rate_call` that
prices its first slice. The first slice is known only once the last level has capped
the call (`first_slice` of the chain's max duration): a level is priced at the slice
as the call stands after it, and priced again at the end only if a level above it cut
the call below that (a reseller whose credit pays for less than a slice). A chain where
a level holds a bundle is not priced here: the bundles' free part changes the first
stretch, and price_hold prices it as before.

The rules are those of docs/credit_control.md, unchanged: the caps, each level's money
in its sheet's currency, the bundles' free seconds first, the minimum call. Spyne-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from rating import RatingPlan
from rating.errors import NoExchangeRate, NoRateForDestination
from rating.model import CallToRate
from rating.money import ZERO
from services.bundles import credit as bundle_credit
from services.credit.answers import Denied, Reason
from services.credit.levels import ChainAccount
from services.credit.policy import CreditPolicy, first_slice
from services.credit.routing import plan_for
from services.currency import credit as fx_credit


@dataclass(frozen=True)
class RatedChain:
    """The call's max duration and first slice, and per level (customer first) its plan
    and, when priced in the pass, what its first slice costs in the sheet's currency."""

    seconds: int
    held: int
    plans: list[RatingPlan]
    costs: list[Decimal] | None  # None: not priced (a bundle in the chain)


def available(account: ChainAccount, reserved: Decimal) -> Decimal:
    limit = account.credit_limit if account.billing_type == "postpaid" else ZERO
    return account.balance + limit - reserved


def rate_chain(
    session: Session,
    chain: Sequence[ChainAccount],
    reserved: dict[int, Decimal],
    rated: str,
    now: datetime,
    policy: CreditPolicy,
    slice_seconds: int,
    *,
    price: bool = True,
    plans: Sequence[RatingPlan] | None = None,
) -> RatedChain:
    """The longest call every level can pay for at its own sheet (or at `plans`, one per
    level: the on-net plans), within the caps; a level whose credit pays for less than
    its minimum call refuses the call (Denied). `rated`: the number as rated; the first
    slice is `first_slice` of the max duration and `slice_seconds`; `price` False: no
    level priced (a level holds a bundle)."""
    customer = chain[0]
    seconds = customer.max_call_seconds or policy.max_call_seconds  # issue 17: a setting
    found: list[RatingPlan] = []
    # Per level: the seconds priced and their cost (in the sheet's currency).
    priced: list[tuple[int, Decimal]] = []
    for level, account in enumerate(chain):
        if account.rate_sheet_id is None:
            raise Denied(Reason.NO_RATE, customer.id)
        if level and account.max_call_seconds:
            seconds = min(seconds, account.max_call_seconds)
        plan = plans[level] if plans else plan_for(session, account.rate_sheet_id)
        money = available(account, reserved.get(account.id, ZERO))
        try:
            # Currencies (docs/currencies.md): the money in the sheet's currency.
            money = fx_credit.money_in_sheet_currency(session, account, plan, money, now)
            cap = seconds
            if plans:  # on-net: no bundle covers it (the CDR path consumes none)
                seconds = plan.max_duration(rated, now, money, seconds)
            else:  # Bundles (docs/bundles.md): this level's free seconds first, then money.
                seconds = bundle_credit.max_duration(
                    session, chain, account, plan, rated, now, money, seconds
                )
            if price:  # the rate of the call's start, as find_rate gives it
                held = first_slice(seconds, slice_seconds)
                cost = plan.rate_call(CallToRate(rated, now, held, True))
                priced.append((held, cost.cost))
                rate = cost.rate
            else:
                rate = plan.find_rate(rated, now)
        except NoRateForDestination:
            raise Denied(Reason.NO_RATE, customer.id) from None
        except NoExchangeRate as e:
            raise Denied(Reason.NO_EXCHANGE_RATE, customer.id, e.message) from None
        # The caps are not credit: a call capped below the minimum is not refused.
        minimum = max(1, min(policy.min_call_for(account, rate), cap))
        if seconds < minimum:
            short = Reason.RESELLER_INSUFFICIENT_CREDIT if level else Reason.INSUFFICIENT_CREDIT
            whose = "a reseller's credit" if level else "the credit"
            detail = f"{whose} pays for {seconds} s; the minimum call is {minimum} s"
            raise Denied(short, customer.id, detail)
        found.append(plan)
    held = first_slice(seconds, slice_seconds)
    if not price:
        return RatedChain(seconds, held, found, None)
    call = CallToRate(rated, now, held, True)
    costs = [
        cost if at == held else plan.rate_call(call).cost
        for plan, (at, cost) in zip(found, priced, strict=True)
    ]
    return RatedChain(seconds, held, found, costs)
