"""Configuration use cases (admin): rate sheets and rate decks. No spyne here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from db import schema
from db.holidays import check_calendars
from db.rate_bulk import insert_rates, last_rate_id, remove_replaced
from db.rates import bump_version, rate_page, sheets_with_rate_counts
from db.session import UnitOfWork
from rating import parse_rates_csv
from rating.errors import AlreadyExists, InvalidInput, NotFound
from rating.model import BlockMode, Rate
from rating.money import Rounding
from services.common.caller import Caller, require_role
from services.common.exports import restored_rates

MAX_NAME = 128


@dataclass(frozen=True)
class NewRateSheet:
    name: str
    currency: str = "USD"
    decimals: int = 4
    rounding: str = "half_up"
    block_mode: str = "first_block"
    timezone: str = "UTC"


@dataclass(frozen=True)
class ImportResult:
    sheet_id: int
    imported: int
    removed: int
    version: int


def create_rate_sheet(uow: UnitOfWork, caller: Caller, cmd: NewRateSheet) -> schema.RateSheet:
    require_role(caller, "admin")
    sheet = schema.RateSheet(owner_id=caller.account_id, **_checked(cmd).__dict__)
    uow.session.add(sheet)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"a rate sheet named {cmd.name!r} already exists") from None
    uow.commit()
    return sheet


def _checked(cmd: NewRateSheet) -> NewRateSheet:
    name = cmd.name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name: 1 to {MAX_NAME} characters")
    currency = cmd.currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput("currency: a three-letter ISO 4217 code, e.g. EUR")
    check_rule(cmd.decimals, cmd.rounding, cmd.block_mode, cmd.timezone)
    return NewRateSheet(name, currency, cmd.decimals, cmd.rounding, cmd.block_mode, cmd.timezone)


def check_rule(decimals: int, rounding: str, block_mode: str, timezone: str) -> None:
    """The sheet-wide fields that alter prices (a new sheet's, or a rule version's)."""
    if not 0 <= decimals <= 6:
        raise InvalidInput("decimals: 0 to 6")
    one_of("rounding", rounding, [r.value for r in Rounding])
    one_of("block_mode", block_mode, [m.value for m in BlockMode])
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"timezone: unknown time zone {timezone!r}") from None


def one_of(field: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise InvalidInput(f"{field}: one of {', '.join(allowed)}")


def admin_sheet(uow: UnitOfWork, caller: Caller, sheet_id: int) -> schema.RateSheet:
    require_role(caller, "admin")
    sheet = uow.session.get(schema.RateSheet, sheet_id)
    if sheet is None:
        raise NotFound(f"rate sheet {sheet_id} not found")
    return sheet


def import_rates(
    uow: UnitOfWork, caller: Caller, sheet_id: int, csv_text: str, replace: bool
) -> ImportResult:
    """Load a CSV rate deck into a sheet, all or nothing: a bad row is reported with
    its line and column and nothing of the file is applied. `replace` makes the sheet
    exactly the file; otherwise rows with the same prefix, band and valid_from are
    replaced and the others added."""
    sheet = admin_sheet(uow, caller, sheet_id)
    return load_rates(uow, sheet, parse_rates_csv(csv_text), replace)


def load_rates(
    uow: UnitOfWork, sheet: schema.RateSheet, rates: list[Rate], replace: bool
) -> ImportResult:
    """Put parsed rates into `sheet` in bulk (COPY / executemany, never the ORM) and
    commit. The version is bumped first: that row lock serialises imports of a sheet."""
    if not rates:
        raise InvalidInput("the file has no rates")
    rates = restored_rates(rates)
    session = uow.session
    check_calendars(session, rates)
    bump_version(session, sheet.id)
    if replace:
        result = session.execute(delete(schema.Rate).where(schema.Rate.sheet_id == sheet.id))
        removed = cast(CursorResult[Any], result).rowcount
        insert_rates(session, sheet.id, rates)
    else:
        last_old_id = last_rate_id(session, sheet.id)
        insert_rates(session, sheet.id, rates)
        removed = 0 if last_old_id is None else remove_replaced(session, sheet.id, last_old_id)
    uow.commit()
    session.refresh(sheet)
    return ImportResult(sheet.id, len(rates), removed, sheet.version)


def list_rates(
    uow: UnitOfWork, caller: Caller, sheet_id: int, prefix: str, offset: int, limit: int
) -> tuple[list[schema.Rate], int]:
    sheet = admin_sheet(uow, caller, sheet_id)
    return rate_page(uow.session, sheet.id, prefix, offset, limit)


def list_rate_sheets(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[tuple[schema.RateSheet, int]], int]:
    require_role(caller, "admin")
    query = select(schema.RateSheet).order_by(schema.RateSheet.id)
    return sheets_with_rate_counts(uow.session, query, offset, limit)
