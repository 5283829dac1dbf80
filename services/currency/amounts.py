"""The currency columns of a `charges` row: a leaf module (no imports of the rest),
so that services/cdr/pricing.py and services/credit/settlement.py can use it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SheetAmount:
    """What a level cost in its sheet's currency, before conversion."""

    currency: str
    cost: Decimal
    multiplier: Decimal


def fx_columns(
    sheet: SheetAmount | None = None, operator_cost: Decimal | None = None
) -> dict[str, object]:
    """The currency columns of a `charges` row (every row has all of them: the batch
    path inserts rows with the same keys)."""
    return {
        "sheet_currency": sheet.currency if sheet else None,
        "sheet_cost": sheet.cost if sheet else None,
        "fx_rate": sheet.multiplier if sheet else None,
        "operator_cost": operator_cost,
    }
