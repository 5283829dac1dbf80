"""Reseller Manager: refill vouchers (admin and reseller logins). See docs/vouchers.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound (also lots
and vouchers outside your subtree), Client.InvalidInput, Client.SchemaValidationError,
Server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db.price_schema import Voucher, VoucherLot
from db.schema import utcnow
from services.common.app import request
from services.common.wire import Auth, Limit, Money, Offset, UtcDateTime, money, page_bounds, utc
from services.reseller import voucher_models as m
from services.reseller.manager_models import FileData, file_data
from services.vouchers import usecases as uc

Format = Unicode(values=["csv", "xlsx"])
LotId = Integer(min_occurs=1, nillable=False)
Status = Unicode(values=["active", "blocked", "used", "expired"])


def voucher_info(v: Voucher, lot: VoucherLot, now: datetime) -> m.VoucherInfo:
    return m.VoucherInfo(
        id=v.id,
        lot_id=lot.id,
        lot=lot.name,
        hint=v.hint,
        value=money(v.value),
        currency=v.currency,
        expires_at=utc(v.expires_at),
        status=uc.state(v, now),
        used_at=utc(v.used_at),
        used_by=v.used_by,
    )


class VoucherService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Integer(min_occurs=1, nillable=False, ge=1, le=uc.MAX_BATCH),
        Money.customize(min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False, max_len=3),
        UtcDateTime,
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128),
        Format,
        _returns=m.NewVoucherLot,
    )
    def CreateVouchers(
        ctx: Any,
        count: int,
        value: Any,
        currency: str,
        expires: datetime | None,
        lot_name: str,
        format: str | None,
    ) -> m.NewVoucherLot:
        """Make a lot of `count` single-use refill vouchers of `value` in `currency`
        (the account's currency must match), valid until `expires` (none: for ever).
        Codes are 18 random digits, unique across the system; only a keyed hash is
        stored, so `file` (CSV, or XLSX with `format`) is the only copy of the codes:
        keep it. They refill accounts of your subtree only."""
        req = request(ctx)
        lot = uc.create_vouchers(
            req.uow,
            req.caller,
            ctx.app.voucher_key,
            count,
            value,
            currency,
            expires,
            lot_name,
            format or "csv",
        )
        return m.NewVoucherLot(
            lot_id=lot.lot_id, name=lot.name, count=lot.count, file=file_data(lot.file)
        )

    @rpc(
        Integer,
        Unicode(values=["active", "blocked", "used", "expired"]),
        Offset,
        Limit,
        _returns=m.VoucherPage,
    )
    def ListVouchers(
        ctx: Any, lot_id: int | None, status: str | None, offset: int | None, limit: int | None
    ) -> m.VoucherPage:
        """The vouchers of your subtree's lots (or of `lot_id`), by id, filtered by
        status; paged (limit 1..1000, default 100) with the total. Codes are never
        shown: `hint` is their last four digits."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = uc.list_vouchers(req.uow, req.caller, lot_id, status, start, size)
        now = utcnow()
        items = [voucher_info(v, lot, now) for v, lot in rows]
        return m.VoucherPage(items=items, total=total, offset=start)

    @rpc(Integer, Integer.customize(max_occurs=1000), _returns=Integer)
    def BlockVouchers(ctx: Any, lot_id: int | None, voucher_ids: list[int] | None) -> int:
        """Block the unused vouchers of a lot, or those of `voucher_ids` (both: those of
        the lot among them); answers how many were blocked. Blocking is for good."""
        req = request(ctx)
        return uc.block_vouchers(req.uow, req.caller, lot_id, voucher_ids or [])

    @rpc(LotId, Format, _returns=FileData)
    def ExportVouchers(ctx: Any, lot_id: int, format: str | None) -> Any:
        """A lot's vouchers with their state as CSV (or XLSX): hints, never codes."""
        req = request(ctx)
        return file_data(uc.export_vouchers(req.uow, req.caller, lot_id, format or "csv"))
