"""Currency conversion: exact, pure (no I/O, no clock). See docs/currencies.md.

A rate says how many units of `to_currency` one unit of `from_currency` buys, from
`valid_from` on, until the next rate of the same pair starts. The rate in force at a
moment is the latest whose `valid_from` is at or before it.

Inverse rates: a pair without a rate of its own is converted through the rate of the
opposite pair (dividing by it), so an admin sets EUR->USD once and USD->EUR follows.
When both directions have a rate in force, the one that started last wins (a tie goes
to the direct rate): the admin's latest word counts.

Rounding: a converted amount is rounded to the target currency's `decimals` (the
currency table's, default 4), ROUND_HALF_UP for charges; credit control asks for
ROUND_DOWN when it converts money available, so conversion never creates credit.
Nothing is rounded before the final amount: the rate is applied to the exact figure.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rating.errors import InvalidInput, NoExchangeRate
from rating.money import MONEY_PLACES, Rounding, quantize

DEFAULT_DECIMALS = 4
# Rates are kept to 10 decimal places (Numeric(18, 10), integer 10^-10 units on
# SQLite): 0.0000000001 of a unit is far below anything a charge of 6 places shows.
RATE_PLACES = 10
MAX_RATE = Decimal("99999999")  # 8 digits before the point (a 64-bit integer on SQLite)
# A private context with room for any Money (18 digits) times any rate (24 digits).
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


@dataclass(frozen=True)
class ExchangeRate:
    from_currency: str
    to_currency: str
    rate: Decimal  # units of to_currency per unit of from_currency
    valid_from: datetime  # aware


@dataclass(frozen=True)
class Converted:
    """An amount converted: the rounded amount, the exact one, and the multiplier
    used (the rate, or 1/rate for an inverse pair, to RATE_PLACES; informative only:
    the amounts come from the rate as set)."""

    amount: Decimal
    exact: Decimal
    multiplier: Decimal


def check_code(code: str) -> str:
    """An ISO 4217 alphabetic code, upper-cased; raises InvalidInput."""
    value = (code or "").strip().upper()
    if not (len(value) == 3 and value.isascii() and value.isalpha()):
        raise InvalidInput(f"currency {code!r}: three letters (ISO 4217), e.g. EUR")
    return value


def check_rate(rate: Decimal) -> Decimal:
    """A positive, finite rate with at most RATE_PLACES decimals; raises InvalidInput."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0 or rate > MAX_RATE:
        raise InvalidInput(f"rate {rate}: a positive number of at most {MAX_RATE}")
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        raise InvalidInput(f"rate {rate}: at most {RATE_PLACES} decimal places")
    return rate


class FxTable:
    """Every rate of every pair, ready for lookups by moment. Immutable."""

    __slots__ = ("_decimals", "_rates")

    def __init__(self, rates: Iterable[ExchangeRate], decimals: Mapping[str, int]) -> None:
        by_pair: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = {}
        for r in rates:
            by_pair.setdefault((r.from_currency, r.to_currency), []).append((r.valid_from, r.rate))
        self._rates = {pair: sorted(rows) for pair, rows in by_pair.items()}
        self._decimals = dict(decimals)

    def decimals(self, currency: str) -> int:
        return self._decimals.get(currency, DEFAULT_DECIMALS)

    def _in_force(self, pair: tuple[str, str], at: datetime) -> tuple[datetime, Decimal] | None:
        rows = self._rates.get(pair)
        if not rows:
            return None
        # The last row whose valid_from <= at (a rate starting exactly at `at` is in force).
        i = bisect.bisect_right(rows, at, key=lambda row: row[0])
        return rows[i - 1] if i else None

    def convert(
        self,
        amount: Decimal,
        from_currency: str,
        to_currency: str,
        at: datetime,
        rounding: Rounding = Rounding.HALF_UP,
    ) -> Converted:
        """`amount` of `from_currency` in `to_currency` at the rate in force at `at`;
        raises NoExchangeRate. The same currency converts to itself unchanged."""
        if from_currency == to_currency:
            return Converted(amount, amount, Decimal(1))
        direct = self._in_force((from_currency, to_currency), at)
        inverse = self._in_force((to_currency, from_currency), at)
        if direct is None and inverse is None:
            raise NoExchangeRate(f"no exchange rate {from_currency}->{to_currency} at {at}")
        if direct is not None and (inverse is None or direct[0] >= inverse[0]):
            exact = _CONTEXT.multiply(amount, direct[1])
            multiplier = direct[1]
        else:
            assert inverse is not None
            exact = _CONTEXT.divide(amount, inverse[1])
            multiplier = quantize(_CONTEXT.divide(Decimal(1), inverse[1]), RATE_PLACES)
        places = self.decimals(to_currency)
        return Converted(
            quantize(exact, places, rounding), quantize(exact, MONEY_PLACES), multiplier
        )
