"""`siptar cdr replay-failed`: failed-*.jsonl spool files stored again through the
idempotent store, still-refused records kept in a new failed file."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ami_listener.events import cdr_from_message
from ami_listener.replay import LOCK_NAME
from ami_listener.spool import Spool
from cli import main
from db.schema import Cdr, LedgerEntry
from db.session import UnitOfWork
from services.cdr.commands import CdrRecord
from services.cdr.usecases import record_cdr
from tests.ami_replay import EOM, load_events
from tests.listener.conftest import SESSION, assert_stored_once_and_balanced

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]


def session_records() -> list[CdrRecord]:
    records = []
    for event in load_events(SESSION, only=("Cdr",)):
        fields = {}
        for line in event.removesuffix(EOM).decode().split("\r\n"):
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        records.append(cdr_from_message(fields, UTC))
    return records


def naive(record: CdrRecord) -> CdrRecord:
    """A record the database refuses: its times carry no offset."""
    return replace(record, uniqueid="refused.1", start=record.start.replace(tzinfo=None))


def replay(database_url: str, spool_dir: Path) -> int | str:
    """The command's exit status (0, 1), or the message it stopped with."""
    argv = ["cdr", "replay-failed", "--spool-dir", str(spool_dir), "--database-url", database_url]
    try:
        main(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, str) else int(exit_.code or 0)
    return 0


def keys(records: list[CdrRecord]) -> set[tuple[str, int]]:
    return {(r.uniqueid, r.sequence) for r in records if r.sequence is not None}


def ledger_rows(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.execute(select(func.count(LedgerEntry.id))).scalar_one())


class TestReplayFailed:
    def test_the_records_are_stored_once_and_the_file_is_removed(
        self,
        database_url: str,
        session_factory: Callable[[], Session],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        records = session_records()
        spool = Spool(tmp_path / "spool")
        path = spool.spill(records, prefix="failed")
        assert path is not None

        assert replay(database_url, spool.dir) == 0
        out = capsys.readouterr().out
        assert f"{path.name}: 14 records:" in out
        assert "0 already stored, 0 still refused" in out
        assert spool.failed_files() == []
        assert_stored_once_and_balanced(session_factory, keys(records))

        assert replay(database_url, spool.dir) == 0
        assert "0 failed file(s)" in capsys.readouterr().out

    def test_records_already_stored_are_not_charged_twice(
        self,
        database_url: str,
        session_factory: Callable[[], Session],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        records = session_records()
        for record in records[:5]:
            with UnitOfWork(session_factory) as uow:
                record_cdr(uow, record)
        before = ledger_rows(session_factory)
        spool = Spool(tmp_path / "spool")
        spool.spill(records[:5], prefix="failed")
        spool.spill(records[5:], prefix="failed")

        assert replay(database_url, spool.dir) == 0
        out = capsys.readouterr().out
        assert "5 records:" in out and "5 already stored" in out
        assert "14 records," in out and "5 already stored, 0 still refused" in out.splitlines()[-1]
        assert spool.failed_files() == []
        assert_stored_once_and_balanced(session_factory, keys(records))
        assert ledger_rows(session_factory) > before

    def test_a_record_still_refused_is_kept_in_a_new_failed_file(
        self,
        database_url: str,
        session_factory: Callable[[], Session],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        good = session_records()[:3]
        bad = naive(session_records()[3])
        spool = Spool(tmp_path / "spool")
        old = spool.spill([good[0], bad, *good[1:]], prefix="failed")
        assert old is not None

        assert replay(database_url, spool.dir) == 1
        out = capsys.readouterr().out
        [new] = spool.failed_files()
        assert new != old and not old.exists()
        assert f"1 still refused (kept in {new.name})" in out
        assert spool.read(new) == [bad]
        assert_stored_once_and_balanced(session_factory, keys(good))
        with session_factory() as s:
            assert s.scalars(select(Cdr).where(Cdr.uniqueid == bad.uniqueid)).all() == []

    def test_an_unreadable_file_is_left_in_place_and_the_others_are_replayed(
        self,
        database_url: str,
        session_factory: Callable[[], Session],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        records = session_records()
        spool = Spool(tmp_path / "spool")
        broken = spool.dir / "failed-00000000000000000001-1-000000.jsonl"
        spool.dir.mkdir(parents=True)
        broken.write_text('{"uniqueid": "cut in the mid\n', encoding="utf-8")
        spool.spill(records, prefix="failed")

        assert replay(database_url, spool.dir) == 1
        assert "not read, left in place" in capsys.readouterr().out
        assert spool.failed_files() == [broken]
        assert_stored_once_and_balanced(session_factory, keys(records))


class TestReplayFailedRefusesToRun:
    def test_while_another_replay_holds_the_spool(self, database_url: str, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "spool")
        path = spool.spill(session_records()[:1], prefix="failed")
        fd = os.open(spool.dir / LOCK_NAME, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            message = replay(database_url, spool.dir)
            assert isinstance(message, str) and "another replay-failed is running" in message
        finally:
            os.close(fd)
        assert spool.failed_files() == [path]
        assert replay(database_url, spool.dir) == 0
        assert spool.failed_files() == []

    def test_while_the_database_is_unavailable_and_keeps_the_file(self, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "spool")
        path = spool.spill(session_records()[:2], prefix="failed")
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
        message = replay(url, spool.dir)
        assert isinstance(message, str) and "unavailable" in message
        assert spool.failed_files() == [path]
