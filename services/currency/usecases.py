"""The currency table and exchange rates (admin): ListCurrencies, SetCurrency,
SetExchangeRate, ImportExchangeRates, ListExchangeRates. Spyne-free.
See docs/currencies.md."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from db import config_versions
from db.currency_schema import Currency, ExchangeRateRow
from db.paging import page_scalars
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput
from rating.fx import check_code, check_rate
from services.common.caller import Caller, require_role
from services.currency.table import CURRENCIES

MAX_IMPORT_ROWS = 10_000
COLUMNS = ("from_currency", "to_currency", "rate", "valid_from")


@dataclass(frozen=True)
class RateCommand:
    from_currency: str
    to_currency: str
    rate: Decimal
    valid_from: datetime


def list_currencies(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[Currency], int]:
    require_role(caller, "admin")
    return page_scalars(uow.session, select(Currency).order_by(Currency.code), offset, limit)


def set_currency(
    uow: UnitOfWork, caller: Caller, code: str, name: str, minor_unit: int, decimals: int | None
) -> Currency:
    """Add a currency or change its name and places. `decimals` (default 4): what a
    converted charge is rounded to; from now on (stored charges keep their amounts)."""
    require_role(caller, "admin")
    code = check_code(code)
    name = (name or "").strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise InvalidInput("name: 1 to 64 printable characters")
    if not 0 <= minor_unit <= 4:
        raise InvalidInput("minor_unit: 0 to 4 (ISO 4217's digits after the point)")
    places = 4 if decimals is None else decimals
    if not 0 <= places <= 6:
        raise InvalidInput("decimals: 0 to 6")
    session = uow.session
    row = session.get(Currency, code, with_for_update=True)
    if row is None:
        row = Currency(code=code)
        session.add(row)
    row.name, row.minor_unit, row.decimals = name, minor_unit, places
    config_versions.bump(session, CURRENCIES)
    uow.commit()
    return row


def _checked(uow: UnitOfWork, cmd: RateCommand, known: set[str]) -> RateCommand:
    src, dst = check_code(cmd.from_currency), check_code(cmd.to_currency)
    for code in (src, dst):
        if code not in known:
            raise InvalidInput(f"currency {code}: not in the currency table (SetCurrency)")
    if src == dst:
        raise InvalidInput("to_currency: another currency than from_currency")
    if cmd.valid_from is None or cmd.valid_from.tzinfo is None:
        raise InvalidInput("valid_from: a time with a UTC offset")
    return RateCommand(src, dst, check_rate(cmd.rate), cmd.valid_from.astimezone(UTC))


def _known(uow: UnitOfWork) -> set[str]:
    return set(uow.session.scalars(select(Currency.code)))


def _store(uow: UnitOfWork, rates: list[RateCommand]) -> list[ExchangeRateRow]:
    session = uow.session
    rows = [
        ExchangeRateRow(
            from_currency=r.from_currency,
            to_currency=r.to_currency,
            rate=r.rate,
            valid_from=r.valid_from,
        )
        for r in rates
    ]
    session.add_all(rows)
    config_versions.bump(session, CURRENCIES)
    session.flush()
    return rows


def _refuse_duplicate(
    uow: UnitOfWork, r: RateCommand, seen: set[tuple[str, str, datetime]]
) -> None:
    """A (pair, valid_from) already stored, or twice in one import, is refused: a rate
    is never rewritten, so no charge's conversion changes afterwards."""
    key = (r.from_currency, r.to_currency, r.valid_from)
    if key in seen or _exists(uow, r):
        raise AlreadyExists(
            f"a rate {r.from_currency}->{r.to_currency} from {r.valid_from.isoformat()} "
            "exists already"
        )
    seen.add(key)


def _exists(uow: UnitOfWork, r: RateCommand) -> bool:
    found = uow.session.scalar(
        select(ExchangeRateRow.id).where(
            ExchangeRateRow.from_currency == r.from_currency,
            ExchangeRateRow.to_currency == r.to_currency,
            ExchangeRateRow.valid_from == r.valid_from,
        )
    )
    return found is not None


def set_exchange_rate(uow: UnitOfWork, caller: Caller, cmd: RateCommand) -> ExchangeRateRow:
    """One unit of `from_currency` buys `rate` of `to_currency` from `valid_from` on."""
    require_role(caller, "admin")
    checked = _checked(uow, cmd, _known(uow))
    _refuse_duplicate(uow, checked, set())
    (row,) = _store(uow, [checked])
    uow.commit()
    return row


def import_exchange_rates(uow: UnitOfWork, caller: Caller, text: str) -> tuple[int, int]:
    """A CSV of rates (header: from_currency,to_currency,rate,valid_from; valid_from
    ISO 8601 with an offset). All or nothing: a bad line answers InvalidInput naming it
    (1-based, the header is line 1), and nothing is stored. Returns how many were
    imported and how many rates there are now."""
    require_role(caller, "admin")
    reader = csv.reader(io.StringIO(text or ""))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != COLUMNS:
        raise InvalidInput(f"line 1: the header must be {','.join(COLUMNS)}")
    known = _known(uow)
    rates: list[RateCommand] = []
    seen: set[tuple[str, str, datetime]] = set()
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rates) >= MAX_IMPORT_ROWS:
            raise InvalidInput(f"line {line}: at most {MAX_IMPORT_ROWS} rates an import")
        try:
            rate = _checked(uow, _parse(cells), known)
        except InvalidInput as e:
            raise InvalidInput(f"line {line}: {e.message}") from None
        try:
            _refuse_duplicate(uow, rate, seen)
        except AlreadyExists as e:
            raise AlreadyExists(f"line {line}: {e.message}") from None
        rates.append(rate)
    if not rates:
        raise InvalidInput("line 2: no rates")
    _store(uow, rates)
    total = uow.session.scalar(select(func.count()).select_from(ExchangeRateRow))
    uow.commit()
    return len(rates), int(total or 0)


def _parse(cells: list[str]) -> RateCommand:
    if len(cells) != len(COLUMNS):
        raise InvalidInput(f"{len(cells)} columns, {len(COLUMNS)} expected")
    src, dst, rate_text, start = (c.strip() for c in cells)
    try:
        rate = Decimal(rate_text)
    except InvalidOperation:
        raise InvalidInput(f"rate {rate_text!r}: not a number") from None
    try:
        valid_from = datetime.fromisoformat(start)
    except ValueError:
        raise InvalidInput(f"valid_from {start!r}: not an ISO 8601 time") from None
    return RateCommand(src, dst, rate, valid_from)


def list_exchange_rates(
    uow: UnitOfWork,
    caller: Caller,
    currency: str | None,
    offset: int,
    limit: int,
) -> tuple[list[ExchangeRateRow], int]:
    """Every rate (or those of pairs naming `currency`), by pair, the latest first."""
    require_role(caller, "admin")
    query = select(ExchangeRateRow).order_by(
        ExchangeRateRow.from_currency,
        ExchangeRateRow.to_currency,
        ExchangeRateRow.valid_from.desc(),
    )
    if currency:
        code = check_code(currency)
        query = query.where(
            (ExchangeRateRow.from_currency == code) | (ExchangeRateRow.to_currency == code)
        )
    return page_scalars(uow.session, query, offset, limit)
