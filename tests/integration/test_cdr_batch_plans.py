"""The listener's batch reads and writes `reservations`, `cdrs` and `call_interventions`
by index whatever the tables' statistics (PostgreSQL).

Right after a burst of calls, thousands of rows nobody has analyzed yet, the planner
took `id IN (...) OR parent_id IN (...)` for a large part of the table and read all of
it, in the accounts' lock and in the rows' lock of every batch (~15 ms a batch of 200
CDRs in bench_ami); and `uniqueid IN (...)` the same way, in the batch's look-ups of its
channels' reservations, its duplicates and its hang-up reasons (~10 ms a batch). The
statements are checked by EXPLAIN on such tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, select, text

from db import bulk
from db.schema import Account, CallIntervention, Cdr, Reservation
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome
from tests.integration.test_cdr_batches import records, reserve

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


def _a_batchs_statements(uow: Uow, wanted: Callable[[str], bool]) -> list[tuple[str, Any]]:
    """The `wanted` statements, with their parameters, of a batch of records(0, 40)."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if wanted(statement):
            seen.append((statement, params))

    with uow() as u:
        engine = u.session.get_bind()
        event.listen(engine, "before_cursor_execute", keep)
        try:
            assert None not in store_batch(u, records(0, 40))
        finally:
            event.remove(engine, "before_cursor_execute", keep)
    return seen


def test_the_batch_never_reads_the_whole_reservations_table(
    backend: str, uow: Uow, demo: None
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite reads the table the same way whatever it knows of it")
    with uow() as u:
        _unanalyzed_reservations(u, 40)
        u.commit()
    seen = _a_batchs_statements(
        uow,
        lambda s: "reservations" in s and s.lstrip().startswith(("SELECT", "UPDATE")),
    )
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


_BY_UNIQUEID = ("reservations", "cdrs", "call_interventions")


def test_the_batch_finds_its_channels_rows_by_index(backend: str, uow: Uow, demo: None) -> None:
    """Its channels' reservations, its duplicates (`cdrs`) and its hang-up reasons
    (`call_interventions`): every SELECT of a batch on those tables, on HISTORY rows of
    each nobody has analyzed."""
    if backend != "postgresql":
        pytest.skip("SQLite reads the table the same way whatever it knows of it")
    with uow() as u:
        _unanalyzed_reservations(u, 40)
        u.commit()
    for start in range(0, HISTORY, 500):  # stored CDRs of the past
        with uow() as u:
            assert None not in store_batch(u, records(10_000 + start, 500))
    with uow() as u:
        u.session.add_all(
            CallIntervention(uniqueid=f"old.{n}", reason="credit") for n in range(HISTORY)
        )
        u.commit()
    seen = _a_batchs_statements(
        uow, lambda s: s.lstrip().startswith("SELECT") and any(t in s for t in _BY_UNIQUEID)
    )
    read = {t for t in _BY_UNIQUEID for s, _ in seen if f"FROM {t}" in s}
    assert read == set(_BY_UNIQUEID)
    with uow() as u:
        cursor = u.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        whole = []
        for statement, params in seen:
            cursor.execute("EXPLAIN " + statement, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
            whole += [(t, statement) for t in _BY_UNIQUEID if f"Seq Scan on {t}" in plan]
    assert whole == []


def test_the_batch_finds_reasons_duplicates_and_the_newest_reservation(
    uow: Uow, demo: None
) -> None:
    """What the look-ups by UniqueID answer, on both databases: a hang-up reason lands
    on its CDR, a CDR stored before is a duplicate, and of two open reservations of one
    channel the newest is settled (the other stays open)."""
    calls = records(0, 6)
    with uow() as u:
        assert None not in store_batch(u, calls[:2])
    with uow() as u:
        reserve(u, calls[2:] + calls[3:4])  # calls[3]'s channel: two reservations
        u.session.add(CallIntervention(uniqueid=calls[4].uniqueid, reason="no credit"))
        u.commit()
    with uow() as u:
        outcomes = store_batch(u, calls)
    assert outcomes[:2] == [Outcome.DUPLICATE] * 2 and Outcome.DUPLICATE not in outcomes[2:]
    with uow() as u:
        reasons = dict(u.session.execute(select(Cdr.uniqueid, Cdr.hangup_reason)).all())
        held = u.session.execute(
            select(Reservation.id, Reservation.status)
            .where(Reservation.uniqueid == calls[3].uniqueid)
            .order_by(Reservation.id)
        ).all()
    assert reasons[calls[4].uniqueid] == "no credit"
    assert {reasons[c.uniqueid] for c in calls if c is not calls[4]} == {""}
    assert [status for _, status in held] == ["open", "settled"]
