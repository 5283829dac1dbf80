"""The writer's backlog in batches, each one's writes beside the next one's reads and
rating on PostgreSQL (services/cdr/pipeline.py), storing what one batch after the other
stores: duplicates across two batches, a channel's reservations settled by CDRs of two
batches, a refused record whose batch is redone one by one. On both databases (SQLite
stores one batch after the other)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from ami_listener.spool import Spool
from ami_listener.writer import CdrWriter
from db.schema import Reservation
from db.session import UnitOfWork, make_engine
from services.cdr.commands import CdrRecord
from tests.integration.test_cdr_batches import records, reserve
from tests.listener.conftest import assert_stored_once_and_balanced

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]

Uow = Callable[[], UnitOfWork]


def keys(calls: list[CdrRecord]) -> set[tuple[str, int]]:
    return {(c.uniqueid, c.sequence) for c in calls}


def writer(session_factory: Callable[[], Session], tmp_path: Path, size: int) -> CdrWriter:
    return CdrWriter(session_factory, Spool(tmp_path / "spool"), batch_size=size)


def test_the_next_batch_is_read_while_the_one_before_waits_for_its_locks(
    backend: str, database_url: str, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    """Batch 1's writes wait for an account another transaction holds; batch 2's reads
    go on meanwhile (one batch after the other, they waited for batch 1's COMMIT). The
    other transaction lets go when batch 2 asks for its duplicates (or after 5 s, for
    a writer that never asks meanwhile)."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: its batches go one after the other")
    engine = make_engine(database_url)
    holder = engine.connect()
    holder.execute(text("SELECT id FROM accounts WHERE accountcode = 'acct1001' FOR UPDATE"))
    held = threading.Event()
    held.set()
    lookups: list[bool] = []  # per duplicates look-up: whether the account was still held
    release_lock = threading.Lock()

    def release() -> None:
        with release_lock:
            if held.is_set():
                holder.commit()
                held.clear()

    def look(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "cdrs.fingerprint" in statement and statement.lstrip().startswith("SELECT"):
            lookups.append(held.is_set())
            if len(lookups) == 2:
                release()

    timer = threading.Timer(5, release)
    timer.start()
    calls = records(0, 400)
    w = writer(session_factory, tmp_path, 200)
    target = session_factory.kw["bind"]  # type: ignore[attr-defined]
    event.listen(target, "before_cursor_execute", look)
    try:
        w.write(calls)
    finally:
        event.remove(target, "before_cursor_execute", look)
        timer.cancel()
        release()
        holder.close()
        engine.dispose()
    assert lookups == [True, True]  # batch 2 read while batch 1 waited
    assert (w.pending, w.outcomes["rated"]) == ([], 400)
    assert_stored_once_and_balanced(session_factory, keys(calls))


def test_duplicates_and_a_channels_reservations_across_batches(
    uow: Uow, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    """A CDR of batch 1 again in batch 2: a duplicate. A ring group's two CDRs of one
    channel (a second destination channel), one in each batch, and two reservations of
    that channel: the first CDR settles the newest, the second the other."""
    calls = records(0, 30)
    with uow() as u:
        reserve(u, calls + calls[5:6])  # calls[5]'s channel: two reservations
        u.commit()
    second_leg = replace(calls[5], sequence=calls[5].sequence + 1, dstchannel="PJSIP/other-1")
    batches = [*calls[:10], calls[3], second_leg, *calls[10:28]]
    w = writer(session_factory, tmp_path, 10)
    w.write(batches)
    assert (w.pending, w.outcomes["duplicate"], w.failed) == ([], 1, 0)
    assert_stored_once_and_balanced(session_factory, keys([*calls[:28], second_leg]))
    with uow() as u:
        statuses = u.session.execute(
            select(Reservation.uniqueid, Reservation.status, Reservation.cdr_id.is_not(None))
        ).all()
    assert sorted(statuses) == sorted(
        [(c.uniqueid, "settled", True) for c in calls[:28] + calls[5:6]]
        + [(c.uniqueid, "open", False) for c in calls[28:]]
    )


def test_a_refused_record_and_its_copy_in_the_next_batch(
    session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    """Batch 1 holds a record the database refuses (redone one by one: the others are
    stored); batch 2 holds the same record again, refused again as it would be after
    batch 1 alone, and a CDR of batch 1, a duplicate."""
    calls = records(0, 20)
    refused = replace(calls[9], uniqueid="refused.1", start=calls[9].start.replace(tzinfo=None))
    w = writer(session_factory, tmp_path, 10)
    w.write([*calls[:9], refused, refused, calls[2], *calls[10:18]])
    assert (w.pending, w.failed, w.outcomes["duplicate"]) == ([], 2, 1)
    assert_stored_once_and_balanced(session_factory, keys(calls[:9] + calls[10:18]))


def test_beside_an_open_batch_a_stage_may_only_read(
    backend: str, session_factory: Callable[[], Session]
) -> None:
    """The guard of a first stage read beside another batch's open transaction
    (`_read_only`): reads pass; a write, a row lock, and a WITH whose CTE writes are
    refused before they are sent, and kept."""
    from services.cdr.pipeline import NotReadOnly, _read_only

    writes = [
        "UPDATE accounts SET balance = balance WHERE id = 1",
        "SELECT id FROM accounts WHERE id = 1 FOR UPDATE",
        "WITH x AS (UPDATE accounts SET balance = balance WHERE id = 1 RETURNING id) "
        "SELECT id FROM x",
    ]
    with session_factory() as session:
        refused: list[str] = []
        with _read_only(session, True, refused):
            assert session.execute(text("SELECT count(*) FROM accounts")).scalar_one() > 0
            for statement in writes:
                with pytest.raises(NotReadOnly):
                    session.execute(text(statement))
        assert [r.split(" ", 1)[0] for r in refused] == ["UPDATE", "SELECT", "WITH"]
