"""Wire types of currencies and exchange rates (urn:siptar:config)."""

from __future__ import annotations

from spyne import ComplexModel, Decimal, Integer, Unicode

from services.common.wire import TYPES_NS, UtcDateTime
from services.config.models import TNS

# Rates carry 10 decimal places (rating/fx.py, RATE_PLACES), more than Money's 6.
ExchangeRateValue = Decimal(
    total_digits=18, fraction_digits=10, gt=0, type_name="ExchangeRate", __namespace__=TYPES_NS
)


class CurrencyInfo(ComplexModel):
    __namespace__ = TNS
    code = Unicode
    name = Unicode
    minor_unit = Integer  # ISO 4217's digits after the point
    decimals = Integer  # the places a converted charge is rounded to


class CurrencyPage(ComplexModel):
    __namespace__ = TNS
    items = CurrencyInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class ExchangeRateInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    from_currency = Unicode
    to_currency = Unicode
    rate = ExchangeRateValue
    valid_from = UtcDateTime


class ExchangeRatePage(ComplexModel):
    __namespace__ = TNS
    items = ExchangeRateInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class ExchangeRateImport(ComplexModel):
    """Two fields: zeep would unwrap an answer of one element into a bare integer."""

    __namespace__ = TNS
    imported = Integer
    total = Integer  # every rate stored, after the import
