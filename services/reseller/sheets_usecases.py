"""A reseller's price lists: copy its own sheet with a markup, edit rates, assign sheets
to its children, and the below-cost guard. No spyne here.

Who may do what (docs/design.md, "Who pays whom"): a sheet is readable by the accounts at
or above its owner and by the account that pays by it; it is changed only by its
owner or an account above the owner. The admin is the root, so the same operations
serve it. A reseller's cost for a prefix is the price of the longest matching prefix
of the sheet it pays by; a sell price below it answers BelowCost unless `force`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.exc import IntegrityError

from db import schema
from db.holidays import check_calendars
from db.rates import bump_version, load_sheet, rate_page, row_values, sheets_with_rate_counts
from db.schema import Account, RateSheet
from db.session import UnitOfWork
from rating import parse_rates_csv
from rating.errors import AccessDenied, AlreadyExists, BelowCost, InvalidInput, NotFound
from rating.model import CATCH_ALL, Rate, Tier
from rating.money import quantize, to_money
from services.billing.usecases import may_read_sheet
from services.common.caller import Caller, managed_account, require_role, visible_account
from services.common.exports import restored_rates

HUNDRED = Decimal(100)


def readable_sheet(uow: UnitOfWork, caller: Caller, sheet_id: int) -> RateSheet:
    sheet = uow.session.get(RateSheet, sheet_id)
    if sheet is None or not may_read_sheet(uow.session, caller, sheet):
        raise NotFound(f"rate sheet {sheet_id} not found")
    return sheet


def editable_sheet(uow: UnitOfWork, caller: Caller, sheet_id: int) -> RateSheet:
    require_role(caller, "admin", "reseller")
    sheet = uow.session.get(RateSheet, sheet_id)
    owner = uow.session.get(Account, sheet.owner_id) if sheet else None
    if sheet is None or owner is None or not caller.owns(owner):
        # A sheet the caller pays by is readable but not its to change.
        if sheet is not None and may_read_sheet(uow.session, caller, sheet):
            raise AccessDenied(f"rate sheet {sheet_id} belongs to the account above you")
        raise NotFound(f"rate sheet {sheet_id} not found")
    return sheet


def list_sheets(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[tuple[RateSheet, int]], int]:
    """The sheets owned in the caller's subtree and the one it pays by, a page."""
    require_role(caller, "admin", "reseller")
    mine = uow.session.get(Account, caller.account_id)
    owners = select(Account.id).where(Account.path.startswith(caller.path))
    where: ColumnElement[bool] = RateSheet.owner_id.in_(owners)
    if mine is not None and mine.rate_sheet_id is not None:
        where = where | (RateSheet.id == mine.rate_sheet_id)
    query = select(RateSheet).where(where).order_by(RateSheet.id)
    return sheets_with_rate_counts(uow.session, query, offset, limit)


def _cost_rates(uow: UnitOfWork, owner: Account) -> dict[str, Rate] | None:
    """What the sheet's owner pays, by prefix (None: the admin, who pays providers)."""
    if owner.role == "admin" or owner.rate_sheet_id is None:
        return None
    return {r.prefix: r for r in load_sheet(uow.session, owner.rate_sheet_id).rates}


def _highest(rate: Rate) -> Decimal:
    return max([t.price for t in rate.tiers] or [rate.price or Decimal(0)])


def _lowest(rate: Rate) -> Decimal:
    return min([t.price for t in rate.tiers] or [rate.price or Decimal(0)])


def check_cost(rates: list[Rate], costs: dict[str, Rate] | None) -> None:
    """BelowCost for the first rate whose lowest per-minute price is below the highest
    price its owner pays for the longest matching prefix (or its catch-all row, where
    no prefix matches; a catch-all sold is compared with the catch-all bought)."""
    if costs is None:
        return
    for rate in rates:
        prefix = "" if rate.prefix == CATCH_ALL else rate.prefix
        while prefix and prefix not in costs:
            prefix = prefix[:-1]
        cost = costs.get(prefix) if prefix else costs.get(CATCH_ALL)
        if cost is not None and _lowest(rate) < _highest(cost):
            raise BelowCost(
                f"prefix {rate.prefix}: price {_lowest(rate)} is below your cost "
                f"{_highest(cost)} (prefix {cost.prefix}); send force to accept it"
            )


@dataclass(frozen=True)
class Markup:
    percent: Decimal = Decimal(0)
    per_minute: Decimal = Decimal(0)

    def apply(self, price: Decimal) -> Decimal:
        return quantize(price * (HUNDRED + self.percent) / HUNDRED + self.per_minute)


def marked_up(rate: Rate, markup: Markup) -> Rate:
    tiers = tuple(Tier(t.from_second, markup.apply(t.price), t.increment) for t in rate.tiers)
    price = markup.apply(rate.price) if rate.price is not None else None
    return replace(rate, price=price, tiers=tiers)


def copy_sheet(
    uow: UnitOfWork,
    caller: Caller,
    source_id: int,
    name: str,
    percent: object,
    per_minute: object,
    force: bool,
) -> tuple[RateSheet, int]:
    """A new sheet owned by the caller: every rate of `source` (one it may read, usually
    the one it pays by) with price * (1 + percent/100) + per_minute."""
    require_role(caller, "admin", "reseller")
    source = readable_sheet(uow, caller, source_id)
    markup = Markup(to_money(percent, "markup_percent"), to_money(per_minute, "markup_per_minute"))
    rates = [marked_up(r, markup) for r in load_sheet(uow.session, source.id).rates]
    if any(_lowest(r) < 0 for r in rates):
        raise InvalidInput("markup: a price would be negative")
    owner = uow.session.get(Account, caller.account_id)
    assert owner is not None
    if not force:
        check_cost(rates, _cost_rates(uow, owner))
    sheet = RateSheet(
        owner_id=caller.account_id,
        name=_name(name),
        currency=source.currency,
        decimals=source.decimals,
        rounding=source.rounding,
        block_mode=source.block_mode,
        timezone=source.timezone,
    )
    uow.session.add(sheet)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"you already have a rate sheet named {name!r}") from None
    if rates:
        uow.session.execute(
            insert(schema.Rate), [{"sheet_id": sheet.id, **row_values(r)} for r in rates]
        )
    uow.commit()
    return sheet, len(rates)


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("name: 1 to 128 characters")
    return name


def set_rates(
    uow: UnitOfWork, caller: Caller, sheet_id: int, csv_text: str, replace_all: bool, force: bool
) -> tuple[RateSheet, int]:
    """Add or change rates of a sheet of the caller's subtree from CSV (the columns of
    ImportRates); a row with the prefix of an existing rate replaces it. With
    `replace_all` the sheet becomes exactly the file."""
    sheet = editable_sheet(uow, caller, sheet_id)
    rates = restored_rates(parse_rates_csv(csv_text))
    if not rates:
        raise InvalidInput("the file has no rates")
    owner = uow.session.get(Account, sheet.owner_id)
    assert owner is not None
    if not force:
        check_cost(rates, _cost_rates(uow, owner))
    session = uow.session
    check_calendars(session, rates)
    where = [schema.Rate.sheet_id == sheet.id]
    if not replace_all:
        prefixes = sorted({r.prefix for r in rates})
        for start in range(0, len(prefixes), 500):
            session.execute(
                delete(schema.Rate).where(
                    *where, schema.Rate.prefix.in_(prefixes[start : start + 500])
                )
            )
    else:
        session.execute(delete(schema.Rate).where(*where))
    session.execute(insert(schema.Rate), [{"sheet_id": sheet.id, **row_values(r)} for r in rates])
    bump_version(session, sheet.id)
    uow.commit()
    session.refresh(sheet)
    return sheet, len(rates)


def list_sheet_rates(
    uow: UnitOfWork, caller: Caller, sheet_id: int, prefix: str, offset: int, limit: int
) -> tuple[list[schema.Rate], int]:
    sheet = readable_sheet(uow, caller, sheet_id)
    return rate_page(uow.session, sheet.id, prefix, offset, limit)


def assign_sheet(uow: UnitOfWork, caller: Caller, account_id: int, sheet_id: int) -> Account:
    """Give an account below the caller the sheet it pays by: one owned in the caller's
    subtree above that account, or the one the caller itself pays by."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    sheet = readable_sheet(uow, caller, sheet_id)
    owner = uow.session.get(Account, sheet.owner_id)
    assert owner is not None
    mine = uow.session.get(Account, caller.account_id)
    paid_by_me = mine is not None and mine.rate_sheet_id == sheet.id
    above = account.path != owner.path and account.path.startswith(owner.path)
    if not (paid_by_me or (caller.owns(owner) and above)):
        raise NotFound(f"rate sheet {sheet_id} not found")
    # An account with money keeps its currency; its calls on a sheet in another one are
    # converted (docs/currencies.md). An empty account takes the sheet's, as it always did.
    account.rate_sheet_id = sheet.id
    if account.balance == 0:
        account.currency = sheet.currency
    uow.commit()
    return visible_account(uow.session, caller, account.id)
