"""`siptar cdr import-csv Master.csv`: Asterisk's own cdr_csv file, through the same
idempotent path as the AMI listener.

Master.csv has no Sequence and no LinkedID; a row is recognised as a CDR the listener
already stored by its fingerprint (uniqueid, start, answer, end, channel, dstchannel,
disposition, billsec: services.cdr.usecases.fingerprint), so importing the file after a
listener outage fills the gap and charges nothing twice. Needs `loguniqueid = yes` in
cdr.conf `[csv]` (the UniqueID column); times are read in SIPTAR_ASTERISK_TZ
(`usegmtime = no`, Asterisk's default).

The whole file is parsed before anything is stored: a bad row is reported with its line
number and nothing is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import tzinfo

from sqlalchemy.orm import Session

from ami_listener.events import cdr_from_message
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


def import_csv(
    session_factory: Callable[[], Session], text: str, tz: tzinfo, batch_size: int = 500
) -> ImportReport:
    records = parse_master_csv(io.StringIO(text, newline=""), tz)
    report = ImportReport(rows=len(records))
    for start in range(0, len(records), batch_size):
        with UnitOfWork(session_factory) as uow:
            outcomes = store_batch(uow, records[start : start + batch_size])
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
