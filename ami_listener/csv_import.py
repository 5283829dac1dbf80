"""`siptar cdr import-csv Master.csv`: Asterisk's own cdr_csv file, through the same
idempotent path as the AMI listener.

Master.csv has no Sequence and no LinkedID; a row is recognised as a CDR the listener
already stored by its fingerprint (uniqueid, start, answer, end, channel, dstchannel,
disposition, billsec: services.cdr.usecases.fingerprint), so importing the file after a
listener outage fills the gap and charges nothing twice. Needs `loguniqueid = yes` in
cdr.conf `[csv]` (the UniqueID column); times are read in SIPTAR_ASTERISK_TZ
(`usegmtime = no`, Asterisk's default).

A row takes its trunk (and so the buy cost) from its DestinationChannel when that names
a trunk (`PJSIP/carrier1-...`), else from the reservation Authorize made for its
channel; the report counts the answered rows stored without a trunk (`no_trunk`).

The whole file is parsed before anything is stored: a bad row is reported with its line
number and nothing is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ami_listener.events import cdr_from_message
from db.schema import Cdr
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome

# cdr_csv's columns (loguniqueid and loguserfield on), as cdr_manager names them.
COLUMNS = (
    "AccountCode",
    "Source",
    "Destination",
    "DestinationContext",
    "CallerID",
    "Channel",
    "DestinationChannel",
    "LastApplication",
    "LastData",
    "StartTime",
    "AnswerTime",
    "EndTime",
    "Duration",
    "BillableSeconds",
    "Disposition",
    "AMAFlags",
    "UniqueID",
    "UserField",
)


class CsvImportError(ValueError):
    pass


@dataclass
class ImportReport:
    rows: int = 0
    rated: int = 0
    unrated: int = 0
    duplicate: int = 0
    failed: int = 0
    # Rows stored now whose trunk is unknown (no trunk channel, no reservation that
    # names one): they have no buy cost. Name the trunk in the dialplan to fix that.
    no_trunk: int = 0


def parse_master_csv(lines: Iterable[str], tz: tzinfo) -> list[CdrRecord]:
    records = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row:
            continue
        if len(row) < 17:
            raise CsvImportError(
                f"line {number}: {len(row)} columns; Master.csv needs the UniqueID column "
                "(cdr.conf [csv] loguniqueid = yes)"
            )
        fields = dict(zip(COLUMNS, row, strict=False))
        try:
            record = cdr_from_message(fields, tz)
        except ValueError as exc:
            raise CsvImportError(f"line {number}: {exc}") from None
        records.append(replace(record, source="csv"))
    return records


def _new(outcome: Outcome | None) -> bool:
    return outcome is Outcome.RATED or outcome is Outcome.UNRATED


def _without_trunk(session: Session, records: list[CdrRecord]) -> int:
    """How many of these just-stored rows got no trunk (answered calls only: an
    unanswered one used no trunk's minutes)."""
    answered = sorted({r.uniqueid for r in records if r.answered and r.billsec > 0})
    count = 0
    for start in range(0, len(answered), 500):
        count += session.execute(
            select(func.count()).where(
                Cdr.uniqueid.in_(answered[start : start + 500]),
                Cdr.source == "csv",
                Cdr.trunk_id.is_(None),
            )
        ).scalar_one()
    return int(count)


def import_csv(
    session_factory: Callable[[], Session], text: str, tz: tzinfo, batch_size: int = 500
) -> ImportReport:
    records = parse_master_csv(io.StringIO(text, newline=""), tz)
    report = ImportReport(rows=len(records))
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        with UnitOfWork(session_factory) as uow:
            outcomes = store_batch(uow, batch)
            stored = [r for r, o in zip(batch, outcomes, strict=True) if _new(o)]
            report.no_trunk += _without_trunk(uow.session, stored)
        for outcome in outcomes:
            if outcome is None:
                report.failed += 1
            elif outcome is Outcome.RATED:
                report.rated += 1
            elif outcome is Outcome.UNRATED:
                report.unrated += 1
            else:
                report.duplicate += 1
    return report
