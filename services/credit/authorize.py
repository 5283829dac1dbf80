"""Authorize: may this call start, for how long, over which trunks; and hold the money.

    identify -> lock the chain -> statuses -> expire overdue -> concurrent calls
      -> max duration at every level -> route -> reserve -> answer

The answer is never a fault for a call that is refused: `allowed` is false and
`reason` is a stable code (see `Reason`). Only a malformed request (no identity at all)
raises InvalidInput.

Concurrency: the account rows of the chain (the customer, then each reseller up to,
not including, the admin) are locked with SELECT ... FOR UPDATE in that fixed order
before anything is read, so two calls of one account (or of two customers of one
reseller) are serialised and never spend the same money; the fixed order (always from
the customer up) means no two transactions wait on each other in a cycle. Settlement
takes the same rows in the same order (its balance updates). On SQLite every
transaction is BEGIN IMMEDIATE: writers are serialised by the database itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.schema import Account, AccountCallerId, Login, Reservation, Trunk
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import BillingError, InvalidInput, NoRateForDestination
from rating.model import CallToRate
from rating.money import ZERO
from services.bundles import credit as bundle_credit
from services.callshop.booths import booth_gate
from services.common.caller import Caller
from services.credit.expiry import EXPIRY_MARGIN, expire_due
from services.credit.policy import DEFAULT_POLICY, CreditPolicy, first_slice
from services.credit.reservation_rows import insert_reservations
from services.credit.routing import (
    TrunkChoice,
    open_channels,
    plan_for,
    plan_route,
    preload_plans,
)

logger = logging.getLogger(__name__)

# The longest call an account without its own max_call_seconds may be authorized for.
DEFAULT_MAX_CALL_SECONDS = 3 * 3600


class Reason(StrEnum):
    OK = "OK"
    INVALID_NUMBER = "InvalidNumber"
    UNKNOWN_ACCOUNT = "UnknownAccount"
    ACCOUNT_BLOCKED = "AccountBlocked"
    ACCOUNT_CLOSED = "AccountClosed"
    RESELLER_BLOCKED = "ResellerBlocked"
    ANI_NOT_ALLOWED = "AniNotAllowed"
    DNIS_NOT_ALLOWED = "DnisNotAllowed"
    CONCURRENT_CALL_LIMIT = "ConcurrentCallLimit"
    NO_RATE = "NoRateForDestination"
    INSUFFICIENT_CREDIT = "InsufficientCredit"
    RESELLER_INSUFFICIENT_CREDIT = "ResellerInsufficientCredit"
    NO_ROUTE = "NoRoute"
    BOOTH_LOCKED = "BoothLocked"  # a call-shop booth locked or without an open session
    BOOTH_REQUIRED = "BoothRequired"  # a call shop's call that names none of its booths


@dataclass(frozen=True)
class AuthorizeRequest:
    number: str
    account: str = ""  # SIP peer (sip_username), accountcode, or login username
    callerid: str = ""  # the ANI
    pin: str = ""
    dnis: str = ""  # the access number the caller dialled in through
    uniqueid: str = ""  # Asterisk's channel UniqueID: how the CDR finds the reservation


@dataclass(frozen=True)
class Authorization:
    allowed: bool
    reason: Reason
    number: str = ""
    account_id: int | None = None
    reservation_id: int | None = None
    max_seconds: int = 0
    reserved: Decimal = ZERO
    trunks: tuple[TrunkChoice, ...] = field(default=())
    # The seconds `reserved` pays for: the first slice (the listener extends it).
    reserved_seconds: int = 0
    # Why not, in words, when the code alone does not say it (InsufficientCredit).
    detail: str = ""


class _Denied(Exception):
    def __init__(self, reason: Reason, account_id: int | None = None, detail: str = "") -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.account_id = account_id
        self.detail = detail


def authorize(
    uow: UnitOfWork,
    caller: Caller | None,
    req: AuthorizeRequest,
    now: datetime | None = None,
    policy: CreditPolicy = DEFAULT_POLICY,
) -> Authorization:
    """`caller` None is a trusted edge (FastAGI); a login may authorize only accounts of
    its own subtree (others answer UnknownAccount). `policy`: the slice and the minimum
    call (services/credit/policy.py)."""
    if not (req.account.strip() or req.callerid.strip() or req.pin.strip()):
        raise InvalidInput("give account, callerid or pin to identify the caller")
    moment = now or datetime.now(UTC)
    try:
        result = _authorize(uow.session, caller, req, moment, policy)
    except _Denied as denied:
        uow.commit()  # keeps what expiry did
        return Authorization(
            False, denied.reason, req.number, denied.account_id, detail=denied.detail
        )
    uow.commit()
    return result


def _authorize(
    session: Session,
    caller: Caller | None,
    req: AuthorizeRequest,
    now: datetime,
    policy: CreditPolicy,
) -> Authorization:
    try:
        number = normalise_number(req.number)
    except BillingError:
        number = ""
    if not number:
        raise _Denied(Reason.INVALID_NUMBER)
    account = identify(session, req)
    # Call shop (docs/callshop.md): a booth's peer stands for its shop; a locked booth may not call.
    account, refused = booth_gate(session, account, req.account)
    if refused:
        raise _Denied(Reason(refused[0]), account.id if account else None, refused[1])
    if account is None or (caller is not None and not caller.owns(account)):
        raise _Denied(Reason.UNKNOWN_ACCOUNT)
    chain = lock_chain(session, account)
    _check_statuses(chain)
    _check_restrictions(session, account, req)
    expire_due(session, now, [a.id for a in chain])
    _check_concurrent_calls(session, account)
    reserved = _reserved(session, [a.id for a in chain])
    seconds = _max_seconds(session, chain, reserved, number, now, policy)
    route = plan_route(session, number, now, chain[-1].rate_sheet_id)
    trunks = _claim_first_trunk(session, list(route.trunks))
    if not trunks:
        raise _Denied(Reason.NO_ROUTE, account.id)
    held = first_slice(seconds, policy.slice_for(account))
    reservation_id, amount = _reserve(
        session, chain, number, (seconds, held), now, req.uniqueid, trunks[0]
    )
    # Bundles (docs/bundles.md): hold each level's free seconds; the first stretch covers them.
    amount, held = bundle_credit.hold(
        session, chain, reservation_id, CallToRate(number, now, seconds), held, amount
    )
    return Authorization(
        True,
        Reason.OK,
        number,
        account.id,
        reservation_id,
        seconds,
        amount,
        tuple(trunks),
        reserved_seconds=held,
    )


def identify(session: Session, req: AuthorizeRequest) -> Account | None:
    """By PIN (a wrong PIN identifies nobody), else by SIP peer / accountcode / login
    username, else by a caller ID bound to the account."""
    pin, name, ani = req.pin.strip(), req.account.strip(), req.callerid.strip()
    if pin:
        return session.scalars(select(Account).where(Account.pin == pin)).first()
    if name:
        by_peer = Account.sip_username == name
        found = session.execute(
            select(Account, by_peer).where(or_(by_peer, Account.accountcode == name))
        ).all()
        if found:  # the SIP peer first, should one account's peer be another's code
            return max(found, key=lambda row: bool(row[1]))[0]
        login = session.scalars(
            select(Account)
            .join(Login, Login.account_id == Account.id)
            .where(Login.username == name)
        ).first()
        if login is not None:
            return login
    if not ani:
        return None
    return session.scalars(
        select(Account)
        .join(AccountCallerId, AccountCallerId.account_id == Account.id)
        .where(AccountCallerId.callerid == ani)
    ).first()


def lock_chain(session: Session, account: Account) -> list[Account]:
    """The account and every account above it except the admin, locked in that order
    (customer first, up to the root): the one order every writer of balances uses.
    One statement whatever the depth: PostgreSQL takes a FOR UPDATE query's row locks
    as its rows come out of the ORDER BY, and an ancestor's path is a strict prefix of
    its descendant's, so the longest path (the customer) is locked first."""
    # The path runs from the root, which is the admin; the admin is never locked (it
    # pays nobody, and every call would wait on its row).
    ids = [int(i) for i in account.path.strip("/").split("/") if i][1:]
    if not ids:
        raise _Denied(Reason.UNKNOWN_ACCOUNT)  # the admin itself places no billed calls
    chain = list(
        session.scalars(
            select(Account)
            .where(Account.id.in_(ids))
            .order_by(func.length(Account.path).desc())
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if len(chain) != len(ids):
        raise _Denied(Reason.UNKNOWN_ACCOUNT)  # a broken tree: refuse, never guess
    # Every level's sheet checked against its version in one statement, not one each.
    preload_plans(session, [a.rate_sheet_id for a in chain if a.rate_sheet_id is not None])
    return chain


def _check_statuses(chain: list[Account]) -> None:
    customer = chain[0]
    if customer.status == "blocked":
        raise _Denied(Reason.ACCOUNT_BLOCKED, customer.id)
    if customer.status != "active":
        raise _Denied(Reason.ACCOUNT_CLOSED, customer.id)
    if any(a.status != "active" for a in chain[1:]):
        raise _Denied(Reason.RESELLER_BLOCKED, customer.id)


def _check_restrictions(session: Session, account: Account, req: AuthorizeRequest) -> None:
    if account.restrict_ani:
        bound = session.execute(
            select(AccountCallerId.id).where(
                AccountCallerId.account_id == account.id,
                AccountCallerId.callerid == req.callerid.strip(),
            )
        ).first()
        if bound is None:
            raise _Denied(Reason.ANI_NOT_ALLOWED, account.id)
    allowed = {d.strip() for d in account.allowed_dnis.split(",") if d.strip()}
    if allowed and req.dnis.strip() not in allowed:
        raise _Denied(Reason.DNIS_NOT_ALLOWED, account.id)


def _check_concurrent_calls(session: Session, account: Account) -> None:
    if account.max_concurrent_calls is None:
        return
    calls = session.execute(
        select(func.count()).where(
            Reservation.account_id == account.id,
            Reservation.status == "open",
            Reservation.parent_id.is_(None),
        )
    ).scalar_one()
    if calls >= account.max_concurrent_calls:
        raise _Denied(Reason.CONCURRENT_CALL_LIMIT, account.id)


def _reserved(session: Session, account_ids: list[int]) -> dict[int, Decimal]:
    """What the open reservations of each account of the chain hold: one statement for
    the whole chain (the partial index ix_reservations_open_account holds only the open
    rows)."""
    rows = session.execute(
        select(Reservation.account_id, func.sum(Reservation.amount))
        .where(Reservation.account_id.in_(account_ids), Reservation.status == "open")
        .group_by(Reservation.account_id)
    ).all()
    return {int(a): Decimal(s) for a, s in rows}


def available(account: Account, reserved: Decimal) -> Decimal:
    limit = account.credit_limit if account.billing_type == "postpaid" else ZERO
    return account.balance + limit - reserved


def _max_seconds(
    session: Session,
    chain: list[Account],
    reserved: dict[int, Decimal],
    number: str,
    now: datetime,
    policy: CreditPolicy,
) -> int:
    """The longest call every level can pay for at its own sheet, within the caps; a
    level whose credit pays for less than its minimum call refuses the call."""
    customer = chain[0]
    seconds = customer.max_call_seconds or DEFAULT_MAX_CALL_SECONDS
    for level, account in enumerate(chain):
        if account.rate_sheet_id is None:
            raise _Denied(Reason.NO_RATE, customer.id)
        if level and account.max_call_seconds:
            seconds = min(seconds, account.max_call_seconds)
        plan = plan_for(session, account.rate_sheet_id)
        money = available(account, reserved.get(account.id, ZERO))
        try:
            # Bundles (docs/bundles.md): this level's free seconds first, then its money.
            cap, seconds = (
                seconds,
                bundle_credit.max_duration(
                    session, chain, account, plan, number, now, money, seconds
                ),
            )
            rate = plan.find_rate(number, now)
        except NoRateForDestination:
            raise _Denied(Reason.NO_RATE, customer.id) from None
        # The caps are not credit: a call capped below the minimum is not refused.
        minimum = max(1, min(policy.min_call_for(account, rate), cap))
        if seconds < minimum:
            short = Reason.RESELLER_INSUFFICIENT_CREDIT if level else Reason.INSUFFICIENT_CREDIT
            whose = "a reseller's credit" if level else "the credit"
            detail = f"{whose} pays for {seconds} s; the minimum call is {minimum} s"
            raise _Denied(short, customer.id, detail)
    return seconds


def _claim_first_trunk(session: Session, trunks: list[TrunkChoice]) -> list[TrunkChoice]:
    """Lock the first trunk that has a channel limit and count its open calls again
    under that lock: two calls authorized at once can't both take its last channel."""
    while trunks and (limit := trunks[0].channel_limit) is not None:
        first = trunks[0].trunk_id
        session.execute(select(Trunk.id).where(Trunk.id == first).with_for_update())
        if open_channels(session, [first]).get(first, 0) < limit:
            break
        trunks.pop(0)
    return trunks


def _reserve(
    session: Session,
    chain: list[Account],
    number: str,
    seconds: tuple[int, int],
    now: datetime,
    uniqueid: str,
    first: TrunkChoice,
) -> tuple[int, Decimal]:
    """One reservation per level, each holding the cost of the first slice at its own
    sheet, written by one INSERT (services/credit/reservation_rows.py). `seconds`: the
    call's max duration and its first slice. Returns the customer's row id and amount."""
    most, held = seconds
    call = CallToRate(number, now, held, True)
    expires = now + timedelta(seconds=held) + EXPIRY_MARGIN
    rows: list[dict[str, object]] = []
    costs: list[Decimal] = []
    for level, account in enumerate(chain):
        assert account.rate_sheet_id is not None  # checked by _max_seconds
        cost = plan_for(session, account.rate_sheet_id).rate_call(call).cost
        costs.append(cost)
        rows.append(
            {
                "account_id": account.id,
                "number": number,
                "amount": cost,
                "max_seconds": most,
                "reserved_seconds": held,
                "status": "open",
                "uniqueid": uniqueid[:64],
                "created_at": now,
                "expires_at": expires,
                "trunk_id": first.trunk_id if level == 0 else None,
            }
        )
    customer_id = insert_reservations(session, rows)
    return customer_id, costs[0]
