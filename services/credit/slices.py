"""Extending the reservations of live calls, slice by slice (docs/credit_control.md).

Authorize reserves a first slice of a call's money (services/credit/policy.py). While
the call is up, the AMI listener calls `extend_due` in its periodic transaction: every
answered call of its Asterisk whose reserved seconds run out within `extend_ahead` gets
one more slice, at every level, as far as each level's money allows (never past the
call's max_seconds). All the calls due are handled together: one query finds them, the
accounts involved are locked once (deepest first, in Authorize's order),
and one UPDATE writes every new amount. An extension that adds nothing is *refused*:
the call keeps what it holds, and the listener hangs it up when those seconds have
passed (ami_listener/live.py).

Spyne-free. Issue 16 rewrites Authorize for speed on top of this: keep the decisions
(`due`, `extend_one`) in plain functions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from db.schema import Account, LiveCall, Reservation
from rating.bundles import Allowance
from rating.errors import BillingError
from rating.model import CallToRate
from rating.money import ZERO, quantize
from services.bundles import credit as bundle_credit
from services.bundles import holds as bundle_holds
from services.bundles.counters import counters
from services.credit.expiry import LONGEST_MARGIN
from services.credit.holds import add_reserved
from services.credit.policy import CreditPolicy, extend_ahead, extension_target
from services.credit.routing import plan_for, preload_plans
from services.currency import credit as fx_credit

logger = logging.getLogger(__name__)

# extend_ahead() is never more than this: what the first, unlocked query looks ahead.
_LOOKAHEAD = timedelta(seconds=60)


@dataclass
class Level:
    """One row of a call's reservation: the customer's, or a reseller's share."""

    reservation_id: int
    account_id: int
    amount: Decimal


@dataclass
class LiveReservation:
    """A live call's reservation, as `extend_due` decides on it."""

    reservation_id: int
    number: str
    created_at: datetime
    answered_at: datetime
    reserved_seconds: int
    max_seconds: int
    levels: list[Level]  # the customer first, then each reseller up
    # account id -> the bundle units the call holds at that level (docs/bundles.md)
    free: dict[int, list[Allowance]] = field(default_factory=dict)


@dataclass
class Extensions:
    extended: dict[int, int] = field(default_factory=dict)  # reservation id -> seconds
    refused: list[int] = field(default_factory=list)  # reservation ids


def elapsed(answered_at: datetime, now: datetime) -> int:
    return max(0, math.ceil((now - answered_at).total_seconds()))


def due(call: LiveReservation, now: datetime, slice_seconds: int) -> bool:
    """Is this call's reserved time running out (and is there more it may be given)?"""
    if slice_seconds <= 0 or call.reserved_seconds >= call.max_seconds:
        return False
    left = call.reserved_seconds - elapsed(call.answered_at, now)
    return left <= extend_ahead(slice_seconds)


def extend_one(
    session: Session,
    call: LiveReservation,
    now: datetime,
    slice_seconds: int,
    accounts: Mapping[int, Account],
    reserved: dict[int, Decimal],
) -> int:
    """The seconds the call's reservation can be extended to (its reserved_seconds if
    nothing can be added), and the new amount of each level in `call.levels`.
    `reserved`: each account's open reservations, updated in place."""
    target = extension_target(
        call.reserved_seconds, elapsed(call.answered_at, now), call.max_seconds, slice_seconds
    )
    seconds = target
    plans = []
    for level in call.levels:
        account = accounts[level.account_id]
        if account.rate_sheet_id is None:
            return call.reserved_seconds
        plan = plan_for(session, account.rate_sheet_id)
        # What this level holds for the call is its own, so it counts as available.
        money = _available(account, reserved.get(account.id, ZERO)) + level.amount
        try:
            # Currencies (docs/currencies.md): in the sheet's currency; no rate, no extension.
            money = fx_credit.money_in_sheet_currency(
                session, account, plan, money, call.created_at
            )
            offered = call.free.get(account.id)  # a bundled call: its held units first
            most = bundle_credit.extension_seconds(
                plan, call.number, call.created_at, money, seconds, offered
            )
            seconds = min(seconds, most)
        except BillingError:
            return call.reserved_seconds
        plans.append(plan)
    if seconds <= call.reserved_seconds:
        return call.reserved_seconds
    rated = CallToRate(call.number, call.created_at, seconds, True)
    for level, plan in zip(call.levels, plans, strict=True):
        cost = bundle_credit.extension_cost(plan, rated, call.free.get(level.account_id))
        # Currencies (docs/currencies.md): held in the account's currency.
        payer = accounts[level.account_id]
        cost = fx_credit.held_in_account_currency(session, payer, plan, cost, call.created_at)
        reserved[level.account_id] = reserved.get(level.account_id, ZERO) + cost - level.amount
        level.amount = cost
    return seconds


def _available(account: Account, reserved: Decimal) -> Decimal:
    limit = account.credit_limit if account.billing_type == "postpaid" else ZERO
    return account.balance + limit - reserved


def extend_due(session: Session, now: datetime, policy: CreditPolicy, asterisk: str) -> Extensions:
    """Extend every answered call of `asterisk` (live_calls.asterisk) whose slice runs
    out soon. In the caller's transaction; does not commit."""
    result = Extensions()
    candidates = session.execute(_candidates(now, asterisk)).all()
    if not candidates:
        return result
    account_ids = {a for _, a in candidates}
    levels = _levels(session, [r for r, _ in candidates])
    for rows in levels.values():
        account_ids.update(level.account_id for level in rows)
    accounts = _lock(session, account_ids)
    # Every level's sheet checked in one statement, not one per sheet (routing.plan_for).
    preload_plans(session, sorted({a.rate_sheet_id for a in accounts.values() if a.rate_sheet_id}))
    calls = _load(session, now, asterisk, [r for r, _ in candidates], levels)
    if bundle_credit.any_bundles(session):  # the units bundled calls hold, by level
        _held_units(session, calls)
    # What each account holds, from its locked row (kept by every writer, holds.py).
    reserved = {a.id: a.reserved for a in accounts.values()}
    grown: dict[int, Decimal] = {}
    changes = []
    for call in sorted(calls, key=lambda c: c.reservation_id):  # the oldest call first
        customer = accounts[call.levels[0].account_id]
        slice_seconds = policy.slice_for(customer)
        if not due(call, now, slice_seconds):
            continue
        before = [lv.amount for lv in call.levels]
        seconds = extend_one(session, call, now, slice_seconds, accounts, reserved)
        if seconds <= call.reserved_seconds:
            result.refused.append(call.reservation_id)
            continue
        result.extended[call.reservation_id] = seconds
        expires = call.answered_at + timedelta(seconds=seconds) + policy.expiry_margin
        changes += [
            (lv.reservation_id, quantize(lv.amount), seconds, expires) for lv in call.levels
        ]
        for lv, old in zip(call.levels, before, strict=True):
            grown[lv.account_id] = grown.get(lv.account_id, ZERO) + quantize(lv.amount) - old
    if changes:
        _write(session, changes)
        add_reserved(session, grown)  # the rows are open: read under the accounts' locks
    if result.refused:
        logger.info("credit: %d live call(s) could not be extended", len(result.refused))
    return result


def _held_units(session: Session, calls: Sequence[LiveReservation]) -> None:
    """Each bundled call's `free`: what its holds give it at each level, as allowances of
    exactly the held units, in consumption order, so the extension prices the rest of a
    bundled call as Authorize did and a call is not cut when its free part ends while its
    money still pays. For all the calls at once: one statement for their holds, and the
    counters of the accounts of the calls that hold any, per day of the calls' start
    (one day, but around midnight)."""
    held = bundle_holds.holds_of_calls(session, [c.reservation_id for c in calls])
    bundled = [c for c in calls if held.get(c.reservation_id)]
    days: dict[date, set[int]] = {}
    for call in bundled:
        day = call.created_at.astimezone(UTC).date()
        days.setdefault(day, set()).update(lv.account_id for lv in call.levels)
    found = {day: counters(session, sorted(ids), day) for day, ids in days.items()}
    for call in bundled:
        mine = held[call.reservation_id]
        of_day = found[call.created_at.astimezone(UTC).date()]
        call.free = {
            lv.account_id: [
                Allowance(
                    c.counter_id, c.unit, mine[c.counter_id], c.per_second, c.prefixes, c.inbound
                )
                for c in of_day[lv.account_id]
                if c.counter_id in mine
            ]
            for lv in call.levels
            if lv.account_id in of_day
        }


def _candidates(now: datetime, asterisk: str) -> Select[int, int]:
    """Open customer-level reservations of answered calls of this Asterisk that may be
    due; unlocked, and filtered on the index of open rows by expires_at: a reservation's
    expiry is its reserved end plus its margin, at most LONGEST_MARGIN."""
    return (
        select(Reservation.id, Reservation.account_id)
        .join(LiveCall, LiveCall.uniqueid == Reservation.uniqueid)
        .where(
            Reservation.status == "open",
            Reservation.expires_at <= now + LONGEST_MARGIN + _LOOKAHEAD,
            Reservation.parent_id.is_(None),
            Reservation.reserved_seconds < Reservation.max_seconds,
            LiveCall.answered_at.is_not(None),
            LiveCall.asterisk == asterisk,
        )
    )


def _levels(session: Session, ids: Sequence[int]) -> dict[int, list[Level]]:
    """The reseller rows of each call (by parent id), deepest reseller first."""
    found: dict[int, list[tuple[int, Level]]] = {}
    rows = session.execute(
        select(Reservation.id, Reservation.parent_id, Reservation.account_id, Account.path)
        .join(Account, Account.id == Reservation.account_id)
        .where(Reservation.parent_id.in_(ids))
    )
    for id_, parent_id, account_id, path in rows:
        assert parent_id is not None  # asked for
        found.setdefault(parent_id, []).append((-len(path), Level(id_, account_id, ZERO)))
    return {p: [lv for _, lv in sorted(rows_, key=lambda r: r[0])] for p, rows_ in found.items()}


def _lock(session: Session, ids: Iterable[int]) -> dict[int, Account]:
    """The accounts, locked deepest first (then by id), reloaded: the one total order
    that agrees with Authorize's (a customer before each reseller above it), so an
    extension and an Authorize never wait on each other in a cycle."""
    accounts = session.scalars(
        select(Account)
        .where(Account.id.in_(sorted(ids)))
        .order_by(func.length(Account.path).desc(), Account.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    return {a.id: a for a in accounts}


def _load(
    session: Session,
    now: datetime,
    asterisk: str,
    ids: Sequence[int],
    levels: Mapping[int, list[Level]],
) -> list[LiveReservation]:
    """The candidates read again under the account locks: a CDR settled meanwhile has
    closed its reservation, and is left alone."""
    amounts = dict(
        session.execute(
            select(Reservation.id, Reservation.amount).where(
                Reservation.parent_id.in_(ids), Reservation.status == "open"
            )
        ).all()
    )
    rows = session.execute(
        select(
            Reservation.id,
            Reservation.account_id,
            Reservation.amount,
            Reservation.number,
            Reservation.created_at,
            Reservation.reserved_seconds,
            Reservation.max_seconds,
            LiveCall.answered_at,
        )
        .join(LiveCall, LiveCall.uniqueid == Reservation.uniqueid)
        .where(
            Reservation.id.in_(ids),
            Reservation.status == "open",
            LiveCall.asterisk == asterisk,
            LiveCall.answered_at.is_not(None),
        )
    ).all()
    calls = []
    for id_, account_id, amount, number, created, held, most, answered in rows:
        resellers = levels.get(id_, [])
        if any(lv.reservation_id not in amounts for lv in resellers):
            continue  # half closed: being settled
        for lv in resellers:
            lv.amount = amounts[lv.reservation_id]
        customer = Level(id_, account_id, amount)
        assert answered is not None  # the query asks for answered calls
        calls.append(
            LiveReservation(id_, number, created, answered, held, most, [customer, *resellers])
        )
    return calls


RESERVATIONS = cast(Table, Reservation.__table__)
_EXTEND = (
    update(RESERVATIONS)
    .where(RESERVATIONS.c.id == bindparam("r_id"), RESERVATIONS.c.status == "open")
    .values(
        amount=bindparam("r_amount", type_=RESERVATIONS.c.amount.type),
        reserved_seconds=bindparam("r_seconds"),
        expires_at=bindparam("r_expires", type_=RESERVATIONS.c.expires_at.type),
    )
)
# PostgreSQL: the changes as four arrays, one statement whatever their number.
_EXTEND_ALL = text(
    "UPDATE reservations SET amount = x.amount, reserved_seconds = x.seconds, "
    "expires_at = x.expires FROM unnest(CAST(:ids AS bigint[]), "
    "CAST(:amounts AS numeric[]), CAST(:seconds AS integer[]), "
    "CAST(:expires AS timestamp[])) AS x (id, amount, seconds, expires) "
    "WHERE reservations.id = x.id AND reservations.status = 'open'"
)


def _write(session: Session, changes: list[tuple[int, Decimal, int, datetime]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _EXTEND_ALL,
            {
                "ids": [c[0] for c in changes],
                "amounts": [c[1] for c in changes],
                "seconds": [c[2] for c in changes],
                # stored as naive UTC (db.types.UtcDateTime)
                "expires": [c[3].astimezone(UTC).replace(tzinfo=None) for c in changes],
            },
        )
    else:
        session.execute(
            _EXTEND,
            [
                {"r_id": c[0], "r_amount": c[1], "r_seconds": c[2], "r_expires": c[3]}
                for c in changes
            ],
        )
    ids = {c[0] for c in changes}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Reservation) and obj.id in ids:
            session.expire(obj, ["amount", "reserved_seconds", "expires_at"])
