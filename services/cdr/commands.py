"""The input of the CDR use cases, free of spyne and of any wire format.

The AMI listener (ami_listener/events.py), the Master.csv importer and the SOAP edge all
turn what they receive into a `CdrRecord` and hand it to services/cdr/usecases.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CdrRecord:
    """One Asterisk CDR, as cdr_manager / cdr_csv report it. Times are aware UTC."""

    uniqueid: str
    sequence: int | None  # cdr_manager `[mappings] sequence => Sequence`; None if absent
    accountcode: str
    src: str
    dst: str
    dcontext: str
    callerid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None  # None when the call was not answered
    end: datetime
    duration: int
    billsec: int
    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION
    amaflags: str = ""
    userfield: str = ""
    linkedid: str = ""
    peeraccount: str = ""
    # Any other `[mappings]` fields (e.g. Carrier, Rate), verbatim.
    extra: Mapping[str, str] = field(default_factory=dict)
    source: str = "ami"  # ami, csv, soap

    @property
    def answered(self) -> bool:
        return self.disposition == "ANSWERED" and self.answer is not None


_FIELDS = frozenset(f.name for f in fields(CdrRecord))


def record_of(**values: Any) -> CdrRecord:
    """`CdrRecord(**values)` for a caller that gives every field, defaults included, at a
    tenth of the cost: the frozen dataclass's __init__ sets each field through
    object.__setattr__ (~8 us for 23), here the instance's dict is filled at once. The
    AMI listener builds one per event; a missing or unknown name is refused as the
    constructor would refuse it, so the record is the one `CdrRecord(**values)` gives.
    """
    if values.keys() != _FIELDS:
        missing, unknown = sorted(_FIELDS - values.keys()), sorted(values.keys() - _FIELDS)
        raise TypeError(f"record_of: missing {missing}, unknown {unknown}")
    record = object.__new__(CdrRecord)
    record.__dict__.update(values)
    return record
