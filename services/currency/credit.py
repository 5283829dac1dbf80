"""Credit control across currencies (the hooks of services/credit/authorize.py and
services/credit/slices.py). See docs/currencies.md.

An account's money is in its own currency; the max duration is computed on the
level's sheet, in the sheet's currency: so the money available is converted to the
sheet's currency at the rate in force at the call's start, rounded DOWN (conversion
never creates credit), and what is reserved, priced on the sheet, is converted back
to the account's currency rounded UP (a reservation never holds less than the
charge it stands for).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from rating import RatingPlan
from rating.money import Rounding
from services.credit.levels import ChainAccount
from services.currency.table import fx_table


def money_in_sheet_currency(
    session: Session, account: ChainAccount, plan: RatingPlan, money: Decimal, at: datetime
) -> Decimal:
    """`money` of the account in the currency of `plan`'s sheet; raises NoExchangeRate
    when no rate is in force (Authorize refuses the call with that reason)."""
    src, dst = account.currency, plan.sheet.currency
    if src == dst:
        return money
    return fx_table(session).convert(money, src, dst, at, Rounding.DOWN).amount


def held_in_account_currency(
    session: Session, account: ChainAccount, plan: RatingPlan, cost: Decimal, at: datetime
) -> Decimal:
    """A reservation's amount, priced on `plan`, in the account's currency. Called
    after money_in_sheet_currency found a rate for the same moment."""
    src, dst = plan.sheet.currency, account.currency
    if src == dst:
        return cost
    return fx_table(session).convert(cost, src, dst, at, Rounding.UP).amount
