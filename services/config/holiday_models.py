"""Wire types of holiday calendars (urn:siptar:config)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.config.models import TNS


class HolidayCalendarInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    name = Unicode
    # "YYYY-MM-DD" (that date) or "MM-DD" (every year), sorted.
    days = Unicode.customize(max_occurs="unbounded")


class HolidayCalendarPage(ComplexModel):
    __namespace__ = TNS
    items = HolidayCalendarInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
