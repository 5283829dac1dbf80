"""The queries a unit of work sends PostgreSQL, read on the wire (tests/pgwire.py): the
transaction's BEGIN travels with its first statement (db/merged_begin.py), and every
other way to the server (COPY, execute_values, executemany, named cursors, savepoints,
a failed first statement) still runs inside the transaction it belongs to. A commit
that need not wait for the disk (Authorize's, unless `credit.durable_holds`) sends
`SET LOCAL synchronous_commit TO off; COMMIT` as its one query; every other sends
`COMMIT`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import psycopg2.extensions as ext  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.bulk import copy_lines, update_from_values
from db.config_schema import ConfigVersion
from db.schema import Account, Reservation
from db.session import UnitOfWork, make_engine, make_session_factory
from services.billing.usecases import add_payment
from services.common import runtime_settings
from services.common.caller import Caller
from services.config.settings_usecases import set_setting
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.calls import SettleCommand, settle_call
from services.credit.policy import DEFAULT_POLICY
from tests.pgwire import QueryRecorder

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def wire(backend: str, database_url: str) -> Iterator[tuple[QueryRecorder, Engine]]:
    if backend != "postgresql":
        pytest.skip("psycopg2's BEGIN is PostgreSQL's")
    with QueryRecorder(database_url) as recorder:
        engine = make_engine(recorder.url)
        try:
            yield recorder, engine
        finally:
            engine.dispose()


def _row(name: str) -> Any:
    return insert(ConfigVersion).values(name=f"wire {name}", version=0)


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ConfigVersion)) or 0)


def test_a_read_is_two_round_trips_a_write_two(wire: tuple[QueryRecorder, Engine]) -> None:
    recorder, engine = wire
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:  # the pool's first connection: SQLAlchemy's own queries
        uow.session.execute(text("SELECT 1"))
    recorder.clear()
    with UnitOfWork(factory) as uow:
        uow.session.execute(select(Account.id).where(Account.id == 1)).one()
    read = recorder.taken()
    assert len(read) == 2, read  # psycopg2 alone: BEGIN, the SELECT, ROLLBACK
    assert read[0].startswith("BEGIN;SELECT"), read
    assert read[1] == "ROLLBACK"
    with UnitOfWork(factory) as uow:
        uow.session.execute(_row("wire"))
        uow.commit()
    write = recorder.taken()
    assert [q.split(" ", 1)[0] for q in write] == ["BEGIN;INSERT", "COMMIT"], write


def test_statements_after_the_first_share_its_transaction(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    _, engine = wire
    before = _rows(engine)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        uow.session.execute(_row("gone"))
        uow.session.execute(_row("gone too"))
    assert _rows(engine) == before  # not committed: both rolled back
    with UnitOfWork(factory) as uow:
        for n in range(3):  # an executemany (psycopg2's execute_batch), first of its UoW
            uow.session.execute(
                insert(ConfigVersion), [{"name": f"m{n}.{i}", "version": 0} for i in range(3)]
            )
    assert _rows(engine) == before


def test_copy_first_is_inside_the_transaction(wire: tuple[QueryRecorder, Engine]) -> None:
    _, engine = wire
    before = _rows(engine)
    with UnitOfWork(make_session_factory(engine)) as uow:
        copy_lines(uow.session.connection(), "config_versions", ["name", "version"], ["c\t0\n"])
        assert _rows(engine) == before  # another connection does not see it yet
    assert _rows(engine) == before  # rolled back
    with UnitOfWork(make_session_factory(engine)) as uow:
        copy_lines(uow.session.connection(), "config_versions", ["name", "version"], ["c\t0\n"])
        uow.commit()
    assert _rows(engine) == before + 1


def test_execute_values_first_is_inside_the_transaction(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    _, engine = wire
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        balance = uow.session.scalar(select(Account.balance).where(Account.id == 2))
    with UnitOfWork(factory) as uow:
        update_from_values(
            uow.session,
            "UPDATE accounts SET balance = v.b FROM (VALUES %s) AS v(id, b)"
            " WHERE accounts.id = v.id RETURNING accounts.id",
            [(2, Decimal("123.45"))],
            "(%s, %s)",
        )
    with UnitOfWork(factory) as uow:
        assert uow.session.scalar(select(Account.balance).where(Account.id == 2)) == balance


@pytest.mark.parametrize("first", [True, False])
def test_a_named_cursor_runs_in_the_transaction(
    wire: tuple[QueryRecorder, Engine], first: bool
) -> None:
    """`yield_per` streams from a named cursor, which psycopg2 refuses outside a
    transaction: first in its unit of work, or after a write it must see."""
    _, engine = wire
    factory = make_session_factory(engine)
    before = _rows(engine)
    for commit in (False, True):
        with UnitOfWork(factory) as uow:
            if not first:
                uow.session.execute(_row("seen"))
            names = list(
                uow.session.scalars(select(ConfigVersion.name).execution_options(yield_per=2))
            )
            assert ("wire seen" in names) is not first
            uow.session.execute(_row("after"))
            if commit:
                uow.commit()
        added = (2 if not first else 1) if commit else 0
        assert _rows(engine) == before + added
        raw = engine.raw_connection()
        try:
            assert raw.driver_connection.autocommit  # type: ignore[union-attr]
            idle = raw.driver_connection.info.transaction_status  # type: ignore[union-attr]
            assert idle == ext.TRANSACTION_STATUS_IDLE
        finally:
            raw.close()


def test_a_savepoint_rolls_back_alone(wire: tuple[QueryRecorder, Engine]) -> None:
    _, engine = wire
    before = _rows(engine)
    with UnitOfWork(make_session_factory(engine)) as uow:
        with pytest.raises(DBAPIError), uow.session.begin_nested():  # first: SAVEPOINT
            uow.session.execute(_row("kept?"))
            uow.session.execute(text("SELECT 1 / 0"))
        uow.session.execute(_row("kept"))
        uow.commit()
    assert _rows(engine) == before + 1


def test_a_failed_first_statement_leaves_the_connection_clean(
    wire: tuple[QueryRecorder, Engine],
) -> None:
    recorder, engine = wire
    engine.dispose()
    small = make_engine(recorder.url, pool_size=1, max_overflow=0)
    try:
        factory = make_session_factory(small)
        with pytest.raises(DBAPIError), UnitOfWork(factory) as uow:
            uow.session.execute(text("SELECT 1 / 0"))
        recorder.clear()
        with UnitOfWork(factory) as uow:  # the same connection, a new transaction
            uow.session.execute(_row("after"))
            uow.commit()
        assert [q.split(" ", 1)[0] for q in recorder.taken()] == ["BEGIN;INSERT", "COMMIT"]
        assert _rows(small) >= 1
    finally:
        small.dispose()


# A unit of work's commit that need not wait for the disk (UnitOfWork.commit), and
# Authorize's, which writes holds only (docs/credit_control.md, "Holds that need not
# wait for the disk").

NO_WAIT = "SET LOCAL synchronous_commit TO off; COMMIT"
# The hold: one text per chain length (services/credit/call_hold.py), acct1001 and its reseller.
STATEMENTS = ["BEGIN;EXECUTE siptar_identify_and_lock", "EXECUTE siptar_hold_and_commit_2"]
SPAIN = ("34911234567", "acct1001")
ADMIN = Caller(login_id=1, username="admin", account_id=1, role="admin", path="/1/")
Factory = sessionmaker[Session]


@pytest.fixture
def one(wire: tuple[QueryRecorder, Engine]) -> Iterator[tuple[QueryRecorder, Factory]]:
    """Units of work all on one pooled connection (a flag left set would show), opened
    already, and nothing recorded yet."""
    recorder, _ = wire
    engine = make_engine(recorder.url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        recorder.clear()
        yield recorder, make_session_factory(engine)
    finally:
        engine.dispose()


def _authorize(factory: Factory, uniqueid: str, durable: bool | None) -> Any:
    """One Authorize as the SOAP edge runs it: the runtime settings (None) or a policy
    saying `durable`."""
    with UnitOfWork(factory) as uow:
        if durable is None:
            policy = runtime_settings.RuntimePolicy(DEFAULT_POLICY)
        else:
            policy = replace(DEFAULT_POLICY, durable_holds=durable)
        return authorize(uow, None, AuthorizeRequest(*SPAIN, uniqueid=uniqueid), policy=policy)


def _count(recorder: QueryRecorder, factory: Factory) -> int:
    """The rows of the table the tests write, read off the record."""
    with UnitOfWork(factory) as uow:
        found = int(uow.session.scalar(select(func.count()).select_from(ConfigVersion)) or 0)
    recorder.clear()
    return found


def test_a_commit_that_need_not_wait_is_one_query_and_only_that_one(
    one: tuple[QueryRecorder, Factory],
) -> None:
    recorder, factory = one
    before = _count(recorder, factory)
    with UnitOfWork(factory) as uow:
        uow.session.execute(_row("fast"))
        uow.commit(wait_for_disk=False)
    sent = recorder.taken()
    assert [q.split(" ", 1)[0] for q in sent] == ["BEGIN;INSERT", "SET"], sent
    assert sent[-1] == NO_WAIT
    assert _count(recorder, factory) == before + 1
    with UnitOfWork(factory) as uow:  # the same connection: the next commit waits again
        uow.session.execute(_row("durable"))
        uow.commit()
    assert recorder.taken()[-1] == "COMMIT"
    assert _count(recorder, factory) == before + 2


def test_a_commit_that_need_not_wait_after_a_named_cursor_is_psycopg2s_own(
    one: tuple[QueryRecorder, Factory],
) -> None:
    """In psycopg2's own mode (a named cursor's transaction) psycopg2 sends the COMMIT,
    which waits for the disk as ever; the flag does not outlive that commit."""
    recorder, factory = one
    before = _count(recorder, factory)
    with UnitOfWork(factory) as uow:
        list(uow.session.scalars(select(ConfigVersion.name).execution_options(yield_per=2)))
        uow.session.execute(_row("streamed"))
        recorder.clear()
        uow.commit(wait_for_disk=False)
    assert recorder.taken() == ["COMMIT"]
    assert _count(recorder, factory) == before + 1
    with UnitOfWork(factory) as uow:
        uow.session.execute(_row("after"))
        uow.commit()
    assert recorder.taken()[-1] == "COMMIT"


def test_a_failed_transaction_ends_as_ever(one: tuple[QueryRecorder, Factory]) -> None:
    """A COMMIT of a failed transaction is the server's ROLLBACK; a SET LOCAL in front of
    it would fail and leave the transaction open on the connection."""
    recorder, factory = one
    before = _count(recorder, factory)
    with UnitOfWork(factory) as uow:
        uow.session.execute(_row("lost"))
        with pytest.raises(DBAPIError):
            uow.session.execute(text("SELECT 1 / 0"))
        recorder.clear()
        uow.commit(wait_for_disk=False)
    assert recorder.taken() == ["COMMIT"]
    with UnitOfWork(factory) as uow:  # the connection is clean
        uow.session.execute(_row("kept"))
        uow.commit(wait_for_disk=False)
    assert recorder.taken()[-1] == NO_WAIT
    assert _count(recorder, factory) == before + 1


def test_authorize_commits_without_waiting_unless_holds_are_durable(
    one: tuple[QueryRecorder, Factory],
) -> None:
    recorder, factory = one
    # The first prepares its statements; and a process's first Authorize of a sheet
    # builds the sheet's plan in its own transaction, streaming the rates through a
    # named cursor: psycopg2's COMMIT, which waits (the test above), and its hold the
    # statement that does not commit; the second prepares the hold that does.
    for n in range(2):
        _authorize(factory, f"w.warm{n}", None)
    sent: dict[bool, list[str]] = {}
    for durable in (False, True):
        recorder.clear()
        assert _authorize(factory, f"w.{durable}", durable).allowed
        sent[durable] = recorder.taken()
    # Two round trips: the lock (BEGIN with it), then the hold with the COMMIT in its
    # query string (call_hold.hold_and_commit), which waits for the disk or not.
    assert sent[False][-1].endswith(f"); {NO_WAIT}"), sent
    assert sent[True][-1].endswith("); COMMIT") and NO_WAIT not in sent[True][-1], sent
    kinds = {d: [q.split("(", 1)[0] for q in sent[d]] for d in sent}
    assert kinds[False] == kinds[True] == STATEMENTS, sent
    # A refusal commits what its expiry did, the same way.
    with UnitOfWork(factory) as uow:
        refused = authorize(uow, None, AuthorizeRequest("34911234567", "nobody"))
    assert not refused.allowed
    assert recorder.taken()[-1] == NO_WAIT


def test_units_of_work_that_write_money_wait_for_the_disk(
    one: tuple[QueryRecorder, Factory],
) -> None:
    recorder, factory = one
    _authorize(factory, "w.warm", None)
    recorder.clear()
    held = _authorize(factory, "w.settled", None)
    # The hold did not wait (its COMMIT in its own query string); what follows does.
    assert recorder.taken()[-1].endswith(NO_WAIT)
    with UnitOfWork(factory) as uow:
        settled = settle_call(uow, ADMIN, SettleCommand("w.settled", 60))
    assert settled.reservation_id == held.reservation_id
    with UnitOfWork(factory) as uow:
        add_payment(uow, ADMIN, 3, Decimal("5"), "wire")
    sent = recorder.taken()
    assert sum(q == "COMMIT" for q in sent) == 2, sent
    assert not any("synchronous_commit" in q for q in sent), sent


def test_the_setting_reaches_the_next_authorize(one: tuple[QueryRecorder, Factory]) -> None:
    recorder, factory = one
    _authorize(factory, "s.warm", None)  # builds the sheets' plans: see below
    recorder.clear()
    # The hold's query string ends with its COMMIT (call_hold.hold_and_commit).
    assert _authorize(factory, "s.1", None).allowed
    assert recorder.taken()[-1].endswith(f"); {NO_WAIT}")
    with UnitOfWork(factory) as uow:
        set_setting(uow, ADMIN, "credit.durable_holds", "true", DEFAULT_POLICY)
    assert "COMMIT" in recorder.taken()  # a setting waits for the disk
    assert _authorize(factory, "s.2", None).allowed
    last = recorder.taken()[-1]
    assert last.endswith("); COMMIT") and "synchronous_commit" not in last
    with UnitOfWork(factory) as uow:
        set_setting(uow, ADMIN, "credit.durable_holds", "false", DEFAULT_POLICY)
    assert _authorize(factory, "s.3", None).allowed
    assert recorder.taken()[-1].endswith(f"); {NO_WAIT}")


def test_sqlite_commits_as_ever(backend: str, database_url: str) -> None:
    """SQLite has no such commit: `wait_for_disk` False commits as a plain commit."""
    if backend != "sqlite":
        pytest.skip("SQLite's commit")
    engine = make_engine(database_url)
    try:
        factory, before = make_session_factory(engine), _rows(engine)
        with UnitOfWork(factory) as uow:
            uow.session.execute(_row("sqlite"))
            uow.commit(wait_for_disk=False)
        assert _rows(engine) == before + 1
        held = _authorize(factory, "q.1", False)
        with UnitOfWork(factory) as uow:
            assert uow.session.get(Reservation, held.reservation_id) is not None
    finally:
        engine.dispose()
