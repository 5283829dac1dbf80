"""Create and list bundles; assign them to the accounts right below their owner, in a
declared order. Spyne-free. See docs/bundles.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from db.bundle_schema import AccountBundle, Bundle
from db.paging import page_rows, page_scalars
from db.recurring_schema import Subscription
from db.schema import Account
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from services.common.caller import Caller, managed_account, require_role
from services.recurring.catalog import sellable_service
from services.recurring.subscriptions import end_subscription, start_subscription, utc_day

UNITS = ("seconds", "calls")
BUNDLE_PERIODS = ("daily", "weekly", "monthly")
MAX_QUANTITY = 10**9
MAX_PREFIXES = 1000


@dataclass(frozen=True)
class NewBundle:
    name: str
    quantity: int
    unit: str = "seconds"
    period: str = "monthly"
    prefixes: tuple[str, ...] = ()  # empty: every destination
    per_second: bool = False
    carry_over: bool = False
    inbound: bool = False
    service_id: int | None = None


def prefix_list(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split(",") if p)


def _check(new: NewBundle) -> tuple[str, str]:
    name = new.name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("name: 1 to 128 characters")
    if new.unit not in UNITS:
        raise InvalidInput(f"unit: one of {', '.join(UNITS)}")
    if new.period not in BUNDLE_PERIODS:
        raise InvalidInput(f"period: one of {', '.join(BUNDLE_PERIODS)}")
    if not 1 <= new.quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity: 1 to {MAX_QUANTITY:,}")
    if len(new.prefixes) > MAX_PREFIXES:
        raise InvalidInput(f"prefixes: at most {MAX_PREFIXES}")
    for p in new.prefixes:
        if not (p.isascii() and p.isdigit() and len(p) <= 20):
            raise InvalidInput(f"prefixes: {p!r} is not 1 to 20 digits")
    return name, ",".join(sorted(set(new.prefixes)))


def create_bundle(uow: UnitOfWork, caller: Caller, new: NewBundle) -> Bundle:
    """A bundle the caller sells to the accounts right below it. Its price, if any, is
    the service `service_id` (one the caller may sell): holding the bundle subscribes."""
    require_role(caller, "admin", "reseller")
    name, prefixes = _check(new)
    if new.service_id is not None:
        service = sellable_service(uow, caller, new.service_id)
        if service.kind != "service" or not service.active:
            raise NotFound(f"service {new.service_id} not found")
    bundle = Bundle(
        owner_id=caller.account_id,
        name=name,
        unit=new.unit,
        quantity=new.quantity,
        period=new.period,
        prefixes=prefixes,
        per_second=new.per_second,
        carry_over=new.carry_over,
        inbound=new.inbound,
        service_id=new.service_id,
    )
    uow.session.add(bundle)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"a bundle named {name!r} exists already") from None
    uow.commit()
    return bundle


def list_bundles(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[Bundle], int]:
    """The caller's own bundles (what it sells), by id."""
    require_role(caller, "admin", "reseller")
    query = select(Bundle).where(Bundle.owner_id == caller.account_id).order_by(Bundle.id)
    return page_scalars(uow.session, query, offset, limit)


def own_bundle(uow: UnitOfWork, caller: Caller, bundle_id: int) -> Bundle:
    bundle = uow.session.get(Bundle, bundle_id)
    if bundle is None or bundle.owner_id != caller.account_id:
        raise NotFound(f"bundle {bundle_id} not found")
    return bundle


def assign(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    bundle_id: int,
    position: int | None,
    start: datetime,
) -> AccountBundle:
    """Give one of the caller's bundles to an account right below it, from `start`'s
    UTC day; `position` orders the account's bundles (default: after the others)."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    bundle = own_bundle(uow, caller, bundle_id)
    if account.parent_id != caller.account_id:
        raise InvalidInput("a bundle is sold to the accounts right below its owner")
    if position is not None and not 0 <= position <= 1000:
        raise InvalidInput("position: 0 to 1000")
    if position is None:
        last = uow.session.scalar(
            select(func.max(AccountBundle.position)).where(AccountBundle.account_id == account.id)
        )
        position = 0 if last is None else int(last) + 1
    first = utc_day(start)
    held = AccountBundle(
        account_id=account.id,
        bundle_id=bundle.id,
        position=position,
        start=first,
        billing_day=first.day,
    )
    if bundle.service_id is not None:
        service = sellable_service(uow, caller, bundle.service_id)
        held.subscription_id = start_subscription(uow.session, account, service, first).id
    taken = f"account {account.id} holds bundle {bundle.id} already"  # read before a rollback
    uow.session.add(held)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(taken) from None
    uow.commit()
    return held


def _managed_holding(uow: UnitOfWork, caller: Caller, account_bundle_id: int) -> AccountBundle:
    held = uow.session.get(AccountBundle, account_bundle_id)
    account = None if held is None else uow.session.get(Account, held.account_id)
    if held is None or account is None or account.parent_id != caller.account_id:
        raise NotFound(f"account bundle {account_bundle_id} not found")
    return held


def unassign(
    uow: UnitOfWork, caller: Caller, account_bundle_id: int, end: datetime, now: datetime
) -> AccountBundle:
    """End an account's bundle at `end`'s UTC day (excluded), and its subscription with
    it (the unused days of a period charged already are credited, docs/recurring.md)."""
    require_role(caller, "admin", "reseller")
    held = _managed_holding(uow, caller, account_bundle_id)
    last = utc_day(end)
    if held.end is not None:
        raise InvalidInput(f"account bundle {held.id} is ended already")
    if last < held.start:
        raise InvalidInput("end: not before the bundle's start")
    held.end = last
    if held.subscription_id is not None:
        sub = uow.session.get(Subscription, held.subscription_id)
        if sub is not None and sub.end is None:
            end_subscription(uow.session, sub, last, now)
    uow.session.flush()
    uow.commit()
    return held


def list_account_bundles(
    uow: UnitOfWork, caller: Caller, account_id: int, offset: int, limit: int
) -> tuple[list[tuple[AccountBundle, Bundle]], int]:
    """An account's bundles (one below the caller, in its subtree), in consumption order."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    query = (
        select(AccountBundle, Bundle)
        .join(Bundle, Bundle.id == AccountBundle.bundle_id)
        .where(AccountBundle.account_id == account.id)
        .order_by(AccountBundle.position, AccountBundle.id)
    )
    rows, total = page_rows(uow.session, cast("Select[Any]", query), offset, limit)
    return [(r[0], r[1]) for r in rows], total


def active_on(held: AccountBundle, day: date) -> bool:
    return held.start <= day and (held.end is None or day < held.end)
