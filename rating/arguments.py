"""The checks of what callers hand the engine: a time zone's name, a number and a moment
to look up, an aware datetime, a count of seconds, a whole number.

Each raises InvalidInput with the message a SOAP caller reads in the fault
(docs/faults.md). A module of their own because both the building of a plan and the
plan's own look-ups use them. The checks of a Rate's fields are rating/checks.py's.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rating.errors import InvalidInput

__all__ = ["check_aware", "check_seconds", "is_int", "refuse_lookup", "zone_of"]


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone `name`; raises InvalidInput for any other value."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"{name!r} is not an IANA time zone") from None


def refuse_lookup(number: object, at: object) -> None:
    """Raises InvalidInput unless `number` is digits and `at` aware: the slow path
    behind the inline test of RatingPlan.find_rate, which names the bad argument."""
    if not (isinstance(number, str) and number.isascii() and number.isdigit()):
        raise InvalidInput(f"{number!r} is not a normalised number (digits only)")
    check_aware(at, "at")


def check_aware(value: object, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{name} must be an aware datetime, not {value!r}")


def check_seconds(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"{name} must be a whole number of seconds >= 0, not {value!r}")


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
