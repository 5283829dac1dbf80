"""Subscribe, Unsubscribe, ListSubscriptions. Spyne-free.

Dates: a subscription runs over whole UTC days, from `start` (included) to `end`
(excluded). Unsubscribing inside a period that was already charged credits the unused
days of it, at every level, once (the credit row has its own unique key).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from db import ledger
from db.recurring_schema import CatalogService, RecurringCharge, Subscription
from db.schema import Account
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from rating.periods import Period, active_days, prorate
from services.common.caller import Caller, managed_account, require_role
from services.currency.recurring import refuse_mixed_currencies
from services.recurring.catalog import sellable_service
from services.recurring.keyed import insert_new
from services.recurring.levels import path_ids
from services.recurring.payment import reference

CHARGES = cast(Table, RecurringCharge.__table__)
RETURNED = [
    "id",
    "subscription_id",
    "account_id",
    "amount",
    "what",
    "status",
    "period_start",
    "period_end",
]


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def start_subscription(
    session: Session,
    account: Account,
    service: CatalogService,
    start: date,
    billing_day: int | None = None,
    did_id: int | None = None,
) -> Subscription:
    if service.owner_id not in path_ids(account.path)[:-1]:
        raise NotFound(f"service {service.id} not found")
    refuse_mixed_currencies(session, account)  # docs/currencies.md: one currency a chain
    day = billing_day or start.day
    if not 1 <= day <= 31:
        raise InvalidInput("billing_day: 1 to 31")
    sub = Subscription(
        account_id=account.id,
        service_id=service.id,
        start=start,
        billing_day=day,
        charged_through=start,
        did_id=did_id,
    )
    session.add(sub)
    session.flush()
    return sub


def subscribe(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    service_id: int,
    start: datetime,
    billing_day: int | None = None,
) -> Subscription:
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    service = sellable_service(uow, caller, service_id)
    if service.kind != "service" or not service.active:
        raise NotFound(f"service {service_id} not found")
    sub = start_subscription(uow.session, account, service, utc_day(start), billing_day)
    uow.commit()
    return sub


def visible_subscription(uow: UnitOfWork, caller: Caller, subscription_id: int) -> Subscription:
    sub = uow.session.get(Subscription, subscription_id)
    account = None if sub is None else uow.session.get(Account, sub.account_id)
    if sub is None or account is None or not caller.is_above(account):
        raise NotFound(f"subscription {subscription_id} not found")
    return sub


def unsubscribe(
    uow: UnitOfWork, caller: Caller, subscription_id: int, end: datetime, now: datetime
) -> Subscription:
    require_role(caller, "admin", "reseller")
    sub = visible_subscription(uow, caller, subscription_id)
    if sub.did_id is not None:
        raise InvalidInput("a DID's subscription ends with ReleaseDid")
    end_subscription(uow.session, sub, utc_day(end), now)
    uow.commit()
    return sub


def end_subscription(session: Session, sub: Subscription, end: date, now: datetime) -> None:
    """Set the end (excluded day) and credit the unused days of periods already charged."""
    if sub.end is not None:
        raise InvalidInput(f"subscription {sub.id} is ended already")
    if end < sub.start:
        raise InvalidInput("end: not before the subscription's start")
    sub.end = end
    if end <= utc_day(now):
        sub.status = "ended"
    session.flush()
    charged = session.scalars(
        select(RecurringCharge).where(
            RecurringCharge.subscription_id == sub.id,
            RecurringCharge.what == "fee",
            RecurringCharge.period_end > end,
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for fee in charged:
        days = active_days(Period(fee.period_start, fee.period_end), sub.start, end)
        exact = fee.exact_amount * days / fee.days if fee.days else fee.exact_amount
        _, billed = prorate(exact, 1, 1)
        if billed == fee.amount:
            continue
        rows.append(
            {
                "subscription_id": sub.id,
                "period_start": fee.period_start,
                "period_end": fee.period_end,
                "level": fee.level,
                "what": "credit",
                "account_id": fee.account_id,
                "provider_id": fee.provider_id,
                "days": days - fee.days,
                "period_days": fee.period_days,
                "exact_amount": exact - fee.exact_amount,
                "amount": billed - fee.amount,
                "status": fee.status,
                "created_at": now,
                "paid_at": now if fee.status == "paid" else None,
            }
        )
    new = insert_new(
        session,
        CHARGES,
        rows,
        RETURNED,
    )
    for row in new:
        if row.status == "paid" and row.account_id is not None:
            ledger.post(session, row.account_id, "recurring", -row.amount, reference=reference(row))


def list_subscriptions(
    uow: UnitOfWork, caller: Caller, account_id: int | None, offset: int, limit: int
) -> tuple[list[Subscription], int]:
    require_role(caller, "admin", "reseller")
    query = select(Subscription).join(Account, Account.id == Subscription.account_id)
    query = query.where(Account.path.startswith(caller.path), Account.id != caller.account_id)
    if account_id is not None:
        managed_account(uow.session, caller, account_id)  # NotFound outside the subtree
        query = query.where(Subscription.account_id == account_id)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = uow.session.scalars(query.order_by(Subscription.id).offset(offset).limit(limit))
    return list(rows), int(total or 0)
