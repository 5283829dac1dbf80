"""Money arithmetic: Decimal only, one place that rounds.

Amounts are stored with 6 decimal places (docs/design.md, "Money"); a sheet's final call cost
is rounded to its own `decimals` with its own rounding mode. Nothing else rounds.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from enum import StrEnum

from rating.errors import InvalidInput

MONEY_PLACES = 6
MONEY = Decimal(1).scaleb(-MONEY_PLACES)  # 0.000001
ZERO = Decimal(0)
# Numeric(18, 6): 12 digits before the point.
MAX_AMOUNT = Decimal("999999999999.999999")


class Rounding(StrEnum):
    HALF_UP = "half_up"
    UP = "up"
    DOWN = "down"


_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.UP: ROUND_UP,
    Rounding.DOWN: ROUND_DOWN,
}


def quantize(
    amount: Decimal, places: int = MONEY_PLACES, rounding: Rounding = Rounding.HALF_UP
) -> Decimal:
    """Round `amount` to `places` decimals with `rounding` (away from zero for UP)."""
    exp = Decimal(1).scaleb(-places)
    # A private context: the caller's precision (default 28 digits) must not matter here.
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        return amount.quantize(exp, rounding=_MODES[Rounding(rounding)])


def to_money(value: object, field: str = "amount") -> Decimal:
    """Parse a money amount from text or Decimal; refuses floats, NaN, infinities and
    more than 6 decimals or 12 integer digits, so nothing is silently rounded."""
    if isinstance(value, float | bool):
        raise InvalidInput(f"{field}: money must be given as a decimal string, not a float")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise InvalidInput(f"{field}: {value!r} is not a decimal number") from None
    if not amount.is_finite():
        raise InvalidInput(f"{field}: {value!r} is not a finite number")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent < -MONEY_PLACES and amount != quantize(amount):
        raise InvalidInput(f"{field}: {value!r} has more than {MONEY_PLACES} decimal places")
    if abs(amount) > MAX_AMOUNT:
        raise InvalidInput(f"{field}: {value!r} is out of range")
    return quantize(amount)
