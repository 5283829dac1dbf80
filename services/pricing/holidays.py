"""Holiday calendars (admin): named sets of days that rates' holiday bands name.
Spyne-free. See docs/rates.md, "Holiday calendars"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from db.holidays import save_calendar
from db.price_schema import HolidayCalendar, HolidayDay
from db.session import UnitOfWork
from rating.errors import InvalidInput
from services.common.caller import Caller, require_role

MAX_DAYS = 1000


@dataclass(frozen=True)
class CalendarInfo:
    id: int
    name: str
    days: list[str]


def set_calendar(uow: UnitOfWork, caller: Caller, name: str, days: list[str]) -> CalendarInfo:
    """Create the calendar `name`, or replace all its days; every sheet whose rates
    name it is recompiled on its next use."""
    require_role(caller, "admin")
    name = (name or "").strip()
    # No formula lead character: the name is a cell of every exported deck.
    if not name or len(name) > 64 or not name.isprintable() or name[0] in "=+-@*":
        raise InvalidInput("name: 1 to 64 printable characters, not starting with = + - @ *")
    if len(days) > MAX_DAYS:
        raise InvalidInput(f"days: at most {MAX_DAYS}")
    calendar_id, stored = save_calendar(uow.session, name, days)
    uow.commit()
    return CalendarInfo(calendar_id, name, stored)


def list_calendars(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[CalendarInfo], int]:
    require_role(caller, "admin")
    session = uow.session
    total = session.execute(select(func.count()).select_from(HolidayCalendar)).scalar_one()
    calendars = session.scalars(
        select(HolidayCalendar).order_by(HolidayCalendar.name).offset(offset).limit(limit)
    ).all()
    days: dict[int, list[str]] = {c.id: [] for c in calendars}
    if days:
        rows = session.execute(
            select(HolidayDay.calendar_id, HolidayDay.day)
            .where(HolidayDay.calendar_id.in_(days))
            .order_by(HolidayDay.day)
        ).all()
        for calendar_id, day in rows:
            days[calendar_id].append(day)
    return [CalendarInfo(c.id, c.name, days[c.id]) for c in calendars], total
