"""Billing Engine, the call shop (docs/callshop.md): a `callshop` login's booths,
walk-in sessions, its sell prices and its day. Every operation is the shop's own;
other logins answer Client.AccessDenied, another shop's booth Client.NotFound.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists, Client.InvalidInput, Client.InvalidRateRow,
Client.NoRateForDestination, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from spyne import Boolean, Date, Integer, ServiceBase, Unicode, rpc

from services.billing import callshop_models as m
from services.callshop import board, booths, sell_sheet, sessions
from services.callshop import day as counter
from services.common.app import request
from services.common.wire import (
    Auth,
    Limit,
    Offset,
    UtcDateTime,
    as_utc,
    money,
    page_bounds,
    price_fields,
    utc,
)

BoothId = Integer(min_occurs=1, nillable=False)
Number = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=40)


def _receipt(r: sessions.Receipt) -> m.Receipt:
    s = r.session
    return m.Receipt(
        session_id=s.id,
        booth_id=r.booth.id,
        booth_name=r.booth.name,
        status=s.status,
        opened_at=utc(s.opened_at),
        closed_at=utc(s.closed_at),
        paid_at=utc(s.paid_at),
        currency=r.currency,
        calls=len(r.calls),
        billed_seconds=r.billed_seconds,
        total=money(r.total),
        lines=[
            m.ReceiptLine(
                cdr_id=c.cdr_id,
                number=c.number,
                destination=c.destination,
                start_time=utc(c.start),
                billsec=c.billsec,
                billed_seconds=c.billed_seconds,
                price=money(c.price),
            )
            for c in r.calls
        ],
    )


def _booth(row: board.BoardRow) -> m.BoothInfo:
    v = row.view
    call = None
    if v.call is not None and row.call is not None:
        call = m.BoothCall(
            uniqueid=v.call.uniqueid,
            number=v.call.number,
            destination=row.call.destination,
            state=v.call.state,
            started_at=utc(v.call.started_at),
            answered_at=utc(v.call.answered_at),
            seconds=row.call.seconds,
            price=money(row.call.price),
        )
    return m.BoothInfo(
        id=v.booth.id,
        name=v.booth.name,
        sip_peer=v.booth.sip_peer,
        state=v.state,
        session_id=v.session.id if v.session else None,
        session_opened_at=utc(v.session.opened_at) if v.session else None,
        session_total=money(row.session_total),
        call=call,
    )


def _one(view: booths.BoothView) -> m.BoothInfo:
    return _booth(board.BoardRow(view, None, Decimal(0)))


class CallShopService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=64),
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=80),
        _returns=m.BoothInfo,
    )
    def AddBooth(ctx: Any, name: str, sip_peer: str) -> m.BoothInfo:
        """Add a booth: the SIP peer (PJSIP endpoint) its phone registers as, unique on
        the server. It starts free (unlocked, no session)."""
        req = request(ctx)
        booth = booths.add_booth(req.uow, req.caller, name, sip_peer)
        return _one(booths.booth_views(req.uow.session, [booth])[0])

    @rpc(Offset, Limit, _returns=m.BoothPage)
    def ListBooths(ctx: Any, offset: int | None, limit: int | None) -> m.BoothPage:
        """Your booths by id, a page at a time (limit 1 to 1000, default 100), each with
        its state (locked, free, open, in_call, to_pay), its unpaid session and its
        call up right now, priced so far at your sell sheet."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        now = datetime.now(UTC)
        rows, total = board.board(req.uow, req.caller, first, count, now)
        return m.BoothPage(
            items=[_booth(r) for r in rows], total=total, offset=first, server_time=now
        )

    @rpc(BoothId, _returns=m.BoothInfo)
    def LockBooth(ctx: Any, booth_id: int) -> m.BoothInfo:
        """Lock a booth: Authorize refuses its calls until it is unlocked."""
        req = request(ctx)
        return _one(booths.set_locked(req.uow, req.caller, booth_id, True))

    @rpc(BoothId, _returns=m.BoothInfo)
    def UnlockBooth(ctx: Any, booth_id: int) -> m.BoothInfo:
        req = request(ctx)
        return _one(booths.set_locked(req.uow, req.caller, booth_id, False))

    @rpc(BoothId, _returns=m.Receipt)
    def OpenBoothSession(ctx: Any, booth_id: int) -> m.Receipt:
        """Start a walk-in customer's session on a free booth: its calls are allowed
        from now on. A locked booth, or one whose last session is not paid, refuses."""
        req = request(ctx)
        return _receipt(sessions.open_session(req.uow, req.caller, booth_id, datetime.now(UTC)))

    @rpc(BoothId, _returns=m.Receipt)
    def CloseBoothSession(ctx: Any, booth_id: int) -> m.Receipt:
        """End the booth's open session: no more calls; the receipt (its calls at your
        sell sheet and the total) is what the customer pays; the booth is to_pay."""
        req = request(ctx)
        return _receipt(sessions.close_session(req.uow, req.caller, booth_id, datetime.now(UTC)))

    @rpc(Integer(min_occurs=1, nillable=False), _returns=m.Receipt)
    def ChargeBoothSession(ctx: Any, session_id: int) -> m.Receipt:
        """The customer paid a closed session: it is paid and the booth free again.
        A session already paid is refused (Client.InvalidInput): it counts once."""
        req = request(ctx)
        return _receipt(sessions.charge_session(req.uow, req.caller, session_id, datetime.now(UTC)))

    @rpc(Integer(min_occurs=1, nillable=False), _returns=m.Receipt)
    def GetBoothReceipt(ctx: Any, session_id: int) -> m.Receipt:
        """A session's receipt (an open session's calls so far)."""
        req = request(ctx)
        return _receipt(sessions.receipt_of(req.uow, req.caller, session_id))

    @rpc(Number, Integer(min_occurs=1, nillable=False, ge=0), UtcDateTime, _returns=m.SellQuote)
    def QuoteSellPrice(ctx: Any, number: str, seconds: int, start: Any) -> m.SellQuote:
        """What a walk-in customer pays for `seconds` to `number` (at `start`, default
        now), at your sell sheet: the counter's price lookup."""
        req = request(ctx)
        at = as_utc(start) or datetime.now(UTC)
        currency, c = counter.quote(req.uow, req.caller, number, seconds, at)
        return m.SellQuote(
            currency=currency,
            prefix=c.prefix,
            destination=c.destination,
            billed_seconds=c.billed_seconds,
            price=money(c.cost),
            price_per_minute=money(c.rate.price),
        )

    @rpc(Date(min_occurs=1, nillable=False), _returns=m.ShopDay)
    def GetShopDay(ctx: Any, day: date) -> m.ShopDay:
        """The sessions opened on `day` (your time zone): sessions, calls, billed
        minutes, revenue at your sell sheet, cost (what you were charged for those
        calls, from your ledger) and profit."""
        req = request(ctx)
        s = counter.day_summary(req.uow, req.caller, day)
        return m.ShopDay(
            day=s.day,
            currency=s.currency,
            sessions=s.sessions,
            calls=s.calls,
            billed_minutes=money(Decimal(s.billed_seconds) / 60),
            revenue=money(s.revenue),
            cost=money(s.cost),
            profit=money(s.profit),
        )

    @rpc(Unicode(min_occurs=1, nillable=False), Boolean, _returns=m.SellImport)
    def ImportSellRates(ctx: Any, csv: str, replace: bool | None) -> m.SellImport:
        """Load your sell prices (a CSV deck in ImportRates' format, all or nothing);
        `replace` makes the sheet exactly the file."""
        req = request(ctx)
        r = sell_sheet.import_sell_rates(req.uow, req.caller, csv, bool(replace))
        return m.SellImport(
            sheet_id=r.sheet_id, imported=r.imported, removed=r.removed, version=r.version
        )

    @rpc(Unicode(max_len=32), Offset, Limit, _returns=m.SellRatePage)
    def ListSellRates(ctx: Any, prefix: str | None, offset: int | None, limit: int | None) -> Any:
        """Your sell prices by prefix, a page at a time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        sheet_id, rows, total = sell_sheet.list_sell_rates(
            req.uow, req.caller, prefix or "", first, count
        )
        items = [m.SellRate(**price_fields(r)) for r in rows]
        return m.SellRatePage(sheet_id=sheet_id, items=items, total=total, offset=first)
