"""Billing Engine, credit control: Authorize a call (reserve its money, pick its trunks)
and SettleCall (charge a finished call, release its reservation). See
docs/credit_control.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.InvalidInput, Client.SchemaValidationError, Server. A refused call is not a
fault: Authorize answers allowed=false with a reason code.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase, rpc

from services.billing import credit_models as m
from services.common import runtime_settings
from services.common.app import request
from services.common.wire import Auth, as_utc, money
from services.credit import authorize as credit
from services.credit.calls import SettleCommand, settle_call


class CreditService(ServiceBase):
    __in_header__ = Auth

    @rpc(m.AuthorizeRequest.customize(min_occurs=1, nillable=False), _returns=m.Authorization)
    def Authorize(ctx: Any, call: m.AuthorizeRequest) -> m.Authorization:
        """May this call start? Identifies the account by `pin`, else `account` (SIP
        peer, accountcode or login username), else `callerid` (a caller ID bound to
        it); checks its ANI and DNIS restrictions, its status and its reseller's, its
        concurrent-call limit; computes the longest call that every level (the account
        and each reseller above, each at its own sheet and own available credit) can
        pay, capped by max_call_seconds; reserves the money of a first slice of it
        (`reserved`, `reserved_seconds`: the AMI listener extends it while the call is
        up) and returns the trunks to dial in order. A call the credit of any level
        cannot pay for at least its minimum call is refused (InsufficientCredit or
        ResellerInsufficientCredit; `detail` says how long and the minimum).
        `uniqueid` (Asterisk's channel UniqueID) is how the CDR finds the reservation.
        Refusals answer allowed=false and a stable `reason`: OK, InvalidNumber,
        UnknownAccount, AccountBlocked, AccountClosed, ResellerBlocked, AniNotAllowed,
        DnisNotAllowed, ConcurrentCallLimit, NoRateForDestination, InsufficientCredit,
        ResellerInsufficientCredit, NoRoute, NoExchangeRate (docs/currencies.md). A
        login may authorize accounts of its own subtree only. An on-net call (the number
        is another account's SIP peer or DID of this server) answers no trunks but
        `dial_string` (the callee's peer) and `onnet_account_id`, at the on-net price
        (docs/onnet_callback.md)."""
        req = request(ctx)
        a = credit.authorize(
            req.uow,
            req.caller,
            credit.AuthorizeRequest(
                number=call.number,
                account=call.account or "",
                callerid=call.callerid or "",
                pin=call.pin or "",
                dnis=call.dnis or "",
                uniqueid=call.uniqueid or "",
            ),
            # The runtime settings (database) over the environment's policy.
            # Resolved with the settings' stamp read by Authorize's lock: no statement of its own.
            policy=runtime_settings.RuntimePolicy(ctx.app.credit_policy),
        )
        return m.Authorization(
            allowed=a.allowed,
            reason=a.reason.value,
            number=a.number,
            account_id=a.account_id,
            reservation_id=a.reservation_id,
            max_seconds=a.max_seconds,
            reserved=money(a.reserved),
            trunks=[
                m.AuthorizedTrunk(
                    trunk_id=t.trunk_id, name=t.name, provider=t.provider, dial_string=t.dial_string
                )
                for t in a.trunks
            ],
            reserved_seconds=a.reserved_seconds,
            detail=a.detail,
            onnet_account_id=a.onnet_account_id,
            dial_string=a.dial_string,
        )

    @rpc(m.CallToSettle.customize(min_occurs=1, nillable=False), _returns=m.SettledCall)
    def SettleCall(ctx: Any, call: m.CallToSettle) -> m.SettledCall:
        """A finished call (admin logins: the switch integration). It is stored as a
        CDR and charged at every level like one from the AMI listener; its reservation
        (`reservation_id`, or the one made with this `uniqueid`) is settled and the
        rest of the money released; `trunk_id` records the trunk that carried it and
        its buy cost. Without a reservation give `account_id` and `number`. `answer`
        defaults to the reservation's time; `disposition` to ANSWERED when billsec > 0.
        Idempotent on `uniqueid`: a second call charges nothing (outcome duplicate)."""
        req = request(ctx)
        s = settle_call(
            req.uow,
            req.caller,
            SettleCommand(
                uniqueid=call.uniqueid,
                billsec=call.billsec,
                reservation_id=call.reservation_id,
                account_id=call.account_id,
                number=call.number or "",
                answer=as_utc(call.answer),
                disposition=call.disposition or "",
                trunk_id=call.trunk_id,
            ),
        )
        return m.SettledCall(
            cdr_id=s.cdr_id,
            outcome=s.outcome,
            status=s.status,
            account_id=s.account_id,
            cost=money(s.cost),
            reservation_id=s.reservation_id,
            reservation_status=s.reservation_status,
        )
