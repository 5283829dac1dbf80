"""The call shop's operations in the isolation matrix: R2 and C1 are no call shops, so
each answers AccessDenied and changes nothing (shop against shop is in
tests/callshop/test_callshop_soap.py)."""

from __future__ import annotations

from datetime import date
from typing import Any


def callshop_cases(case: Any) -> list[Any]:
    """`case`: the matrix's Case class."""
    booth = {"booth_id": 1}
    session = {"session_id": 1}
    return [
        case("billing", "AddBooth", lambda w: {"name": "b", "sip_peer": "stolen-booth"}),
        case("billing", "ListBooths", lambda w: {}),
        case("billing", "LockBooth", lambda w: booth),
        case("billing", "UnlockBooth", lambda w: booth),
        case("billing", "OpenBoothSession", lambda w: booth),
        case("billing", "CloseBoothSession", lambda w: booth),
        case("billing", "ChargeBoothSession", lambda w: session),
        case("billing", "GetBoothReceipt", lambda w: session),
        case("billing", "QuoteSellPrice", lambda w: {"number": "34911", "seconds": 60}),
        case("billing", "GetShopDay", lambda w: {"day": date(2026, 11, 23)}),
        case("billing", "ImportSellRates", lambda w: {"csv": "prefix,price\n34,0.1\n"}),
        case("billing", "ListSellRates", lambda w: {}),
    ]
