"""Paying recurring charges from balances, and the unpaid policy.

A level that can pay (prepaid: its balance; postpaid: balance + credit limit) pays at
once: a ledger row of kind `recurring` per charge row, in the same transaction. One
that can't, under the service's `suspend` policy, gets the row booked as `unpaid`
(no ledger row) and the subscription suspended; each later run of the job first pays
what has become payable, oldest first, and resumes the subscription once nothing of it
is owed. Under the `negative` policy the charge is always paid, and a prepaid balance
may go below zero: the operator chose that for the service; never silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from db import ledger
from db.recurring_schema import RecurringCharge, Subscription
from db.schema import Account
from services.recurring.keyed import rowcount

ZERO = Decimal(0)


@dataclass(frozen=True)
class PayOutcome:
    unpaid: int
    suspended: int


def reference(row: Any) -> str:
    """The ledger reference of a charge row: what an invoice line is built from."""
    return (
        f"recurring_charge:{row.id} subscription:{row.subscription_id} {row.what} "
        f"{row.period_start.isoformat()}..{row.period_end.isoformat()}"
    )


def _available(session: Session, account_ids: Sequence[int]) -> dict[int, Decimal]:
    rows = session.execute(
        select(Account.id, Account.balance, Account.credit_limit, Account.billing_type)
        .where(Account.id.in_(sorted(account_ids)))
        # The one lock order of balances (services/credit/holds.py): deepest first.
        .order_by(func.length(Account.path).desc(), Account.id)
        .with_for_update()
    ).all()
    return {
        r.id: r.balance + (r.credit_limit if r.billing_type == "postpaid" else ZERO) for r in rows
    }


def pay_new_charges(
    session: Session,
    new: Sequence[Row[Any]],
    states: Mapping[int, tuple[str, bool]],
    now: datetime,
) -> PayOutcome:
    """`new`: charge rows just inserted; `states`: per subscription (unpaid policy,
    suspended already). A suspended subscription's new rows queue behind its debt."""
    owed = [r for r in new if r.account_id is not None and r.amount != 0]
    available = _available(session, list({r.account_id for r in owed}))
    postings: list[ledger.Posting] = []
    unpaid: list[int] = []
    suspend: set[int] = set()
    for row in sorted(owed, key=lambda r: (r.account_id, r.subscription_id, r.id)):
        policy, suspended = states[row.subscription_id]
        pays = policy == "negative" or (
            not suspended
            and row.subscription_id not in suspend
            and (row.amount <= 0 or row.amount <= available[row.account_id])
        )
        if pays:
            available[row.account_id] -= row.amount
            postings.append(
                ledger.Posting(row.account_id, "recurring", -row.amount, reference(row))
            )
        else:
            unpaid.append(row.id)
            suspend.add(row.subscription_id)
    ledger.post_batch(session, postings)
    if unpaid:
        session.execute(
            update(RecurringCharge)
            .where(RecurringCharge.id.in_(unpaid))
            .values(status="unpaid", paid_at=None),
            execution_options={"synchronize_session": False},
        )
    suspended_now = 0
    if suspend:
        suspended_now = rowcount(
            session.execute(
                update(Subscription)
                .where(Subscription.id.in_(suspend), Subscription.status == "active")
                .values(status="suspended"),
                execution_options={"synchronize_session": False},
            )
        )
    return PayOutcome(len(unpaid), suspended_now)


def settle_unpaid(session: Session, now: datetime, account_ids: Sequence[int] = ()) -> int:
    """Pay the unpaid charges that balances now cover (oldest subscription debt first,
    all of a subscription's debt of one account at once) and resume the subscriptions
    left owing nothing. Returns how many were resumed. `account_ids`: only the debt of
    these accounts (a payment just made); empty: everybody's (the job)."""
    unpaid = RecurringCharge.status == "unpaid"
    if account_ids:
        unpaid = unpaid & RecurringCharge.account_id.in_(sorted(account_ids))
    owing = session.scalars(select(RecurringCharge.account_id).where(unpaid).distinct()).all()
    if not owing:
        return 0
    # Lock the accounts first, then read their debt: a concurrent run that paid it
    # meanwhile has committed by the time the lock is ours, so nothing is paid twice.
    available = _available(session, [a for a in owing if a is not None])
    rows = session.scalars(select(RecurringCharge).where(unpaid).order_by(RecurringCharge.id)).all()
    groups: dict[tuple[int, int], list[RecurringCharge]] = {}
    for r in rows:
        assert r.account_id is not None
        groups.setdefault((r.account_id, r.subscription_id), []).append(r)
    postings: list[ledger.Posting] = []
    paid: list[int] = []
    for (account_id, _sub), charges in groups.items():
        total = sum((c.amount for c in charges), ZERO)
        if total > available[account_id]:
            continue
        available[account_id] -= total
        for c in charges:
            postings.append(ledger.Posting(account_id, "recurring", -c.amount, reference(c)))
            paid.append(c.id)
    if not paid:
        return 0
    ledger.post_batch(session, postings)
    session.execute(
        update(RecurringCharge)
        .where(RecurringCharge.id.in_(paid))
        .values(status="paid", paid_at=now),
        execution_options={"synchronize_session": False},
    )
    still_owing = select(RecurringCharge.subscription_id).where(RecurringCharge.status == "unpaid")
    return rowcount(
        session.execute(
            update(Subscription)
            .where(
                Subscription.status == "suspended",
                Subscription.id.in_({c.subscription_id for c in rows}),
                Subscription.id.not_in(still_owing),
            )
            .values(status="active"),
            execution_options={"synchronize_session": False},
        )
    )


def settle_after_payment(session: Session, account_id: int, now: datetime) -> int:
    """Called in the payment's own transaction, after its ledger row: the account's
    unpaid fees that the new balance covers are paid at once, and the subscriptions
    (a suspended DID) resume now rather than at the job's next run."""
    return settle_unpaid(session, now, [account_id])
