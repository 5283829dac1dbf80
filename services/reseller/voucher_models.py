"""Wire types of voucher lots (urn:siptar:reseller)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.common.wire import Money, UtcDateTime
from services.reseller.manager_models import FileData
from services.reseller.models import TNS


class NewVoucherLot(ComplexModel):
    """What CreateVouchers made. `file` holds the codes: the only time they are shown."""

    __namespace__ = TNS
    lot_id = Integer
    name = Unicode
    count = Integer
    file = FileData


class VoucherInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    lot_id = Integer
    lot = Unicode
    hint = Unicode  # the code's last four digits
    value = Money
    currency = Unicode
    expires_at = UtcDateTime
    status = Unicode  # active, blocked, used, expired
    used_at = UtcDateTime
    used_by = Integer


class VoucherPage(ComplexModel):
    __namespace__ = TNS
    items = VoucherInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
