"""Redeeming a voucher from the dialplan (FastAGI `voucher`): who is calling, then the
one redeem use case. Spyne-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, identify
from services.vouchers.usecases import Redeemed, redeem


@dataclass(frozen=True)
class VoucherRequest:
    code: str
    account: str = ""  # SIP peer, accountcode or login, as Authorize takes it
    pin: str = ""
    callerid: str = ""


VoucherResult = Redeemed | None  # None: no account is calling


def redeemer(
    session_factory: Callable[[], Session], key: bytes
) -> Callable[[VoucherRequest], VoucherResult]:
    def run_one(req: VoucherRequest) -> VoucherResult:
        with UnitOfWork(session_factory) as uow:
            who = AuthorizeRequest(
                number="", account=req.account, callerid=req.callerid, pin=req.pin
            )
            account = identify(uow.session, who)
            if account is None:
                return None
            # The caller ID is who keys the codes in; without one, the channel's account.
            caller = f"ani:{req.callerid}" if req.callerid else f"account:{account.id}"
            return redeem(uow, key, account.id, req.code, caller)

    return run_one
