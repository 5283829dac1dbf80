"""The operator's buy cost of a call: what it pays the provider, a `charges` row with
no account (docs/credit_control.md, Settlement).

A module of its own because two modules need it: services/credit/settlement.py prices
it at the provider's buy sheet, and services/currency/charges.py (`convert_buy`, which
settlement calls) converts it to the operator's currency. Defined in settlement.py, it
made the two import each other. Spyne-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from rating.model import CallCost
from services.currency.amounts import SheetAmount, fx_columns


@dataclass(frozen=True)
class BuyCost:
    """What the operator pays the provider for a call: a `charges` row with no account."""

    provider_id: int
    sheet_id: int
    level: int
    cost: CallCost
    # Set when the provider's sheet is not in the operator's currency (`cost` then is).
    sheet_amount: SheetAmount | None = None

    def row(self, cdr_id: int) -> dict[str, object]:
        return {
            "cdr_id": cdr_id,
            "level": self.level,
            "account_id": None,
            "provider_id": self.provider_id,
            "sheet_id": self.sheet_id,
            "prefix": self.cost.prefix,
            "billed_seconds": self.cost.billed_seconds,
            "exact_cost": self.cost.exact_cost,
            "cost": self.cost.cost,
            **fx_columns(self.sheet_amount),
        }
