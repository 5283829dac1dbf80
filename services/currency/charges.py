"""A call's charges in the right currencies (the hooks of services/cdr/pricing.py and
services/credit/settlement.py, whose buy cost is services/credit/buy_cost.py). See
docs/currencies.md.

Each level is rated on its own sheet, in the sheet's currency. When the paying
account's currency is another, the cost is converted at the rate in force at the
call's start (the moment the call is rated at): `cost` and `exact_cost` of the charge
become the account's amounts (what its ledger row says), and the sheet's amount, its
currency and the multiplier are kept beside them. When the account's currency is not
the operator's, the amount in the operator's currency is kept too, for GetProfit.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from db.rates import plans
from rating.errors import NoExchangeRate
from rating.fx import FxTable
from rating.model import CallCost
from services.credit.buy_cost import BuyCost
from services.credit.cdr_batch import remembered
from services.currency.amounts import SheetAmount
from services.currency.table import fx_table, operator_currency

if TYPE_CHECKING:
    from services.cdr.pricing import LevelCharge

logger = logging.getLogger(__name__)


def _sheet_currency(session: Session, sheet_id: int) -> str:
    plan = remembered(session, ("plan", sheet_id), lambda: plans.plan(session, sheet_id))
    return plan.sheet.currency


def _converted(
    cost: CallCost, table: FxTable, src: str, dst: str, at: datetime
) -> tuple[CallCost, SheetAmount]:
    """`cost` in `dst`, and what it was in `src` (the sheet's amount and the multiplier)."""
    billed = table.convert(cost.cost, src, dst, at)
    exact = table.convert(cost.exact_cost, src, dst, at).exact
    sheet = SheetAmount(src, cost.cost, billed.multiplier)
    return replace(cost, cost=billed.amount, exact_cost=exact), sheet


def convert_levels(
    session: Session, levels: list[LevelCharge], at: datetime, billed: int
) -> list[LevelCharge]:
    """Every level's cost in its account's currency, and in the operator's where that
    differs. A missing rate makes the whole call Unratable (stored with the reason,
    charged nothing), never charged in the wrong currency. `billed`: the account the
    CDR bills."""
    from services.cdr.pricing import Unratable  # pricing imports this module

    if not levels:
        return levels
    operator = operator_currency(session)
    out: list[LevelCharge] = []
    for lc in levels:
        account_currency = lc.account.currency
        sheet_currency = (
            account_currency if lc.sheet_id is None else _sheet_currency(session, lc.sheet_id)
        )
        if sheet_currency == account_currency == operator:
            out.append(lc)
            continue
        table = fx_table(session)
        try:
            sheet = None
            cost = lc.cost
            if sheet_currency != account_currency:
                cost, sheet = _converted(cost, table, sheet_currency, account_currency, at)
            operator_cost = None
            if account_currency != operator:
                operator_cost = table.convert(cost.cost, account_currency, operator, at).amount
        except NoExchangeRate as e:
            why = f"account {lc.account.id} ({lc.account.name}): {e.message}"
            raise Unratable(why, billed) from None
        out.append(replace(lc, cost=cost, sheet_amount=sheet, operator_cost=operator_cost))
    return out


def convert_buy(session: Session, buy: BuyCost, at: datetime) -> BuyCost | None:
    """The provider's cost in the operator's currency (the provider's row has no
    account: its currency is the operator's). No rate: no buy cost, logged, as for a
    provider without a buy rate."""
    sheet_currency = _sheet_currency(session, buy.sheet_id)
    operator = operator_currency(session)
    if sheet_currency == operator:
        return buy
    table = fx_table(session)
    try:
        cost, sheet = _converted(buy.cost, table, sheet_currency, operator, at)
    except NoExchangeRate as e:
        logger.warning("provider %s: no buy cost: %s", buy.provider_id, e.message)
        return None
    return replace(buy, cost=cost, sheet_amount=sheet)
