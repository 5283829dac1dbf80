"""Configuration Manager, holiday calendars (admin logins only). See docs/rates.md,
"Holiday calendars".

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase, Unicode, rpc

from services.common.app import request
from services.common.wire import Auth, Limit, Offset, page_bounds
from services.config import holiday_models as m
from services.pricing import holidays
from services.pricing.holidays import CalendarInfo

Day = Unicode(max_len=10)


def _info(calendar: CalendarInfo) -> m.HolidayCalendarInfo:
    return m.HolidayCalendarInfo(id=calendar.id, name=calendar.name, days=calendar.days)


class HolidayService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Unicode(min_occurs=1, nillable=False, max_len=64),
        Day.customize(max_occurs=1000),
        _returns=m.HolidayCalendarInfo,
    )
    def SetHolidayCalendar(ctx: Any, name: str, days: list[str] | None) -> m.HolidayCalendarInfo:
        """Create the calendar `name` or replace its days: "YYYY-MM-DD" for one date,
        "MM-DD" for that day every year (at most 1000). A rate's `holidays` column names
        a calendar; the sheets that use it price by the new days on their next call."""
        req = request(ctx)
        return _info(holidays.set_calendar(req.uow, req.caller, name, list(days or [])))

    @rpc(Offset, Limit, _returns=m.HolidayCalendarPage)
    def ListHolidayCalendars(
        ctx: Any, offset: int | None, limit: int | None
    ) -> m.HolidayCalendarPage:
        """The calendars by name with their days; paged (limit 1..1000, default 100)."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        items, total = holidays.list_calendars(req.uow, req.caller, start, size)
        return m.HolidayCalendarPage(items=[_info(c) for c in items], total=total, offset=start)
