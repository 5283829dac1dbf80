"""Wire types of the call shop's operations (Billing Engine, urn:siptar:billing)."""

from __future__ import annotations

from spyne import ComplexModel, Date, Integer, Unicode

from services.billing.models import TNS
from services.common.wire import Money, UtcDateTime


class BoothCall(ComplexModel):
    """The call up on a booth right now, priced so far at the shop's sell sheet."""

    __namespace__ = TNS
    uniqueid = Unicode
    number = Unicode
    destination = Unicode
    state = Unicode  # dialing, up
    started_at = UtcDateTime
    answered_at = UtcDateTime
    seconds = Integer  # since the answer
    price = Money  # so far, at the sell sheet


class BoothInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    name = Unicode
    sip_peer = Unicode
    state = Unicode(values=["locked", "free", "open", "in_call", "to_pay"])
    session_id = Integer
    session_opened_at = UtcDateTime
    session_total = Money  # the session's calls so far, at the sell sheet
    call = BoothCall


class BoothPage(ComplexModel):
    __namespace__ = TNS
    items = BoothInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
    # The server's clock: what the desktop ticks durations from, and stale data is told by.
    server_time = UtcDateTime


class ReceiptLine(ComplexModel):
    __namespace__ = TNS
    cdr_id = Integer
    number = Unicode
    destination = Unicode
    start_time = UtcDateTime
    billsec = Integer
    billed_seconds = Integer
    price = Money


class Receipt(ComplexModel):
    __namespace__ = TNS
    session_id = Integer
    booth_id = Integer
    booth_name = Unicode
    status = Unicode(values=["open", "to_pay", "paid"])
    opened_at = UtcDateTime
    closed_at = UtcDateTime
    paid_at = UtcDateTime
    currency = Unicode
    calls = Integer
    billed_seconds = Integer
    total = Money
    lines = ReceiptLine.customize(max_occurs="unbounded")


class SellQuote(ComplexModel):
    __namespace__ = TNS
    currency = Unicode
    prefix = Unicode
    destination = Unicode
    billed_seconds = Integer
    price = Money
    price_per_minute = Money


class ShopDay(ComplexModel):
    __namespace__ = TNS
    day = Date
    currency = Unicode
    sessions = Integer
    calls = Integer
    billed_minutes = Money
    revenue = Money
    cost = Money
    profit = Money


class SellRate(ComplexModel):
    __namespace__ = TNS
    prefix = Unicode
    destination = Unicode
    price = Money
    tiers = Unicode
    initial_increment = Integer
    increment = Integer
    connect_fee = Money


class SellRatePage(ComplexModel):
    __namespace__ = TNS
    sheet_id = Integer
    items = SellRate.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class SellImport(ComplexModel):
    __namespace__ = TNS
    sheet_id = Integer
    imported = Integer
    removed = Integer
    version = Integer
