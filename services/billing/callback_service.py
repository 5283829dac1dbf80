"""Billing Engine: web callback ("connect two"). See docs/onnet_callback.md.

RequestCallback calls leg A over the Asterisk Manager Interface and bridges it to leg B
once A answers; both legs are authorized (credit reserved) up front and billed to the
account as outbound calls. GetCallbackStatus follows it as the AMI listener sees it:
calling -> connected -> completed, or failed.

Faults: Client.AuthenticationFailed, Client.NotFound (no such account or callback in
your subtree), Client.InvalidInput (a number that is no number; an account without an
accountcode or SIP peer), Client.InsufficientCredit, Client.NoRateForDestination,
Client.CallbackRefused (another refusal of Authorize; the reason leads the message),
Client.AsteriskUnavailable (nothing was called; nothing is held), Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ComplexModel, Integer, ServiceBase, Unicode, rpc

from services.billing.models import TNS
from services.callback import requests as uc
from services.common import runtime_settings
from services.common.app import ami_target, request
from services.common.wire import Auth, UtcDateTime, utc

_NUMBER = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=40)


class CallbackInfo(ComplexModel):
    __namespace__ = TNS
    callback_id = Integer
    account_id = Integer
    number_a = Unicode
    number_b = Unicode
    status = Unicode(values=["calling", "connected", "completed", "failed"])
    reason = Unicode  # why it failed
    created_at = UtcDateTime
    answered_at = UtcDateTime  # leg A answered
    ended_at = UtcDateTime


def _info(v: uc.CallbackView) -> CallbackInfo:
    return CallbackInfo(
        callback_id=v.id,
        account_id=v.account_id,
        number_a=v.number_a,
        number_b=v.number_b,
        status=v.status,
        reason=v.reason,
        created_at=utc(v.created_at),
        answered_at=utc(v.answered_at),
        ended_at=utc(v.ended_at),
    )


class CallbackService(ServiceBase):
    __in_header__ = Auth

    @rpc(Integer(min_occurs=1, nillable=False), _NUMBER, _NUMBER, _returns=CallbackInfo)
    def RequestCallback(ctx: Any, account: int, number_a: str, number_b: str) -> CallbackInfo:
        """Call `number_a`, and when it answers connect it to `number_b`, both legs billed
        to `account` (your own, or one of your subtree) at its rates: leg A at the price
        of A, leg B as an outbound call to B. Both are authorized now, A's and B's
        credit held; a leg A that never answers releases both."""
        req = request(ctx)
        policy = runtime_settings.credit_policy(req.uow.session, ctx.app.credit_policy)
        view = uc.request_callback(
            req.uow, req.caller, account, (number_a, number_b), ami_target(ctx), policy
        )
        return _info(view)

    @rpc(Integer(min_occurs=1, nillable=False), _returns=CallbackInfo)
    def GetCallbackStatus(ctx: Any, callback_id: int) -> CallbackInfo:
        """A callback of your own account or your subtree, as the AMI events left it."""
        req = request(ctx)
        return _info(uc.callback_status(req.uow, req.caller, callback_id))
