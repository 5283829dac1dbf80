"""Time bands: whether a rate's band covers a moment, and where coverage may change.

A band is read in the sheet's time zone on the wall clock of each moment: a moment is in
the band when its own weekday is in `weekdays` and its time of day is in
[time_from, time_to) (which wraps past midnight when time_to <= time_from). So
"mon-fri 18:00-08:00" covers Monday 00:00-08:00 and Friday 18:00-24:00 but not Saturday
morning, and peak "mon-fri 08:00-18:00" + off-peak "mon-fri 18:00-08:00" + weekend
"sat,sun" cover the week exactly once.

Instants are compared and subtracted in UTC only: two datetimes that share a tzinfo are
compared on their wall clocks, which is wrong across a DST change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rating.formats import format_time, format_weekdays
from rating.model import Rate

__all__ = ["band_edges", "band_label", "covers", "edge_instants", "has_band"]

MIDNIGHT = time(0)


def has_band(rate: Rate) -> bool:
    return (
        rate.weekdays is not None
        or rate.time_from is not None
        or rate.time_to is not None
        or rate.holidays is not None
    )


def covers(rate: Rate, local: datetime) -> bool:
    """Whether the band of `rate` covers `local`, a datetime on the sheet's wall clock."""
    if rate.holidays is not None and local.date() not in rate.holidays:
        return False
    if rate.weekdays is not None and local.weekday() not in rate.weekdays:
        return False
    start, end = rate.time_from, rate.time_to
    if start is None and end is None:
        return True
    now = local.time()
    start = start or MIDNIGHT
    if end is None:
        return now >= start
    if end > start:
        return start <= now < end
    return now >= start or now < end  # wraps past midnight


def band_edges(rate: Rate) -> tuple[time, ...]:
    """The times of day at which the band of `rate` may start or stop covering: its
    bounds, and midnight, where the weekday changes. () for a rate without a band."""
    if not has_band(rate):
        return ()
    return tuple(sorted({MIDNIGHT, rate.time_from or MIDNIGHT, rate.time_to or MIDNIGHT}))


def edge_instants(
    edges: tuple[time, ...], after: datetime, until: datetime, zone: ZoneInfo
) -> Iterator[datetime]:
    """The instants (UTC) strictly after `after` and before `until` (both UTC) at which
    the wall clock of `zone` shows one of `edges` (sorted), in order."""
    day = after.astimezone(zone).date()
    while True:
        for edge in edges:
            # An edge that falls in a DST gap is read on its nominal wall time; bands
            # with edges inside the skipped hour are not worth more care than that.
            instant = datetime.combine(day, edge, tzinfo=zone).astimezone(UTC)
            if instant >= until:
                return
            if instant > after:
                yield instant
        day += timedelta(days=1)


def band_label(rate: Rate) -> str:
    """A human label, e.g. "mon-fri 08:00-18:00", "sat,sun", "18:00-08:00", "holidays
    ES" or "all"."""
    if not has_band(rate):
        return "all"
    label = format_weekdays(rate.weekdays)
    if rate.holidays is not None:
        label = f"holidays {rate.holidays.name} {label}".strip()
    if rate.time_from is not None or rate.time_to is not None:
        start = format_time(rate.time_from or MIDNIGHT)
        end = format_time(rate.time_to or MIDNIGHT)
        label = f"{label} {start}-{end}".strip()
    return label
