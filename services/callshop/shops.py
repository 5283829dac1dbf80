"""Which shop a login is, and its sell sheet."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from db.callshop_schema import CallShop
from db.schema import Account, RateSheet
from rating.errors import AccessDenied, NotFound
from services.common.caller import Caller

# The characters a PJSIP endpoint name of a booth may have: what the channel name
# `PJSIP/<peer>-<id>` can be parsed back from. (`_` is a LIKE wildcard: booth_cdrs
# checks every row it finds against the exact peer.)
PEER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/(?P<peer>.+?)-[0-9a-fA-F;.]+$")
SELL_SHEET_NAME = "Walk-in prices"


def peer_of(channel: str) -> str:
    """The SIP peer of an Asterisk channel name (`PJSIP/booth1-0000002a` -> booth1)."""
    match = _CHANNEL.match(channel or "")
    return match.group("peer") if match else ""


def shop_account(session: Session, caller: Caller) -> Account:
    """The caller's own account, which must be a call shop: every call-shop operation
    is the shop's own (its parent manages it through the reseller service)."""
    account = session.get(Account, caller.account_id)
    if account is None or account.kind != "callshop":
        raise AccessDenied("this operation is for call-shop logins")
    return account


def shop_settings(session: Session, shop: Account, create: bool = False) -> CallShop | None:
    """The shop's settings row; with `create`, made on first use together with its
    empty sell sheet (owned by the shop, in the shop's currency)."""
    found = session.get(CallShop, shop.id)
    if found is not None or not create:
        return found
    sheet = RateSheet(owner_id=shop.id, name=SELL_SHEET_NAME, currency=shop.currency)
    session.add(sheet)
    session.flush()
    found = CallShop(account_id=shop.id, sell_sheet_id=sheet.id)
    session.add(found)
    session.flush()
    return found


def sell_sheet_id(session: Session, shop: Account) -> int:
    settings = shop_settings(session, shop)
    if settings is None:
        raise NotFound("the shop has no sell prices yet: load them with ImportSellRates")
    return settings.sell_sheet_id
