"""What Authorize answers (services/credit/authorize.py), and how it refuses.

Apart from the use case so that the steps it calls (on-net calls, booths, bundles) can
refuse a call or build an answer without importing Authorize itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from rating.money import ZERO
from services.credit.routing import TrunkChoice


class Reason(StrEnum):
    OK = "OK"
    INVALID_NUMBER = "InvalidNumber"
    UNKNOWN_ACCOUNT = "UnknownAccount"
    ACCOUNT_BLOCKED = "AccountBlocked"
    ACCOUNT_CLOSED = "AccountClosed"
    RESELLER_BLOCKED = "ResellerBlocked"
    ANI_NOT_ALLOWED = "AniNotAllowed"
    DNIS_NOT_ALLOWED = "DnisNotAllowed"
    CONCURRENT_CALL_LIMIT = "ConcurrentCallLimit"
    NO_RATE = "NoRateForDestination"
    INSUFFICIENT_CREDIT = "InsufficientCredit"
    RESELLER_INSUFFICIENT_CREDIT = "ResellerInsufficientCredit"
    NO_ROUTE = "NoRoute"
    BOOTH_LOCKED = "BoothLocked"  # a call-shop booth locked or without an open session
    BOOTH_REQUIRED = "BoothRequired"  # a call shop's call that names none of its booths
    NO_EXCHANGE_RATE = "NoExchangeRate"  # account and sheet currencies without a rate now


@dataclass(frozen=True)
class AuthorizeRequest:
    number: str
    account: str = ""  # SIP peer (sip_username), accountcode, or login username
    callerid: str = ""  # the ANI
    pin: str = ""
    dnis: str = ""  # the access number the caller dialled in through
    uniqueid: str = ""  # Asterisk's channel UniqueID: how the CDR finds the reservation


@dataclass(frozen=True)
class Authorization:
    allowed: bool
    reason: Reason
    number: str = ""
    account_id: int | None = None
    reservation_id: int | None = None
    max_seconds: int = 0
    reserved: Decimal = ZERO
    trunks: tuple[TrunkChoice, ...] = field(default=())
    # The seconds `reserved` pays for: the first slice (the listener extends it).
    reserved_seconds: int = 0
    # Why not, in words, when the code alone does not say it (InsufficientCredit).
    detail: str = ""
    # An on-net call (services/onnet): the account it rings and what to dial (no trunks).
    onnet_account_id: int | None = None
    dial_string: str = ""


class Denied(Exception):
    """A refused call: Authorize answers `allowed` false with this reason."""

    def __init__(self, reason: Reason, account_id: int | None = None, detail: str = "") -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.account_id = account_id
        self.detail = detail
