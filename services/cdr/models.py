"""Wire types of the CDR service (urn:siptar:cdr)."""

from __future__ import annotations

from spyne import ByteArray, ComplexModel, Integer, Unicode

from services.cdr import TNS
from services.common.wire import Money, UtcDateTime


class CdrInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    uniqueid = Unicode
    sequence = Integer
    linkedid = Unicode
    account_id = Integer
    accountcode = Unicode
    src = Unicode
    dst = Unicode
    callerid = Unicode
    start_time = UtcDateTime
    answer_time = UtcDateTime
    end_time = UtcDateTime
    duration = Integer
    billsec = Integer
    disposition = Unicode
    status = Unicode
    unrated_reason = Unicode
    prefix = Unicode
    destination = Unicode
    billed_seconds = Integer
    cost = Money
    exact_cost = Money
    source = Unicode


class CdrPage(ComplexModel):
    __namespace__ = TNS
    items = CdrInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class CdrExport(ComplexModel):
    """One part of an export; ask again with `after_id = next_after_id` until it is
    empty (nil)."""

    __namespace__ = TNS
    filename = Unicode
    content_type = Unicode
    data = ByteArray
    rows = Integer
    next_after_id = Integer


class CallSummaryLine(ComplexModel):
    __namespace__ = TNS
    key = Unicode
    calls = Integer
    answered = Integer
    billsec = Integer
    billed_seconds = Integer
    cost = Money


class CallSummary(ComplexModel):
    __namespace__ = TNS
    group_by = Unicode
    calls = Integer
    answered = Integer
    billsec = Integer
    cost = Money
    lines = CallSummaryLine.customize(max_occurs="unbounded")
