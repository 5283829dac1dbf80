"""RequestCallback and GetCallbackStatus (docs/onnet_callback.md, "Web callback").

RequestCallback(account, A, B), by the account itself or any level above it:

1. both legs are authorized as outbound calls of the account (services/credit/authorize:
   statuses, credit at every level, routes), A first: leg A's reservation is keyed
   `<channel>.a`, leg B's `<channel>`, where <channel> is the UniqueID the Originate
   gives the channel to A (ChannelId). A refused leg answers a fault and holds nothing
   (leg A's reservation is released if B is refused);
2. the callback row is written and committed, then the Originate is sent over a short
   AMI connection of its own (no transaction open meanwhile): Channel = leg A's first
   dial string, Context `siptar-callback`, Exten = B, with B's dial string and limit as
   channel variables (the dialplan of docs/dialplan.md dials them when A answers);
3. Asterisk unreachable or refusing: the callback is failed, both reservations released,
   and the caller gets Client.AsteriskUnavailable.

What happens next comes from the AMI events (services/callback/events.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from ami_listener.actions import AmiTarget, AmiUnavailable, send_actions
from db.callback_schema import Callback
from db.schema import Account
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import (
    AsteriskUnavailable,
    BillingError,
    CallbackRefused,
    InsufficientCredit,
    InvalidInput,
    NoRateForDestination,
    NotFound,
)
from services.common.caller import Caller, visible_account
from services.credit.authorize import Authorization, AuthorizeRequest, Reason, authorize
from services.credit.expiry import release_calls
from services.credit.policy import DEFAULT_POLICY, CreditPolicy

CONTEXT = "siptar-callback"  # the dialplan context leg A enters once answered
RING_A_MS = 30000  # how long Asterisk rings A before the Originate fails


@dataclass(frozen=True)
class CallbackView:
    id: int
    account_id: int
    number_a: str
    number_b: str
    status: str
    reason: str
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None


def request_callback(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    numbers: tuple[str, str],
    target: AmiTarget | None,
    policy: CreditPolicy = DEFAULT_POLICY,
) -> CallbackView:
    """Reserve both legs, write the callback, originate leg A (see the module)."""
    number_a, number_b = (_number(n, leg) for n, leg in zip(numbers, "AB", strict=True))
    account = visible_account(uow.session, caller, account_id)
    name = account.accountcode or account.sip_username
    if not name:
        raise InvalidInput("account: a callback needs an account with an accountcode or SIP peer")
    if target is None:
        raise AsteriskUnavailable("no Asterisk Manager Interface is configured (SIPTAR_AMI_*)")
    channel = f"siptar-cb-{secrets.token_hex(8)}"
    now = datetime.now(UTC)
    leg_a = _leg(uow, "A", AuthorizeRequest(number_a, name, uniqueid=f"{channel}.a"), now, policy)
    try:
        leg_b = _leg(uow, "B", AuthorizeRequest(number_b, name, uniqueid=channel), now, policy)
    except BillingError:
        _release(uow, [leg_a.reservation_id])
        raise
    row = Callback(
        account_id=account.id,
        number_a=number_a,
        number_b=number_b,
        channel_id=channel,
        dial_a=_dial(leg_a),
        reservation_a=leg_a.reservation_id,
        reservation_b=leg_b.reservation_id,
        created_at=now,
    )
    uow.session.add(row)
    uow.commit()
    try:
        (reply,) = send_actions(target, [_originate(row, account, leg_b)])
        answer = reply[0] if isinstance(reply, list) else reply
        if str(answer.get("Response", "")).lower() != "success":
            raise AmiUnavailable(f"Asterisk refused the Originate: {answer.get('Message', '')}")
    except AmiUnavailable as e:
        fail(uow, row, f"originate: {e}")
        uow.commit()
        raise AsteriskUnavailable(str(e)) from None
    return view(row)


def callback_status(uow: UnitOfWork, caller: Caller, callback_id: int) -> CallbackView:
    row = uow.session.get(Callback, callback_id)
    account = uow.session.get(Account, row.account_id) if row is not None else None
    if row is None or account is None or not caller.owns(account):
        raise NotFound(f"callback {callback_id} not found")
    return view(row)


def view(row: Callback) -> CallbackView:
    return CallbackView(
        row.id,
        row.account_id,
        row.number_a,
        row.number_b,
        row.status,
        row.reason,
        row.created_at,
        row.answered_at,
        row.ended_at,
    )


def fail(uow: UnitOfWork, row: Callback, reason: str) -> None:
    """The callback failed: both legs' reservations released (no transaction end)."""
    row.status, row.reason = "failed", reason[:255]
    _release(uow, [row.reservation_a, row.reservation_b], commit=False)


def _number(text: str, leg: str) -> str:
    try:
        number = normalise_number(text or "")
    except BillingError:
        number = ""
    if not number:
        raise InvalidInput(f"number_{leg.lower()}: {text!r} is not a number to call")
    return number


def _leg(
    uow: UnitOfWork, leg: str, req: AuthorizeRequest, now: datetime, policy: CreditPolicy
) -> Authorization:
    """Authorize one leg (it commits its reservation); a refusal as a fault."""
    answer = authorize(uow, None, req, now, policy)
    if answer.allowed:
        return answer
    why = f"leg {leg}: {answer.reason.value}" + (f" ({answer.detail})" if answer.detail else "")
    if answer.reason in (Reason.INSUFFICIENT_CREDIT, Reason.RESELLER_INSUFFICIENT_CREDIT):
        raise InsufficientCredit(why)
    if answer.reason == Reason.NO_RATE:
        raise NoRateForDestination(why)
    if answer.reason == Reason.INVALID_NUMBER:
        raise InvalidInput(why)
    raise CallbackRefused(why)


def _dial(leg: Authorization) -> str:
    return leg.dial_string or (leg.trunks[0].dial_string if leg.trunks else "")


def _originate(row: Callback, account: Account, leg_b: Authorization) -> dict[str, str]:
    variables = {
        "SIPTAR_CALLBACK": str(row.id),
        "SIPTAR_CB_DIALSTR": _dial(leg_b),
        "SIPTAR_CB_MAX": str(leg_b.max_seconds),
    }
    return {
        "Action": "Originate",
        "Channel": row.dial_a,
        "ChannelId": row.channel_id,
        "Context": CONTEXT,
        "Exten": row.number_b,
        "Priority": "1",
        "Timeout": str(RING_A_MS),
        "CallerID": row.number_b,
        "Account": account.accountcode or "",
        "Async": "true",
        "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
    }


def _release(uow: UnitOfWork, ids: list[int | None], *, commit: bool = True) -> None:
    # Through expiry's release: what the legs held comes off accounts.reserved and the
    # trunks' counts (services/credit/holds.py), in the one lock order.
    release_calls(uow.session, [i for i in ids if i is not None])
    if commit:
        uow.commit()
