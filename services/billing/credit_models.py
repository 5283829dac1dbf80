"""Wire types of credit control: Authorize and SettleCall (urn:siptar:billing)."""

from __future__ import annotations

from spyne import Boolean, ComplexModel, Integer, Integer64, Unicode

from services.billing.models import TNS
from services.common.wire import Money, UtcDateTime


class AuthorizeRequest(ComplexModel):
    __namespace__ = TNS
    number = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=40)
    account = Unicode(max_len=80)
    callerid = Unicode(max_len=40)
    pin = Unicode(max_len=32)
    dnis = Unicode(max_len=40)
    uniqueid = Unicode(max_len=64)


class AuthorizedTrunk(ComplexModel):
    __namespace__ = TNS
    trunk_id = Integer
    name = Unicode
    provider = Unicode
    dial_string = Unicode


class Authorization(ComplexModel):
    __namespace__ = TNS
    allowed = Boolean
    reason = Unicode
    number = Unicode
    account_id = Integer
    reservation_id = Integer
    max_seconds = Integer
    reserved = Money
    trunks = AuthorizedTrunk.customize(max_occurs="unbounded")
    reserved_seconds = Integer
    detail = Unicode
    # On-net (docs/onnet_callback.md): the account the call rings, and what to dial.
    onnet_account_id = Integer
    dial_string = Unicode


class CallToSettle(ComplexModel):
    __namespace__ = TNS
    uniqueid = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=64)
    billsec = Integer(min_occurs=1, nillable=False, ge=0, le=86400)
    reservation_id = Integer64  # a BIGINT column: past 2^31 in the long run
    account_id = Integer
    number = Unicode(max_len=40)
    answer = UtcDateTime
    disposition = Unicode(values=["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"])
    trunk_id = Integer


class SettledCall(ComplexModel):
    __namespace__ = TNS
    cdr_id = Integer
    outcome = Unicode
    status = Unicode
    account_id = Integer
    cost = Money
    reservation_id = Integer
    reservation_status = Unicode
