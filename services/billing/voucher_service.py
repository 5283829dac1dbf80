"""Billing Engine: an account redeems a refill voucher on itself (the web site or call
shop case). See docs/vouchers.md.

Faults: Client.AuthenticationFailed, Client.TooManyAttempts (too many wrong codes for
this account or from this address), Client.VoucherUnknown, Client.VoucherNotValidHere,
Client.VoucherUsed, Client.VoucherBlocked, Client.VoucherExpired, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ComplexModel, Integer, ServiceBase, Unicode, rpc

from services.billing.models import TNS
from services.common.app import client_address, request
from services.common.wire import Auth, Money, money
from services.vouchers import usecases as uc


class RedeemedVoucher(ComplexModel):
    __namespace__ = TNS
    voucher_id = Integer
    account_id = Integer
    amount = Money
    currency = Unicode
    balance = Money  # the account's balance right after


class VoucherRedeemService(ServiceBase):
    __in_header__ = Auth

    @rpc(Unicode(min_occurs=1, nillable=False, max_len=40), _returns=RedeemedVoucher)
    def RedeemVoucher(ctx: Any, code: str) -> RedeemedVoucher:
        """Put a voucher's value on your own account: `code` as printed (18 digits;
        spaces and dashes are ignored). Each voucher is used once; wrong codes are
        counted, and after 5 for an account (20 from an address) in 15 minutes the
        answer is TooManyAttempts."""
        req = request(ctx)
        done = uc.redeem(
            req.uow, ctx.app.voucher_key, req.caller.account_id, code, client_address(ctx)
        )
        return RedeemedVoucher(
            voucher_id=done.voucher_id,
            account_id=done.account_id,
            amount=money(done.amount),
            currency=done.currency,
            balance=money(done.balance),
        )
