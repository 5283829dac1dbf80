"""Taxes of an invoice: pure arithmetic, no I/O.

The rounding rule (docs/invoices.md): taxes are computed once per invoice, on the
invoice's net total, each tax rounded half-up to the currency's cents (`places`).
Lines are never taxed one by one, so the printed taxes are exactly the rates applied
to the printed net. A compound tax is charged on the net plus the taxes before it.

Exclusive prices: the net is the amount, the taxes come on top.
Inclusive prices: the amount is the gross; the net is what is left after the taxes,
so that net + taxes == amount to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rating.money import MONEY_PLACES, quantize

CENTS = 2


@dataclass(frozen=True)
class Tax:
    name: str
    rate: Decimal  # 0.21 for 21 %
    compound: bool = False


@dataclass(frozen=True)
class TaxAmount:
    name: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Taxed:
    net: Decimal
    taxes: tuple[TaxAmount, ...]

    @property
    def tax(self) -> Decimal:
        return sum((t.amount for t in self.taxes), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def _on(net: Decimal, taxes: tuple[Tax, ...], places: int | None) -> tuple[TaxAmount, ...]:
    out: list[TaxAmount] = []
    for t in taxes:
        base = net + (sum((x.amount for x in out), Decimal(0)) if t.compound else Decimal(0))
        exact = base * t.rate
        amount = exact if places is None else quantize(exact, places)
        out.append(TaxAmount(t.name, t.rate, base, amount))
    return tuple(out)


def apply_taxes(
    amount: Decimal, taxes: tuple[Tax, ...], *, inclusive: bool, places: int = CENTS
) -> Taxed:
    """The net and the taxes of an invoice whose lines add up to `amount`."""
    if not inclusive:
        return Taxed(amount, _on(amount, taxes, places))
    # The gross of a net of 1, exactly: the factor the taxes multiply a net by.
    factor = Decimal(1) + sum((t.amount for t in _on(Decimal(1), taxes, None)), Decimal(0))
    net_exact = quantize(amount / factor, MONEY_PLACES)
    amounts = _on(net_exact, taxes, places)
    net = amount - sum((t.amount for t in amounts), Decimal(0))
    return Taxed(net, amounts)
