"""Wire types shared by the four services, each pinned to its own namespace.

A shared type without `__namespace__` would be captured by whichever Application is
built first, so every shared type names its namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal as PyDecimal
from typing import Any, TypeVar

from spyne import ComplexModel, DateTime, Decimal, Integer, Unicode

from rating.money import quantize
from services.common.periods import Report

P = TypeVar("P")

AUTH_NS = "urn:siptar:auth"
TYPES_NS = "urn:siptar:types"

# spyne never validates what it sends and wrote `1E+2` for 100: every amount
# leaving the server goes through `money()` first.
Money = Decimal(total_digits=18, fraction_digits=6, type_name="Money", __namespace__=TYPES_NS)
UtcDateTime = DateTime(as_timezone=UTC, type_name="UtcDateTime", __namespace__=TYPES_NS)
Offset = Integer(ge=0, default=0, type_name="Offset", __namespace__=TYPES_NS)
Limit = Integer(ge=1, le=1000, type_name="Limit", __namespace__=TYPES_NS)
DEFAULT_LIMIT = 100


class Auth(ComplexModel):
    """Sent as a SOAP header on every call."""

    __namespace__ = AUTH_NS
    username = Unicode(min_occurs=1, min_len=1, max_len=80)
    password = Unicode(min_occurs=1, min_len=1, max_len=256)


def money(amount: PyDecimal | None) -> PyDecimal | None:
    return None if amount is None else quantize(amount)


def price_fields(rate: Any) -> dict[str, Any]:
    """The price of one sheet row as wire fields: what a reseller's sheet rates
    (`SheetRate`) and a call shop's sell rates (`SellRate`) both answer."""
    return {
        "prefix": rate.prefix,
        "destination": rate.destination,
        "price": money(rate.price),
        "tiers": rate.tiers,
        "initial_increment": rate.initial_increment,
        "increment": rate.increment,
        "connect_fee": money(rate.connect_fee),
    }


def utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """An input time; one without an offset is taken as UTC (documented in the WSDL)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def page_bounds(offset: int | None, limit: int | None) -> tuple[int, int]:
    return (offset or 0, limit or DEFAULT_LIMIT)


def answer_page(
    page_type: Callable[..., P],
    convert: Callable[[Any], Any],
    fetch: Callable[[int, int], tuple[Sequence[Any], int]],
    offset: int | None,
    limit: int | None,
) -> P:
    """A list operation's answer: `fetch(first, count)` gives the rows and the total
    (services.common.paging), each row `convert`ed to its wire type."""
    first, count = page_bounds(offset, limit)
    rows, total = fetch(first, count)
    return page_type(items=[convert(r) for r in rows], total=total, offset=first)


def report_asked(
    account_id: int | None, period_start: Any, period_end: Any, group_by: str | None
) -> Report:
    """A grouped report's request (GetCallSummary, GetPaymentReport): times as UTC,
    grouped by `day` unless told."""
    start, end = as_utc(period_start), as_utc(period_end)
    assert start is not None and end is not None  # min_occurs=1, nillable=False
    return Report(account_id, start, end, group_by or "day")
