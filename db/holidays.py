"""Holiday calendars between the database and the engine's Holidays.

A day is stored as text: "YYYY-MM-DD" for that date, "MM-DD" for that day every year.
Changing a calendar bumps the version of every sheet whose rates name it, so every
process recompiles those plans on its next call (db/rates.PlanCache).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db import schema
from db.price_schema import HolidayCalendar, HolidayDay
from rating.errors import InvalidInput
from rating.model import Holidays, Rate

__all__ = ["check_calendars", "format_day", "load_holidays", "parse_day", "save_calendar"]


def parse_day(text: str) -> date | tuple[int, int]:
    """A date ("2026-12-25") or a yearly day ("12-25"); raises InvalidInput."""
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        if len(text) == 5 and text[2] == "-":
            month, day = int(text[:2]), int(text[3:])
            date(2000, month, day)  # 2000 is a leap year: 02-29 is a valid yearly day
            return month, day
    except ValueError:
        pass
    raise InvalidInput(f"day {text!r}: YYYY-MM-DD for a date, MM-DD for every year")


def format_day(day: date | tuple[int, int]) -> str:
    if isinstance(day, date):
        return day.isoformat()
    return f"{day[0]:02d}-{day[1]:02d}"


def load_holidays(session: Session, name: str) -> Holidays:
    """The calendar `name` with its days; an unknown name covers no day at all."""
    rows = session.scalars(
        select(HolidayDay.day)
        .join(HolidayCalendar, HolidayCalendar.id == HolidayDay.calendar_id)
        .where(HolidayCalendar.name == name)
    ).all()
    days = [parse_day(text) for text in rows]
    return Holidays(
        name,
        frozenset(d for d in days if isinstance(d, date)),
        frozenset(d for d in days if isinstance(d, tuple)),
    )


def save_calendar(session: Session, name: str, days: Iterable[str]) -> tuple[int, list[str]]:
    """Create or replace the calendar `name` with `days` (the caller commits); returns
    its id and its days as stored, sorted. Bumps the sheets that name it."""
    stored = sorted({format_day(parse_day(text)) for text in days})
    calendar = session.scalars(
        select(HolidayCalendar).where(HolidayCalendar.name == name).with_for_update()
    ).one_or_none()
    if calendar is None:
        calendar = HolidayCalendar(name=name)
        session.add(calendar)
        session.flush()
    session.execute(delete(HolidayDay).where(HolidayDay.calendar_id == calendar.id))
    session.add_all(HolidayDay(calendar_id=calendar.id, day=day) for day in stored)
    users = select(schema.Rate.sheet_id).where(schema.Rate.holidays == name).distinct()
    session.execute(
        update(schema.RateSheet)
        .where(schema.RateSheet.id.in_(users))
        .values(version=schema.RateSheet.version + 1)
    )
    return calendar.id, stored


def check_calendars(session: Session, rates: Iterable[Rate]) -> None:
    """InvalidInput unless every holiday band of `rates` names a calendar that exists
    (SetHolidayCalendar first): a misspelt name would silently cover no day."""
    named = {rate.holidays.name for rate in rates if rate.holidays is not None}
    if not named:
        return
    found = session.scalars(
        select(HolidayCalendar.name).where(HolidayCalendar.name.in_(named))
    ).all()
    unknown = sorted(named - set(found))
    if unknown:
        raise InvalidInput(f"holidays: no calendar named {unknown[0]!r} (SetHolidayCalendar)")
