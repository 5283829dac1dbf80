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

What the chain holds is read from the locked account rows (`accounts.reserved`) and a
trunk's open calls from its row (`trunks.open_calls`), both kept by every writer of
reservations (services/credit/holds.py, which also states the one lock order: the
chain's accounts, then reservation rows, then trunks by id).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.schema import AccountCallerId, Reservation
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import BillingError, InvalidInput
from rating.onnet import ON_NET_NUMBER
from services.bundles import credit as bundle_credit
from services.callshop.booths import booth_gate
from services.common.caller import Caller
from services.credit.answers import Authorization, AuthorizeRequest, Reason
from services.credit.answers import Denied as _Denied
from services.credit.call_hold import TrunkTaken
from services.credit.chain_lock import LockedChain, identify_and_lock, lock_chain
from services.credit.chain_rating import rate_chain
from services.credit.expiry import expire_due
from services.credit.holds import add_open_calls, row_locks
from services.credit.identify import identify, identify_call
from services.credit.levels import Level
from services.credit.policy import DEFAULT_POLICY, CreditPolicy, PolicySource
from services.credit.reserve import CommitWithHold, claim_and_hold, price_hold, write_hold
from services.credit.route_cache import Live
from services.credit.routing import plan_route
from services.onnet.callee import Callee, find_callee
from services.onnet.plans import on_net_plans

__all__ = ["Authorization", "AuthorizeRequest", "Reason", "authorize", "identify"]

logger = logging.getLogger(__name__)

# The longest call an account without its own max_call_seconds may be authorized for.
DEFAULT_MAX_CALL_SECONDS = 3 * 3600


def authorize(
    uow: UnitOfWork,
    caller: Caller | None,
    req: AuthorizeRequest,
    now: datetime | None = None,
    policy: PolicySource = DEFAULT_POLICY,
) -> Authorization:
    """`caller` None is a trusted edge (FastAGI); a login may authorize only accounts of
    its own subtree (others answer UnknownAccount). `policy`: the slice and the minimum
    call (services/credit/policy.py), and whether the commit, which writes holds only,
    waits for the disk (`durable_holds`); a `PolicySource` is asked once the chain is
    locked, with the settings' stamp its lock statement read."""
    if not (req.account.strip() or req.callerid.strip() or req.pin.strip()):
        raise InvalidInput("give account, callerid or pin to identify the caller")
    moment = now or datetime.now(UTC)
    found = _Found(policy)
    try:
        try:
            result = _authorize(uow.session, caller, req, moment, found)
        except TrunkTaken:
            # The first trunk filled between the route and the hold that was to commit
            # with it: that statement failed whole, nothing was written. Again, with the
            # plain hold, which counts the trunks under their locks and takes the next.
            uow.rollback()
            found = _Found(policy, commit_with_hold=False)
            result = _authorize(uow.session, caller, req, moment, found)
    except _Denied as denied:
        # Keeps what expiry did. Refused before the lock (no policy asked for yet),
        # nothing was written: nothing a crash could lose, so no wait for the disk.
        uow.commit(wait_for_disk=found.policy.durable_holds if found.policy else False)
        return Authorization(
            False, denied.reason, req.number, denied.account_id, detail=denied.detail
        )
    assert found.policy is not None  # resolved before anything was written
    # Sends nothing when the hold committed with itself (call_hold.hold_and_commit).
    uow.commit(wait_for_disk=found.policy.durable_holds)
    return result


@dataclass
class _Found:
    """The policy source of one Authorize and, once its chain is locked, its policy;
    whether its hold may commit the transaction with itself (not after a TrunkTaken)."""

    source: PolicySource
    policy: CreditPolicy | None = None
    commit_with_hold: bool = True


def _authorize(
    session: Session,
    caller: Caller | None,
    req: AuthorizeRequest,
    now: datetime,
    found: _Found,
) -> Authorization:
    try:
        number = normalise_number(req.number)
    except BillingError:
        number = ""
    if not number:
        raise _Denied(Reason.INVALID_NUMBER)
    account, on_net, locked, live = _identify_and_lock(session, caller, req, number, now)
    chain = locked.chain
    policy = found.policy = found.source.at(session, locked.settings)
    _check_statuses(chain)
    _check_restrictions(session, account, req)
    # The trunks' part of what expires is applied with the claim: trunks locked by id.
    freed: Counter[int] = Counter()
    # Kept by every writer (holds.py), read by the lock; less what expiry frees now.
    reserved = {a.id: a.reserved for a in chain}
    if locked.due:  # else no reservation of the chain is due: no statement for it
        expire_due(session, now, [a.id for a in chain], trunks=freed, held=reserved)
    _check_concurrent_calls(session, account)
    # On-net (docs/onnet_callback.md): another account's number rings its peer, at on-net
    # prices. Looked up only when identify's statement did not rule it out.
    if on_net is not False and (callee := find_callee(session, number)) is not None:
        add_open_calls(session, freed)  # what expiry freed: no trunk is claimed
        return _on_net(session, chain, reserved, number, now, policy, req.uniqueid, callee)
    # Bundles (docs/bundles.md): the chain's counters locked, or none when no level has one.
    bundle_credit.open_chain(session, chain, now, locked.bundled)
    rated = rate_chain(
        session,
        chain,
        reserved,
        number,
        now,
        policy,
        policy.slice_for(account),
        price=not locked.bundled,
    )
    route = plan_route(session, number, now, chain[-1].rate_sheet_id, locked.routing, live, freed)
    if not route.trunks:
        add_open_calls(session, freed)  # what expiry freed: no trunk is claimed
        raise _Denied(Reason.NO_ROUTE, account.id)
    hold = price_hold(session, chain, number, rated, now, req.uniqueid, policy.expiry_margin)
    # The hold is the last statement: on PostgreSQL's ordinary call it also commits
    # (the ids taken by the lock statement), so the trunk's row is not held locked
    # while this thread waits to send a COMMIT of its own.
    commit = (
        CommitWithHold(locked.hold_ids, policy.durable_holds)
        if found.commit_with_hold and locked.hold_ids
        else None
    )
    trunks, reservation_id = claim_and_hold(session, list(route.trunks), freed, hold, commit)
    if reservation_id is None:
        raise _Denied(Reason.NO_ROUTE, account.id)
    amount, held = hold.costs[0], hold.held
    return Authorization(
        True,
        Reason.OK,
        number,
        account.id,
        reservation_id,
        rated.seconds,
        amount,
        tuple(trunks),
        reserved_seconds=held,
    )


def _identify_and_lock(
    session: Session, caller: Caller | None, req: AuthorizeRequest, number: str, now: datetime
) -> tuple[Level, bool | None, LockedChain, Live | None]:
    """Who calls, and its chain locked (services/credit/chain_lock.py): one statement on
    PostgreSQL for a caller named by SIP peer or accountcode (with the live figures of
    its route, when the process's routes are current), else identify's statements, the
    call shop's gate, then the lock's."""
    name, by_name = req.account.strip(), True
    if name and not req.pin.strip() and row_locks(session):
        owner = caller.path if caller is not None else ""
        found = identify_and_lock(session, name, number, owner, now)
        if found.locked is not None:
            return found.locked.chain[0], found.on_net, found.locked, found.live
        by_name = found.found  # nobody of that name: not asked again
    account, on_net = identify_call(session, req, number, by_name)
    # Call shop (docs/callshop.md): a booth's peer stands for its shop; a locked booth may not call.
    account, refused = booth_gate(session, account, req.account)
    if refused:
        raise _Denied(Reason(refused[0]), account.id if account else None, refused[1])
    if account is None or (caller is not None and not caller.owns(account)):
        raise _Denied(Reason.UNKNOWN_ACCOUNT)
    locked = lock_chain(session, account, now)
    return locked.chain[0], on_net, locked, None


def _check_statuses(chain: list[Level]) -> None:
    customer = chain[0]
    if customer.status == "blocked":
        raise _Denied(Reason.ACCOUNT_BLOCKED, customer.id)
    if customer.status != "active":
        raise _Denied(Reason.ACCOUNT_CLOSED, customer.id)
    if any(a.status != "active" for a in chain[1:]):
        raise _Denied(Reason.RESELLER_BLOCKED, customer.id)


def _check_restrictions(session: Session, account: Level, req: AuthorizeRequest) -> None:
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


def _check_concurrent_calls(session: Session, account: Level) -> None:
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


def _on_net(
    session: Session,
    chain: list[Level],
    reserved: dict[int, Decimal],
    number: str,
    now: datetime,
    policy: CreditPolicy,
    uniqueid: str,
    callee: Callee,
) -> Authorization:
    """An on-net call: no trunk, every level at its sheet's on-net price (rating/onnet.py)
    under the same credit rules; the whole call held at once, since the listener's slice
    extension prices at the ordinary sheet, which has no rate for an on-net number."""
    plans = on_net_plans(session, chain)
    try:  # the whole call is its first slice
        rated = rate_chain(session, chain, reserved, ON_NET_NUMBER, now, policy, 0, plans=plans)
    except _Denied as denied:  # said to be about the on-net price
        raise _Denied(denied.reason, denied.account_id, f"on-net: {denied.detail}") from None
    hold = price_hold(
        session, chain, number, rated, now, uniqueid, policy.expiry_margin, on_net=ON_NET_NUMBER
    )
    reservation_id, amount = write_hold(session, hold, None), hold.costs[0]
    return Authorization(
        True,
        Reason.OK,
        number,
        chain[0].id,
        reservation_id,
        rated.seconds,
        amount,
        (),
        reserved_seconds=rated.seconds,
        onnet_account_id=callee.account_id,
        dial_string=callee.dial_string,
    )
