"""Statements prepared once per connection (db/prepared.py), on a real PostgreSQL: the
first use prepares and runs in one query string, later ones only EXECUTE under a
generic plan, a failure after the PREPARE never leaves a name that the next call would
prepare again, and a literal % survives. Authorize's two statements run prepared, straight
on the cursor (db/prepared_direct.py): the same answers, errors and invalidation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import ARRAY, Integer, any_, bindparam, cast, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from db import prepared_direct
from db.schema import Account
from db.session import UnitOfWork, make_engine, make_session_factory
from db.types import UtcDateTime
from services.credit.authorize import AuthorizeRequest, authorize
from tests.integration.test_dropped_connection import kill_every_connection
from tests.pgwire import QueryRecorder

pytestmark = pytest.mark.usefixtures("demo")

PLUS_ONE = text("SELECT CAST(:x AS integer) + 1").execution_options(prepared="t_plus_one")
SHARE = text("SELECT 100 / CAST(:x AS integer)").execution_options(prepared="t_share")
LIKE = text("SELECT CAST(:x AS varchar) LIKE '5%'").execution_options(prepared="t_like")


@pytest.fixture
def wire(backend: str, database_url: str) -> Iterator[tuple[QueryRecorder, Engine]]:
    if backend != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (SQLite ignores the option)")
    with QueryRecorder(database_url) as recorder:
        engine = make_engine(recorder.url, pool_size=1, max_overflow=0)
        try:
            yield recorder, engine
        finally:
            engine.dispose()


def _prepared(engine: Engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def test_prepared_once_then_executed_with_a_generic_plan(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    recorder, engine = wire
    recorder.clear()
    for x in (1, 2, 3):
        with engine.connect() as conn:
            assert conn.execute(PLUS_ONE, {"x": x}).scalar_one() == x + 1
    sent = [q for q in recorder.taken() if "t_plus_one" in q]
    assert len(sent) == 3, sent
    assert "PREPARE t_plus_one AS SELECT CAST($1 AS integer) + 1; EXECUTE t_plus_one(1)" in sent[0]
    assert not any("PREPARE" in q for q in sent[1:]), sent
    assert sent[1].endswith("EXECUTE t_plus_one(2)"), sent
    # Planned once for the connection, never per call (plan_cache_mode on the engine).
    assert _prepared(engine)["t_plus_one"] == (3, 0)


def test_a_failure_after_the_prepare_does_not_break_the_next_call(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    _recorder, engine = wire
    with engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(SHARE, {"x": 0})  # PREPARE ran, the EXECUTE failed
    for x, expected in ((4, 25), (5, 20)):
        with engine.connect() as conn:
            assert conn.execute(SHARE, {"x": x}).scalar_one() == expected
    assert {"t_share", "t_share_2"} <= set(_prepared(engine))


def test_a_prepared_statement_dropped_by_hand_is_prepared_again(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    _recorder, engine = wire
    with engine.connect() as conn:
        assert conn.execute(PLUS_ONE, {"x": 1}).scalar_one() == 2
        conn.exec_driver_sql("DEALLOCATE ALL")
        conn.commit()
    with engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(PLUS_ONE, {"x": 1})
    with engine.connect() as conn:
        assert conn.execute(PLUS_ONE, {"x": 6}).scalar_one() == 7


def test_a_literal_percent_sign_reaches_the_server(wire: tuple[QueryRecorder, Engine]) -> None:
    _recorder, engine = wire
    for x, expected in (("50", True), ("60", False), ("5%", True)):
        with engine.connect() as conn:
            assert conn.execute(LIKE, {"x": x}).scalar_one() is expected


def test_authorize_runs_its_two_statements_prepared(wire: tuple[QueryRecorder, Engine]) -> None:
    recorder, engine = wire
    factory = make_session_factory(engine)
    answers: list[Any] = []
    for n in range(3):
        with UnitOfWork(factory) as uow:
            answers.append(
                authorize(uow, None, AuthorizeRequest("34911234567", "acct1001", uniqueid=f"p.{n}"))
            )
    assert all(a.allowed for a in answers), answers
    sent = recorder.taken()
    executed = [q for q in sent if "EXECUTE siptar_" in q and "PREPARE" not in q]
    assert sum("siptar_identify_and_lock(" in q for q in executed) == 2, sent
    # The hold commits with itself (call_hold.hold_and_commit) once the sheets' plans are
    # built: the first call builds them through a named cursor, so its hold is the one
    # that does not commit.
    assert sum("siptar_hold_and_commit_2(" in q for q in executed) == 1, sent
    plans = _prepared(engine)
    assert plans["siptar_identify_and_lock"] == (3, 0)
    # One text per chain length (services/credit/call_hold.py): acct1001 and its reseller.
    assert plans["siptar_hold_new_call_2"] == (1, 0)
    assert plans["siptar_hold_and_commit_2"] == (2, 0)


def test_the_operators_own_connection_options_are_kept(backend: str, database_url: str) -> None:
    if backend != "postgresql":
        pytest.skip("connection options are PostgreSQL's")
    engine = make_engine(f"{database_url}?options=-c%20statement_timeout%3D1234")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "1234ms"
            mode = conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one()
            assert mode == "force_generic_plan"
    finally:
        engine.dispose()


# db/prepared_direct.py: the same statements run straight on the cursor.
TYPED = (
    select(
        Account.id,
        Account.balance,
        Account.created_at,
        cast(bindparam("when", type_=UtcDateTime()), UtcDateTime()).label("when"),
        func.array_agg(Account.id).over().label("ids"),
    )
    .where(Account.id == any_(bindparam("ids", type_=ARRAY(Integer))))
    .order_by(Account.id)
    .execution_options(prepared="t_typed")
)


def test_a_direct_call_answers_as_the_core_path_does(wire: tuple[QueryRecorder, Engine]) -> None:
    recorder, engine = wire
    params = {"ids": [1, 2, 3], "when": datetime(2026, 12, 3, 12, 0, tzinfo=UTC)}
    with engine.connect() as conn:
        core = [tuple(row) for row in conn.execute(TYPED, params).all()]
    recorder.clear()
    with engine.connect() as conn:
        direct = prepared_direct.rows(conn, TYPED, params)
        again = prepared_direct.rows(conn, TYPED, params)
    assert direct == again == core and len(core) == 3
    for row in direct:  # the columns' own types: Money exact to 6 places, UTC-aware times
        assert isinstance(row[1], Decimal) and row[1].as_tuple().exponent == -6
        assert row[2].tzinfo is UTC and row[3] == params["when"]
    # Prepared once for the connection (by the Core call above): only EXECUTEs now.
    sent = [q for q in recorder.taken() if "t_typed" in q]
    assert len(sent) == 2 and not any("PREPARE" in q for q in sent), sent


def test_a_direct_call_that_fails_raises_as_sqlalchemy_and_recovers(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    _recorder, engine = wire
    with engine.connect() as conn, pytest.raises(DBAPIError) as failed:
        prepared_direct.rows(conn, SHARE, {"x": 0})  # PREPARE ran, the EXECUTE failed
    assert not failed.value.connection_invalidated
    with engine.connect() as conn:
        assert prepared_direct.rows(conn, SHARE, {"x": 4}) == [(25,)]
    assert {"t_share", "t_share_2"} <= set(_prepared(engine))


def test_a_direct_call_on_a_dropped_connection_invalidates_it(
    wire: tuple[QueryRecorder, Engine], pg_admin_url: str, database_url: str
) -> None:
    _recorder, engine = wire
    with engine.connect() as conn:
        assert prepared_direct.rows(conn, PLUS_ONE, {"x": 1}) == [(2,)]
    kill_every_connection(pg_admin_url, database_url)
    with engine.connect() as conn, pytest.raises(DBAPIError) as dropped:
        prepared_direct.rows(conn, PLUS_ONE, {"x": 1})
    # What the SOAP edge's retry reads (db/session.is_dropped_connection).
    assert dropped.value.connection_invalidated
    with engine.connect() as conn:  # a new connection, prepared anew
        assert prepared_direct.rows(conn, PLUS_ONE, {"x": 2}) == [(3,)]
