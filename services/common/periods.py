"""Periods of the reports (GetCallSummary, GetPaymentReport, invoices): one check of a
period's bounds, and a UTC day of a time column that both databases group by.
Spyne-free."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from rating.errors import InvalidInput

MAX_PERIOD = timedelta(days=366)


def check_period(start: datetime, end: datetime) -> None:
    if end <= start or end - start > MAX_PERIOD:
        raise InvalidInput("period_end: after period_start, at most 366 days later")


def utc_day(session: Session, column: Any) -> Any:
    """`YYYY-MM-DD` of a UtcDateTime column (stored as naive UTC on both databases)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD")
    return func.substr(column, 1, 10)


def check_report(start: datetime, end: datetime, group_by: str, groups: tuple[str, ...]) -> None:
    if group_by not in groups:
        raise InvalidInput(f"group_by: one of {', '.join(groups)}")
    check_period(start, end)


@dataclass(frozen=True)
class Report:
    """What a grouped report (GetCallSummary, GetPaymentReport) is asked for: whose (an
    account and its subtree; your own when None), the period [start, end), the grouping."""

    account_id: int | None
    start: datetime
    end: datetime
    group_by: str = "day"

    def group_key(self, session: Session, time_column: Any, others: Mapping[str, Any]) -> Any:
        """The GROUP BY expression: the UTC day of `time_column` for `day`, else one
        of `others`; checks the period and the grouping first."""
        check_report(self.start, self.end, self.group_by, ("day", *others))
        if self.group_by == "day":
            return utc_day(session, time_column)
        return others[self.group_by]
