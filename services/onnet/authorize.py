"""Authorize's answer for an on-net call (docs/onnet_callback.md).

Called from services/credit/authorize._authorize once the caller's chain is locked and
its statuses, restrictions, expiry and concurrent calls are checked, with plain values;
answers None for an ordinary call (a number no account of this server answers to).

An on-net call goes to the callee's peer (a dial string instead of trunks: no trunk, no
channel limit, no provider cost). Every level of the caller's chain pays its own sheet's
on-net price (rating/onnet.py: a row of prefix `onnet`, else free) and must afford at
least its minimum call at it, as for any call. The whole call is reserved at once
(reserved_seconds = max_seconds): the listener's slice extension prices calls at the
ordinary sheet, which has no rate for an on-net number, so nothing is left to extend.
A free call still gets a reservation of 0 at every level: concurrent-call limits and
settlement count reservations.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from db.schema import Account
from rating import RatingPlan
from rating.errors import NoRateForDestination
from rating.model import CallToRate
from rating.money import ZERO
from rating.onnet import ON_NET_NUMBER, on_net_cost, on_net_plan
from services.credit import authorize as credit
from services.credit.expiry import EXPIRY_MARGIN
from services.credit.policy import CreditPolicy
from services.credit.reservation_rows import insert_reservations
from services.credit.routing import plan_for
from services.onnet.callee import find_callee

__all__ = ["on_net_authorization", "on_net_plan_for"]

_PLANS: dict[tuple[int, int], RatingPlan] = {}


def on_net_plan_for(plan: RatingPlan) -> RatingPlan:
    """The on-net plan of a compiled sheet, compiled once per (sheet, version)."""
    sheet = plan.sheet
    if sheet.id is None:
        return on_net_plan(plan)
    key = (sheet.id, sheet.version)
    found = _PLANS.get(key)
    if found is None:
        if len(_PLANS) > 1000:  # old versions: dropped wholesale, rebuilt on demand
            _PLANS.clear()
        found = _PLANS[key] = on_net_plan(plan)
    return found


def on_net_authorization(
    session: Session,
    chain: list[Account],
    reserved: dict[int, Decimal],
    number: str,
    now: datetime,
    policy: CreditPolicy,
    uniqueid: str,
) -> credit.Authorization | None:
    """The answer for `number` if it is on-net (reserved), else None. `reserved`: what
    the open reservations of each account of the chain hold."""
    callee = find_callee(session, number)
    if callee is None:
        return None
    customer = chain[0]
    try:
        seconds = _max_seconds(session, chain, reserved, now, policy)
    except _Short as short:
        return credit.Authorization(False, short.reason, number, customer.id, detail=short.detail)
    reservation_id, amount = _reserve(session, chain, number, seconds, now, uniqueid)
    return credit.Authorization(
        True,
        credit.Reason.OK,
        number,
        customer.id,
        reservation_id,
        seconds,
        amount,
        (),
        reserved_seconds=seconds,
        onnet_account_id=callee.account_id,
        dial_string=callee.dial_string,
    )


class _Short(Exception):
    def __init__(self, reason: credit.Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _plans(session: Session, chain: list[Account]) -> list[RatingPlan]:
    plans = []
    for account in chain:
        if account.rate_sheet_id is None:
            raise _Short(credit.Reason.NO_RATE, f"account {account.id} has no rate sheet")
        plans.append(on_net_plan_for(plan_for(session, account.rate_sheet_id)))
    return plans


def _max_seconds(
    session: Session,
    chain: list[Account],
    reserved: dict[int, Decimal],
    now: datetime,
    policy: CreditPolicy,
) -> int:
    """As Authorize's for any call, at each level's on-net plan."""
    seconds = chain[0].max_call_seconds or credit.DEFAULT_MAX_CALL_SECONDS
    for level, (account, plan) in enumerate(zip(chain, _plans(session, chain), strict=True)):
        if level and account.max_call_seconds:
            seconds = min(seconds, account.max_call_seconds)
        money = credit.available(account, reserved.get(account.id, ZERO))
        try:
            cap, seconds = seconds, plan.max_duration(ON_NET_NUMBER, now, money, seconds)
            rate = plan.find_rate(ON_NET_NUMBER, now)
        except NoRateForDestination:  # the on-net row is not valid at this moment
            raise _Short(credit.Reason.NO_RATE, "no on-net rate in force") from None
        minimum = max(1, min(policy.min_call_for(account, rate), cap))
        if seconds < minimum:
            short = (
                credit.Reason.RESELLER_INSUFFICIENT_CREDIT
                if level
                else credit.Reason.INSUFFICIENT_CREDIT
            )
            raise _Short(short, f"on-net: {seconds} s affordable; the minimum call is {minimum} s")
    return seconds


def _reserve(
    session: Session,
    chain: list[Account],
    number: str,
    seconds: int,
    now: datetime,
    uniqueid: str,
) -> tuple[int, Decimal]:
    call = CallToRate(number, now, seconds, True)
    expires = now + timedelta(seconds=seconds) + EXPIRY_MARGIN
    costs = [on_net_cost(plan, call).cost for plan in _plans(session, chain)]
    rows: list[dict[str, object]] = [
        {
            "account_id": account.id,
            "number": number,
            "amount": cost,
            "max_seconds": seconds,
            "reserved_seconds": seconds,
            "status": "open",
            "uniqueid": uniqueid[:64],
            "created_at": now,
            "expires_at": expires,
            "trunk_id": None,
        }
        for account, cost in zip(chain, costs, strict=True)
    ]
    return insert_reservations(session, rows), costs[0]
