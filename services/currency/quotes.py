"""QuoteCall across currencies: a quote by account also says what the account would
pay in its own currency, converted as its charge would be (docs/currencies.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

from services.common.caller import Caller, visible_account
from services.currency.table import fx_table

if TYPE_CHECKING:
    from services.billing.usecases import Quote

Q = TypeVar("Q", bound="Quote")


def in_account_currency(
    session: Session,
    quote: Q,
    sheet_id: int | None,
    account_id: int | None,
    caller: Caller,
    at: datetime,
) -> Q:
    """`quote` with the account's currency and amount when it was asked by account
    (or for the caller's own); unchanged when asked by sheet. Raises NoExchangeRate."""
    if sheet_id is not None:
        return quote
    account = visible_account(session, caller, account_id)
    amount = quote.cost.cost
    if account.currency != quote.currency:
        amount = fx_table(session).convert(amount, quote.currency, account.currency, at).amount
    return replace(quote, account_currency=account.currency, account_cost=amount)
