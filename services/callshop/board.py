"""The shop's board: every booth with its state, its live call priced so far and its
session's calls so far, all at the sell sheet. What the desktop polls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from db.rates import plans
from db.session import UnitOfWork
from rating.money import ZERO
from services.callshop.booths import BoothView, list_booths
from services.callshop.prices import priced_calls, sell_price, shop_cdrs_since
from services.callshop.shops import shop_account, shop_settings
from services.common.caller import Caller


@dataclass(frozen=True)
class PricedCall:
    destination: str
    seconds: int  # since the answer (0 while ringing)
    price: Decimal


@dataclass(frozen=True)
class BoardRow:
    view: BoothView
    call: PricedCall | None
    session_total: Decimal


def board(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int, now: datetime
) -> tuple[list[BoardRow], int]:
    session = uow.session
    views, total = list_booths(uow, caller, offset, limit)
    settings = shop_settings(session, shop_account(session, caller))
    if settings is None:  # no booth was ever added
        return [], total
    plan = plans.plan(session, settings.sell_sheet_id)
    opened = [v.session.opened_at for v in views if v.session is not None]
    cdrs = shop_cdrs_since(session, settings.account_id, min(opened)) if opened else {}
    rows = []
    for v in views:
        priced = None
        if v.call is not None:
            seconds = 0
            if v.call.answered_at is not None:
                seconds = max(0, int((now - v.call.answered_at).total_seconds()))
            price, _, destination, _ = sell_price(
                plan, v.call.number, v.call.answered_at or v.call.started_at, seconds
            )
            priced = PricedCall(destination, seconds, price if seconds else ZERO)
        so_far = ZERO
        if v.session is not None:
            start, end = v.session.opened_at, v.session.closed_at
            mine = [
                c
                for c in cdrs.get(v.booth.sip_peer, [])
                if c.start_time >= start and (end is None or c.start_time < end)
            ]
            so_far = sum((c.price for c in priced_calls(plan, mine)), ZERO)
        rows.append(BoardRow(v, priced, so_far))
    return rows, total
