"""The listener's batch reads and writes `reservations` by index whatever the table's
statistics (PostgreSQL).

Right after a burst of calls, thousands of rows nobody has analyzed yet, the planner
took `id IN (...) OR parent_id IN (...)` for a large part of the table and read all of
it, in the accounts' lock and in the rows' lock of every batch (~15 ms a batch of 200
CDRs in bench_ami). The statements are checked by EXPLAIN on such a table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, select, text

from db import bulk
from db.schema import Account, Reservation
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from tests.integration.test_cdr_batches import records

pytestmark = pytest.mark.integration

Uow = Callable[[], UnitOfWork]
HISTORY = 5000  # closed calls of the past, in a table nobody has analyzed yet


def _unanalyzed_reservations(u: UnitOfWork, calls: int) -> None:
    """HISTORY settled rows and an open one per call of `records(0, calls)`, by COPY."""
    ids = dict(u.session.execute(select(Account.accountcode, Account.id)).all())
    expires = datetime.now(UTC) + timedelta(hours=1)

    def row(n: int, accountcode: str, uniqueid: str, status: str) -> dict[str, object]:
        return {
            "account_id": ids[accountcode],
            "number": "34911234567",
            "amount": Decimal(1),
            "max_seconds": 600,
            "status": status,
            "uniqueid": uniqueid,
            "expires_at": expires,
        }

    old = [row(n, "acct1001", f"old.{n}", "settled") for n in range(HISTORY)]
    new = [row(0, c.accountcode, c.uniqueid, "open") for c in records(0, calls)]
    bulk.insert_rows(u.session, cast(Table, Reservation.__table__), old + new)


def test_the_batch_never_reads_the_whole_reservations_table(
    backend: str, uow: Uow, demo: None
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite reads the table the same way whatever it knows of it")
    with uow() as u:
        _unanalyzed_reservations(u, 40)
        u.commit()
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "reservations" in statement and statement.lstrip().startswith(("SELECT", "UPDATE")):
            seen.append((statement, params))

    with uow() as u:
        engine = u.session.get_bind()
        event.listen(engine, "before_cursor_execute", keep)
        try:
            assert None not in store_batch(u, records(0, 40))
        finally:
            event.remove(engine, "before_cursor_execute", keep)
    locks = [s for s, _ in seen if "FOR NO KEY UPDATE" in s or "FOR UPDATE" in s]
    assert len(locks) == 2  # the accounts', the rows'
    assert sum(s.startswith("UPDATE reservations") for s, _ in seen) == 1
    with uow() as u:
        cursor = u.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        for statement, params in seen:
            if statement in locks or statement.startswith("UPDATE"):
                cursor.execute("EXPLAIN " + statement, params)
                plan = "\n".join(line for (line,) in cursor.fetchall())
                assert "Seq Scan on reservations" not in plan, (statement, plan)
        still_open = text("SELECT count(*) FROM reservations WHERE status = 'open'")
        assert u.session.execute(still_open).scalar_one() == 0
