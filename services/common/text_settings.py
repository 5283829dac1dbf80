"""The checks of the runtime settings that are text (services/common/runtime_settings.py):
the invoice number format and the operator's company defaults. Spyne-free, no I/O."""

from __future__ import annotations

import string
from collections.abc import Callable

from db.invoice_numbers import DEFAULT_FORMAT
from rating.errors import InvalidInput
from rating.money import to_money

# Invoice numbers are String(32) (db/invoice_schema.py); the format's widest output
# (year 9999, a billion invoices) must fit.
NUMBER_LENGTH = 32
DEFAULT_NUMBER_FORMAT = DEFAULT_FORMAT
MAX_THRESHOLDS = 5  # as SetBalanceAlerts (services/billing/alert_usecases.py)


def number_format(text: str) -> str:
    """A Python format with exactly the fields {year} and {number} (each with an
    optional spec such as :06d). Both are required: with the year, the numbers of two
    years never collide; no other field, no attribute or index access."""
    fmt = text.strip()
    name = "invoice.number_format"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError:
        raise InvalidInput(f"{name}: not a format, e.g. {DEFAULT_NUMBER_FORMAT}") from None
    if sorted(fields) != ["number", "year"]:
        raise InvalidInput(f"{name}: needs {{year}} and {{number}} once each, and no other field")
    try:
        widest = fmt.format(year=9999, number=999_999_999)
    except (ValueError, TypeError):
        raise InvalidInput(f"{name}: a spec that does not format a number") from None
    if len(widest) > NUMBER_LENGTH:
        raise InvalidInput(f"{name}: its numbers may be longer than {NUMBER_LENGTH} characters")
    return fmt


def bounded_text(name: str, longest: int) -> Callable[[str], str]:
    """A check of a free text of at most `longest` characters ("" allowed: not set)."""

    def check(text: str) -> str:
        value = text.strip()
        if len(value) > longest or any(ord(c) < 32 and c != "\n" for c in value):
            raise InvalidInput(f"{name}: at most {longest} characters, no control characters")
        return value

    return check


def thresholds(text: str) -> str:
    """Low-balance thresholds, comma-separated amounts (at most 5, each >= 0), in
    their canonical form, highest first; "" for none."""
    name = "alerts.default_thresholds"
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = sorted({to_money(p, name) for p in parts}, reverse=True)
    except InvalidInput:
        raise InvalidInput(f"{name}: amounts separated by commas, e.g. 10,5") from None
    if len(values) > MAX_THRESHOLDS or any(v < 0 for v in values):
        raise InvalidInput(f"{name}: at most {MAX_THRESHOLDS} amounts, none below 0")
    return ",".join(format(v.normalize(), "f") for v in values)
