"""Recurring fees (subscriptions, DIDs) across currencies: refused, clearly.

A fee is charged at every level of the tree at each seller's own price, and those
prices carry no currency of their own: they are read in the paying account's. Rather
than guess a conversion for each period, a subscription (or a DID assignment) whose
chain, operator included, holds more than one currency is refused with
Client.InvalidInput. See docs/currencies.md.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.schema import Account
from rating.errors import InvalidInput


def refuse_mixed_currencies(session: Session, account: Account) -> None:
    ids = [int(i) for i in account.path.strip("/").split("/") if i]
    found = set(session.scalars(select(Account.currency).where(Account.id.in_(ids))))
    if len(found) > 1:
        raise InvalidInput(
            "currency: a recurring fee needs one currency along the account's chain "
            f"(here {', '.join(sorted(found))}); see docs/currencies.md"
        )
