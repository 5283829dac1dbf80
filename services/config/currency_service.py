"""Configuration Manager, currencies and exchange rates (admin logins only).
See docs/currencies.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.InvalidInput,
Client.AlreadyExists, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db.currency_schema import Currency, ExchangeRateRow
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, UtcDateTime, answer_page, utc
from services.config import currency_models as m
from services.currency import usecases
from services.currency.usecases import RateCommand

Code = Unicode(min_occurs=1, nillable=False, min_len=3, max_len=3, pattern="[A-Za-z]{3}")
ImportText = Unicode(min_occurs=1, nillable=False)


def _currency(c: Currency) -> m.CurrencyInfo:
    return m.CurrencyInfo(code=c.code, name=c.name, minor_unit=c.minor_unit, decimals=c.decimals)


def _rate(r: ExchangeRateRow) -> m.ExchangeRateInfo:
    return m.ExchangeRateInfo(
        id=r.id,
        from_currency=r.from_currency,
        to_currency=r.to_currency,
        rate=r.rate,
        valid_from=utc(r.valid_from),
    )


class CurrencyService(ServiceBase):
    __in_header__ = Auth

    @rpc(Offset, Limit, _returns=m.CurrencyPage)
    def ListCurrencies(ctx: Any, offset: int | None, limit: int | None) -> m.CurrencyPage:
        """The currency table by code; paged (limit 1..1000, default 100)."""
        req = request(ctx)
        return answer_page(
            m.CurrencyPage,
            _currency,
            lambda first, count: usecases.list_currencies(req.uow, req.caller, first, count),
            offset,
            limit,
        )

    @rpc(
        Code,
        Unicode(min_occurs=1, nillable=False, max_len=64),
        Integer(min_occurs=1, nillable=False),
        Integer,
        _returns=m.CurrencyInfo,
    )
    def SetCurrency(
        ctx: Any, code: str, name: str, minor_unit: int, decimals: int | None
    ) -> m.CurrencyInfo:
        """Add an ISO 4217 currency or change its name and places: `minor_unit` is
        ISO's digits after the point (0 to 4), `decimals` the places a converted charge
        is rounded to (0 to 6, default 4)."""
        req = request(ctx)
        found = usecases.set_currency(req.uow, req.caller, code, name, minor_unit, decimals)
        return _currency(found)

    @rpc(
        Code,
        Code,
        m.ExchangeRateValue(min_occurs=1, nillable=False),
        UtcDateTime(min_occurs=1, nillable=False),
        _returns=m.ExchangeRateInfo,
    )
    def SetExchangeRate(
        ctx: Any, from_currency: str, to_currency: str, rate: Decimal, valid_from: Any
    ) -> m.ExchangeRateInfo:
        """One unit of `from_currency` buys `rate` units of `to_currency` from
        `valid_from` on (calls starting at or after it), until the pair's next rate.
        The opposite pair without a rate of its own uses 1/rate. A rate of the same
        pair and start exists already: Client.AlreadyExists (rates are never rewritten)."""
        req = request(ctx)
        cmd = RateCommand(from_currency, to_currency, rate, valid_from)
        return _rate(usecases.set_exchange_rate(req.uow, req.caller, cmd))

    @rpc(ImportText, _returns=m.ExchangeRateImport)
    def ImportExchangeRates(ctx: Any, csv: str) -> m.ExchangeRateImport:
        """Rates as CSV, header `from_currency,to_currency,rate,valid_from`
        (valid_from ISO 8601 with an offset). All or nothing: a bad line answers
        Client.InvalidInput (or Client.AlreadyExists) naming it, and nothing is stored."""
        req = request(ctx)
        imported, total = usecases.import_exchange_rates(req.uow, req.caller, csv)
        return m.ExchangeRateImport(imported=imported, total=total)

    @rpc(Unicode(max_len=3), Offset, Limit, _returns=m.ExchangeRatePage)
    def ListExchangeRates(
        ctx: Any, currency: str | None, offset: int | None, limit: int | None
    ) -> m.ExchangeRatePage:
        """Every rate (or the pairs naming `currency`), by pair, the latest start
        first; paged (limit 1..1000, default 100)."""
        req = request(ctx)
        return answer_page(
            m.ExchangeRatePage,
            _rate,
            lambda first, count: usecases.list_exchange_rates(
                req.uow, req.caller, currency, first, count
            ),
            offset,
            limit,
        )
