"""SettleCall reads `reservations` by index, on a table of settled calls that has been
analyzed.

Its answer names the reservation the call's CDR settled: looked up by `cdr_id` alone,
which no index holds, that read the whole table on every SettleCall (new or repeated).
The statements are checked by EXPLAIN (EXPLAIN QUERY PLAN on SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.credit.calls import SettleCommand, settle_call
from tests.credit.builders import ALICE_ID
from tests.credit.test_authorize import SPAIN
from tests.credit.test_slices import ADMIN
from tests.integration.test_cdr_batches import records, reserve

pytestmark = pytest.mark.integration

Uow = Callable[[], UnitOfWork]
HISTORY = 3000  # calls of the past, settled by their CDRs
BATCH = 500


def _history(uow: Uow) -> None:
    """HISTORY calls reserved (a customer row each), then settled by the listener's batch
    path (each row tied to its CDR), and the table analyzed."""
    for first in range(0, HISTORY, BATCH):
        calls = records(first, BATCH)
        with uow() as u:
            reserve(u, calls)
            u.commit()
        with uow() as u:
            assert None not in store_batch(u, calls)
    with uow() as u:
        u.session.execute(text("ANALYZE reservations"))
        u.commit()


def test_settle_call_never_reads_the_whole_reservations_table(
    backend: str, uow: Uow, demo: None
) -> None:
    _history(uow)
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM reservations" in statement and statement.lstrip().startswith("SELECT"):
            seen.append((statement, params))

    with uow() as u:
        engine = u.session.get_bind()
        event.listen(engine, "before_cursor_execute", keep)
        try:
            new = SettleCommand("sw.plan", 60, account_id=ALICE_ID, number=SPAIN)
            assert settle_call(u, ADMIN, new).outcome == "rated"
            old = records(7, 1)[0].uniqueid  # a call of the history, stored again
            again = settle_call(u, ADMIN, SettleCommand(old, 60))
            assert (again.outcome, again.reservation_status) == ("duplicate", "settled")
        finally:
            event.remove(engine, "before_cursor_execute", keep)
    assert seen
    with uow() as u:
        cursor = u.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        for statement, params in seen:
            if backend == "postgresql":
                cursor.execute("EXPLAIN " + statement, params)
                plan = "\n".join(line for (line,) in cursor.fetchall())
                assert "Seq Scan on reservations" not in plan, (statement, plan)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                steps = [row[-1] for row in cursor.fetchall()]
                assert not any(s.startswith("SCAN reservations") for s in steps), (statement, steps)
