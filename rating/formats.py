"""Text forms of rate fields, shared by the tariff parser and the database.

Every `parse_*` reads what its `format_*` writes (the canonical form) plus a few lenient
spellings, and raises FieldError with a short problem; the caller knows the line and the
column and adds them. Only ASCII digits count as digits: `str.isdigit` and the `\\d` of
`re` also accept other scripts' digits, which no switch dials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time
from decimal import Decimal
from itertools import pairwise

from rating.errors import InvalidInput
from rating.model import Tier

__all__ = [
    "DAY_NAMES",
    "FieldError",
    "format_datetime",
    "format_decimal",
    "format_tiers",
    "format_time",
    "format_weekdays",
    "normalise_number",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "parse_tiers",
    "parse_time",
    "parse_weekdays",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_PLACES = 6  # amounts are stored as Numeric(18, 6)
MAX_WHOLE_DIGITS = 12
MAX_INT_DIGITS = 9  # seconds: far beyond any call, far below any overflow

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_INT = re.compile(r"[0-9]+")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_NUMBER_PUNCTUATION = str.maketrans("", "", " -.()")


class FieldError(ValueError):
    """A cell's text is not a valid value; the message says why, briefly."""


def parse_decimal(text: str) -> Decimal:
    """A non-negative plain decimal ("0.10", "5", ".5"): no sign, exponent or comma."""
    if not _DECIMAL.fullmatch(text):
        raise FieldError(f"{text!r} is not a plain non-negative decimal number like 0.05")
    whole, _, fraction = text.partition(".")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise FieldError(f"{text!r} is out of range")
    if len(fraction.rstrip("0")) > MAX_PLACES:
        raise FieldError(f"{text!r} has more than {MAX_PLACES} decimal places")
    return Decimal(text)


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal("0.100000") -> "0.1"."""
    if value == 0:
        return "0"  # also turns "-0" and "0E-6" into something parse_decimal reads
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_int(text: str) -> int:
    """A non-negative whole number of at most 9 digits."""
    if not _INT.fullmatch(text):
        raise FieldError(f"{text!r} is not a whole non-negative number")
    if len(text.lstrip("0")) > MAX_INT_DIGITS:
        raise FieldError(f"{text!r} is out of range")
    return int(text)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """ "from:price:increment;..." e.g. "0:0.10:60;60:0.05:1"; "" is no tiers."""
    if not text.strip():
        return ()
    tiers = tuple(_parse_tier(item.strip()) for item in text.split(";"))
    problem = tiers_problem(tiers)
    if problem:
        raise FieldError(problem)
    return tiers


def _parse_tier(item: str) -> Tier:
    fields = [field.strip() for field in item.split(":")]
    if len(fields) != 3:
        raise FieldError(f"tier {item!r} is not from_second:price_per_minute:increment")
    try:
        return Tier(parse_int(fields[0]), parse_decimal(fields[1]), parse_int(fields[2]))
    except FieldError as error:
        raise FieldError(f"tier {item!r}: {error}") from None


def tiers_problem(tiers: tuple[Tier, ...]) -> str | None:
    """Why a tier list cannot be billed, or None: the first tier must start at second 0,
    the starts must rise, and every increment must be at least 1 second."""
    if tiers and tiers[0].from_second != 0:
        return "the first tier must start at second 0"
    for before, after in pairwise(tiers):
        if after.from_second <= before.from_second:
            return f"tier starts must rise: {after.from_second} after {before.from_second}"
    for tier in tiers:
        if not isinstance(tier.price, Decimal) or not tier.price.is_finite() or tier.price < 0:
            return f"tier price {tier.price!r} is not a non-negative Decimal"
        if not _is_int(tier.from_second) or not _is_int(tier.increment) or tier.increment < 1:
            return f"tier at {tier.from_second!r}: the increment must be a whole number >= 1"
    return None


def format_tiers(tiers: Iterable[Tier]) -> str:
    return ";".join(
        f"{tier.from_second}:{format_decimal(tier.price)}:{tier.increment}" for tier in tiers
    )


def parse_weekdays(text: str) -> frozenset[int] | None:
    """ "mon-fri", "sat,sun", "mon,wed-fri" (case-insensitive; a range may wrap past Sunday,
    "fri-mon"); "" means every day (None)."""
    if not text.strip():
        return None
    days: set[int] = set()
    for item in text.lower().split(","):
        first, dash, last = (part.strip() for part in item.partition("-"))
        start = _day(first)
        stop = _day(last) if dash else start
        days.update((start + offset) % 7 for offset in range((stop - start) % 7 + 1))
    return frozenset(days)


def _day(name: str) -> int:
    if name not in DAY_NAMES:
        raise FieldError(
            f"{name!r} is not a day; use {', '.join(DAY_NAMES)} and ranges like mon-fri"
        )
    return DAY_NAMES.index(name)


def format_weekdays(days: frozenset[int] | None) -> str:
    """Canonical form: runs of three or more days as a range ("mon-fri"), others listed
    ("sat,sun", "mon,wed-fri"); None (every day) is ""."""
    if days is None:
        return ""
    items: list[str] = []
    ordered = sorted(days)
    run_start = 0
    for i, day in enumerate(ordered):
        if i + 1 < len(ordered) and ordered[i + 1] == day + 1:
            continue  # the run goes on
        run = ordered[run_start : i + 1]
        if len(run) >= 3:
            items.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}")
        else:
            items.extend(DAY_NAMES[d] for d in run)
        run_start = i + 1
    return ",".join(items)


def parse_time(text: str, *, end: bool = False) -> time:
    """ "HH:MM" or "HH:MM:SS"; an end of band may be "24:00", the same as "00:00"."""
    if end and text in ("24:00", "24:00:00"):
        return time(0)
    if not _TIME.fullmatch(text):
        raise FieldError(f"{text!r} is not a time of day like 08:00 or 17:59:59")
    return time.fromisoformat(text)


def format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def parse_datetime(text: str) -> datetime:
    """An ISO date ("2025-07-01", midnight UTC) or date and time; a time without an offset
    is UTC. The result is an aware UTC datetime."""
    if not (_DATE.fullmatch(text) or _DATETIME.fullmatch(text)):
        raise FieldError(f"{text!r} is not a date like 2025-07-01 or 2025-07-01T08:00:00Z")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{text!r} is not a valid date") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """UTC, as a bare date at midnight, else "YYYY-MM-DDTHH:MM:SSZ"."""
    utc = value.astimezone(UTC)
    if utc.time() == time(0):
        return utc.date().isoformat()
    return utc.replace(tzinfo=None).isoformat() + "Z"


def normalise_number(text: str) -> str:
    """The digits of a dialled number or prefix: spaces, '-', '.', parentheses and one
    leading '+' are dropped; anything else that is not a digit is refused."""
    if not isinstance(text, str):
        raise InvalidInput(f"a number must be text, not {type(text).__name__}")
    digits = text.strip()
    if digits.startswith("+"):
        digits = digits[1:]
    digits = digits.translate(_NUMBER_PUNCTUATION)
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            f"{text!r} is not a number: only digits, spaces, '-', '.', '()' and a leading '+'"
        )
    return digits


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
