"""Reseller Manager: calling-card PIN lots (admin and reseller logins).

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound (also lots
outside your subtree), Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from services.common.app import request
from services.common.exports import write_table
from services.common.wire import Auth, Limit, Money, Offset, money, page_bounds, utc
from services.reseller import manager_models as m
from services.reseller import pins_usecases as uc
from services.reseller.manager_models import file_data

LotId = Integer(min_occurs=1, nillable=False)


def lot_info(s: uc.LotSummary) -> m.LotInfo:
    return m.LotInfo(
        id=s.lot.id,
        owner_id=s.lot.owner_id,
        name=s.lot.name,
        cards=s.cards,
        active=s.active,
        balance=money(s.balance),
        created_at=utc(s.lot.created_at),
    )


class PinsService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Integer(min_occurs=1, nillable=False, ge=1, le=uc.MAX_COUNT),
        Integer(min_occurs=1, nillable=False, ge=uc.MIN_LENGTH, le=uc.MAX_LENGTH),
        Money,
        Integer,
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=100),
        Integer,
        _returns=m.LotInfo,
    )
    def GeneratePins(
        ctx: Any,
        count: int,
        length: int,
        initial_credit: Any,
        sheet_id: int | None,
        lot_name: str,
        parent_id: int | None,
    ) -> m.LotInfo:
        """Create a lot of `count` prepaid calling cards below you (or below
        `parent_id`), each with a PIN of `length` digits from a cryptographic source,
        unique across the system, paying by `sheet_id`, with `initial_credit` each.
        At most 1 in 1,000 of the PIN space of a length is used by one lot."""
        req = request(ctx)
        cmd = uc.NewLot(count, length, initial_credit or 0, sheet_id, lot_name, parent_id)
        return lot_info(uc.generate_pins(req.uow, req.caller, cmd))

    @rpc(Offset, Limit, _returns=m.LotPage)
    def ListLots(ctx: Any, offset: int | None, limit: int | None) -> m.LotPage:
        """The PIN lots of your subtree with their card counts and total balance."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = uc.list_lots(req.uow, req.caller, first, count)
        return m.LotPage(items=[lot_info(s) for s in rows], total=total, offset=first)

    @rpc(LotId, Unicode(min_occurs=1, nillable=False, max_len=255), _returns=Integer)
    def BlockLot(ctx: Any, lot_id: int, reason: str) -> int:
        """Block every active card of a lot; returns how many were blocked."""
        req = request(ctx)
        return uc.set_lot_status(req.uow, req.caller, lot_id, True, reason)

    @rpc(LotId, _returns=Integer)
    def UnblockLot(ctx: Any, lot_id: int) -> int:
        """Unblock every blocked card of a lot; returns how many."""
        req = request(ctx)
        return uc.set_lot_status(req.uow, req.caller, lot_id, False, "")

    @rpc(LotId, Money(min_occurs=1, nillable=False), Unicode(max_len=255), _returns=Integer)
    def RefillLot(ctx: Any, lot_id: int, amount: Any, reference: str | None) -> int:
        """Pay `amount` to every card of the lot that is not closed (a ledger row
        each); returns how many cards were refilled."""
        req = request(ctx)
        return uc.refill_lot(req.uow, req.caller, lot_id, amount, reference or "")

    @rpc(LotId, m.FileFormat(min_occurs=1, nillable=False), _returns=m.FileData)
    def ExportLot(ctx: Any, lot_id: int, format: str) -> m.FileData:
        """The cards of a lot as CSV or XLSX: account_id, pin, status, balance."""
        req = request(ctx)
        lot, cards = uc.lot_cards(req.uow, req.caller, lot_id)
        rows = [[c.id, c.pin, c.status, money(c.balance)] for c in cards]
        header = ("account_id", "pin", "status", "balance")
        return file_data(write_table(format, f"lot-{lot.id}", header, rows))
