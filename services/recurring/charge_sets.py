"""A batch's recurring charges written set-based: (the due periods of its subscriptions)
x (the lines of their levels), joined in ONE `INSERT ... SELECT ... ON CONFLICT DO
NOTHING RETURNING`.

Most of a batch's subscriptions share a parent and a service, and most of their periods
are whole: a few distinct sets of level amounts serve a thousand subscriptions. So
Python writes one small row per due period (subscription, what, period, days, which
lines) and one row per distinct line (level, payer, amounts, computed once), into two
temporary tables, and the database multiplies them out: 4,000 charge rows cost 1,000
rows of Python and one statement. The subscriber's own line (level 0) names no account:
each due row brings its subscriber. The unique key (subscription, period, level, what)
still decides what is new; the rows it returns (the new ones) go into a third temporary
table, tmp_charge_new, which the payment reads (services/recurring/payment.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    text,
)
from sqlalchemy.orm import Session

from db import bulk
from db.types import Money, UtcDateTime
from rating.periods import prorate
from services.recurring.keyed import rowcount
from services.recurring.levels import LevelPrice

# A batch has few distinct (price, days, period days): the same few roundings.
prorated = lru_cache(maxsize=4096)(prorate)

_META = MetaData()
DUE = Table(
    "tmp_charge_due",
    _META,
    Column("subscription_id", BigInteger),
    Column("account_id", BigInteger),
    Column("line_key", Integer),
    Column("what", String(16)),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("days", Integer),
    Column("period_days", Integer),
    prefixes=["TEMPORARY"],
)
LINES = Table(
    "tmp_charge_lines",
    _META,
    Column("line_key", Integer),
    Column("level", Integer),
    Column("subscriber", Integer),  # 1: level 0, the due row's account pays
    Column("account_id", BigInteger),
    Column("provider_id", BigInteger),
    Column("status", String(16)),
    Column("exact_amount", Money),
    Column("amount", Money),
    prefixes=["TEMPORARY"],
)
# WHERE true: SQLite reads `ON CONFLICT` after a bare SELECT's FROM as a join clause.
_INSERT = text(
    """
    INSERT INTO recurring_charges (subscription_id, level, account_id, provider_id, status,
        created_at, paid_at, what, period_start, period_end, days, period_days,
        exact_amount, amount)
    SELECT d.subscription_id, l.level,
        CASE WHEN l.subscriber = 1 THEN d.account_id ELSE l.account_id END,
        l.provider_id, l.status, :now, NULL, d.what, d.period_start, d.period_end,
        d.days, d.period_days, l.exact_amount, l.amount
    FROM tmp_charge_due d JOIN tmp_charge_lines l ON l.line_key = d.line_key
    WHERE true
    ON CONFLICT DO NOTHING
    RETURNING id, subscription_id, account_id, amount, what, period_start, period_end
    """
).bindparams(bindparam("now", type_=UtcDateTime()))
# The new rows, kept in the database for the set-based payment
# (services/recurring/payment.pay_new_set): `slow` marks those it leaves to Python.
NEW = Table(
    "tmp_charge_new",
    _META,
    Column("id", BigInteger),
    Column("subscription_id", BigInteger),
    Column("account_id", BigInteger),
    Column("amount", Money),
    Column("what", String(16)),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("slow", Integer),
    prefixes=["TEMPORARY"],
)
_NEW_COLUMNS = "id, subscription_id, account_id, amount, what, period_start, period_end"
# PostgreSQL: the INSERT's RETURNING goes straight into tmp_charge_new (a data-modifying
# WITH), so not one row comes back to Python. SQLite has no such WITH: there the rows
# come back raw (no type conversion) and go into tmp_charge_new by one executemany.
_INSERT_INTO_NEW = text(
    f"WITH ins AS ({_INSERT.text}) INSERT INTO tmp_charge_new ({_NEW_COLUMNS}, slow)"
    f" SELECT {_NEW_COLUMNS}, 0 FROM ins"
).bindparams(bindparam("now", type_=UtcDateTime()))
_FILL_NEW = text(
    f"INSERT INTO tmp_charge_new ({_NEW_COLUMNS}, slow) VALUES (:id, :subscription_id,"
    " :account_id, :amount, :what, :period_start, :period_end, 0)"
)


@dataclass
class ChargeSet:
    due: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[tuple[Any, ...], tuple[int, int]] = field(default_factory=dict)  # -> key, rows
    rows: int = 0  # the charge rows the batch would write (new or already there)

    def add(
        self,
        sub: Any,
        template: tuple[Any, list[LevelPrice]],
        what: str,
        period: tuple[date, date],
        days: tuple[int, int],
    ) -> None:
        """One due charge of `sub` (a fee of a period, or its setup), at every level of
        `template` (its (service, parent) key and lines: services/recurring/charging)."""
        key, count = self._line_key(template, what, days)
        if count:
            self.rows += count
            self.due.append(
                {
                    "subscription_id": sub.id,
                    "account_id": sub.account_id,
                    "line_key": key,
                    "what": what,
                    "period_start": period[0],
                    "period_end": period[1],
                    "days": days[0],
                    "period_days": days[1],
                }
            )

    def _line_key(
        self, template: tuple[Any, list[LevelPrice]], what: str, days: tuple[int, int]
    ) -> tuple[int, int]:
        wanted = (template[0], what, days)
        found = self.keys.get(wanted)
        if found is not None:
            return found
        key, count = len(self.keys) + 1, 0
        for line in template[1]:
            if what == "setup":
                if line.setup_fee == 0:
                    continue
                exact, billed = line.setup_fee, prorated(line.setup_fee, 1, 1)[1]
            else:
                exact, billed = prorated(line.price, *days)
            self.lines.append(
                {
                    "line_key": key,
                    "level": line.level,
                    "subscriber": 1 if line.level == 0 else 0,
                    "account_id": None if line.level == 0 else line.account_id,
                    "provider_id": line.provider_id,
                    "status": "paid" if line.account_id is not None else "cost",
                    "exact_amount": exact,
                    "amount": billed,
                }
            )
            count += 1
        self.keys[wanted] = (key, count)
        return key, count

    def insert(self, session: Session, now: datetime) -> int:
        """Write the charges that are new into recurring_charges and (the same rows)
        into tmp_charge_new, emptied first; how many were new. Rows another run wrote
        already are skipped by the unique key and are not in tmp_charge_new."""
        postgres = session.get_bind().dialect.name == "postgresql"
        for table in (DUE, LINES, NEW):
            # ON COMMIT DROP on PostgreSQL: each batch's transaction starts clean there;
            # SQLite keeps a temp table per connection, emptied before and after use.
            suffix = " ON COMMIT DROP" if postgres else ""
            columns = ", ".join(f"{c.name} {_sql_type(c, postgres)}" for c in table.columns)
            session.execute(
                text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table.name} ({columns}){suffix}")
            )
        session.execute(text(f"DELETE FROM {NEW.name}"))
        if not self.due:
            return 0
        bulk.insert_rows(session, DUE, self.due)
        bulk.insert_rows(session, LINES, self.lines)
        if postgres:
            count = rowcount(session.execute(_INSERT_INTO_NEW, {"now": now}))
        else:
            new = [r._asdict() for r in session.execute(_INSERT, {"now": now})]
            if new:
                session.execute(_FILL_NEW, new)
            count = len(new)
        for table in (DUE, LINES):
            session.execute(text(f"DELETE FROM {table.name}"))
        return count


def clear_new(session: Session) -> None:
    """Empty tmp_charge_new once the batch is paid (SQLite keeps it past the commit)."""
    session.execute(text(f"DELETE FROM {NEW.name}"))


def _sql_type(column: Column[Any], postgres: bool) -> str:
    if isinstance(column.type, Money):
        return "NUMERIC(18, 6)" if postgres else "BIGINT"
    if isinstance(column.type, Date):
        return "DATE"
    if isinstance(column.type, String):
        return "VARCHAR(16)"
    return "BIGINT"
