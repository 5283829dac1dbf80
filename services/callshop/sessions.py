"""Walk-in sessions on a booth: open, close (the receipt), charge; and the receipt.

A session's calls are the shop's CDRs from the booth's peer that started while it was
open (Authorize refuses the booth's calls at any other time). Closing stores the
receipt's figures on the session row; charging takes them again, so that the CDR of a
call that was still up at the close, arriving a moment later, is on what is paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from db.callshop_schema import Booth, BoothSession
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from rating.money import ZERO
from services.callshop.booths import own_booth
from services.callshop.prices import SoldCall, booth_cdrs, sold_calls
from services.callshop.shops import shop_account, shop_settings
from services.common.caller import Caller


@dataclass(frozen=True)
class Receipt:
    session: BoothSession
    booth: Booth
    currency: str
    calls: list[SoldCall]

    @property
    def total(self) -> Decimal:
        return sum((c.price for c in self.calls), ZERO)

    @property
    def billed_seconds(self) -> int:
        return sum(c.billed_seconds for c in self.calls)


def open_session(uow: UnitOfWork, caller: Caller, booth_id: int, now: datetime) -> Receipt:
    session = uow.session
    booth = own_booth(session, caller, booth_id, lock=True)
    if booth.locked:
        raise InvalidInput(f"booth {booth.name} is locked: unlock it first")
    unpaid = session.scalars(
        select(BoothSession).where(BoothSession.booth_id == booth.id, BoothSession.status != "paid")
    ).first()
    if unpaid is not None:
        raise AlreadyExists(f"booth {booth.name} already has session {unpaid.id} ({unpaid.status})")
    row = BoothSession(booth_id=booth.id, shop_id=booth.shop_id, status="open", opened_at=now)
    session.add(row)
    uow.commit()
    return receipt_of(uow, caller, row.id)


def close_session(uow: UnitOfWork, caller: Caller, booth_id: int, now: datetime) -> Receipt:
    """End the booth's open session: no more calls; the receipt's figures are fixed."""
    session = uow.session
    booth = own_booth(session, caller, booth_id, lock=True)
    row = session.scalars(
        select(BoothSession).where(BoothSession.booth_id == booth.id, BoothSession.status == "open")
    ).first()
    if row is None:
        raise NotFound(f"booth {booth.name} has no open session")
    row.status, row.closed_at = "to_pay", now
    receipt = _receipt(uow, caller, row, booth)
    row.calls, row.billed_seconds, row.total = (
        len(receipt.calls),
        receipt.billed_seconds,
        receipt.total,
    )
    uow.commit()
    return receipt


def charge_session(uow: UnitOfWork, caller: Caller, session_id: int, now: datetime) -> Receipt:
    """The customer paid the receipt: the booth is free again. Charging twice is
    refused (the session is already paid), so the counter's double click counts once."""
    session = uow.session
    row = _own_session(uow, caller, session_id)
    booth = own_booth(session, caller, row.booth_id, lock=True)
    session.refresh(row)
    if row.status != "to_pay":
        raise InvalidInput(f"session {row.id} is {row.status}: close it before charging")
    receipt = _receipt(uow, caller, row, booth)
    row.calls, row.billed_seconds, row.total = (
        len(receipt.calls),
        receipt.billed_seconds,
        receipt.total,
    )
    row.status, row.paid_at = "paid", now
    uow.commit()
    return receipt


def receipt_of(uow: UnitOfWork, caller: Caller, session_id: int) -> Receipt:
    row = _own_session(uow, caller, session_id)
    booth = own_booth(uow.session, caller, row.booth_id)
    return _receipt(uow, caller, row, booth)


def _own_session(uow: UnitOfWork, caller: Caller, session_id: int) -> BoothSession:
    shop = shop_account(uow.session, caller)
    row = uow.session.get(BoothSession, session_id)
    if row is None or row.shop_id != shop.id:
        raise NotFound(f"session {session_id} not found")
    return row


def _receipt(uow: UnitOfWork, caller: Caller, row: BoothSession, booth: Booth) -> Receipt:
    session = uow.session
    shop = shop_account(session, caller)
    settings = shop_settings(session, shop)
    assert settings is not None  # made with the shop's first booth
    # closed_at None (still open): the calls up to now.
    cdrs = booth_cdrs(session, booth, row.opened_at, row.closed_at)
    calls = sold_calls(session, settings.sell_sheet_id, cdrs)
    return Receipt(row, booth, shop.currency, calls)
