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

from sqlalchemy import BigInteger, Date, Row, String, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from db import ledger
from db.recurring_schema import RecurringCharge, Subscription
from db.schema import Account
from db.types import Money
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


def pay_new_set(
    session: Session, states: Mapping[int, tuple[str, bool]], now: datetime
) -> PayOutcome:
    """`pay_new_charges` for the batch's new rows in tmp_charge_new
    (services/recurring/charge_sets), with the same outcome, mostly in the database.

    Every row of a subscription that no account short of money touches, and that is
    not held (suspended under the `suspend` policy), would be paid by
    `pay_new_charges` (its account can pay all its rows at once): those rows are
    posted set-based (db/ledger.post_selected), nothing coming back to Python. The
    rest (`slow`: every row of a subscription with a row of such an account, or held)
    go through `pay_new_charges` row by row, so which rows go unpaid, and in what
    order an account's money runs out, is exactly what it decides."""
    postgres = session.get_bind().dialect.name == "postgresql"
    # The payers' row locks, in id order like every writer of balances.
    payers = "SELECT account_id FROM tmp_charge_new WHERE account_id IS NOT NULL"
    session.execute(
        text(
            f"SELECT id FROM accounts WHERE id IN ({payers}) ORDER BY id"
            + (" FOR UPDATE" if postgres else "")
        )
    )
    held = sorted(
        sub for sub, (policy, suspended) in states.items() if suspended and policy != "negative"
    )
    session.execute(
        text(
            "UPDATE tmp_charge_new SET slow = 1 WHERE subscription_id IN ("
            " SELECT n.subscription_id FROM tmp_charge_new AS n WHERE n.account_id IN ("
            f"  {_SHORT}) OR n.subscription_id IN :held)"
        ).bindparams(bindparam("held", expanding=True)),
        {"held": held},
    )
    ref = _REFERENCE_PG if postgres else _REFERENCE
    ledger.post_selected(
        session,
        f"SELECT n.account_id, -n.amount AS amount, {ref} AS reference,"
        " ROW_NUMBER() OVER (ORDER BY n.subscription_id, n.id) AS seq"
        " FROM tmp_charge_new AS n"
        " WHERE n.slow = 0 AND n.account_id IS NOT NULL AND n.amount <> 0",
        "recurring",
        {},
    )
    slow = session.execute(
        text(
            "SELECT id, subscription_id, account_id, amount, what, period_start, period_end"
            " FROM tmp_charge_new WHERE slow = 1 ORDER BY id"
        ).columns(
            id=BigInteger(),
            subscription_id=BigInteger(),
            account_id=BigInteger(),
            amount=Money(),
            what=String(),
            period_start=Date(),
            period_end=Date(),
        )
    ).all()
    return pay_new_charges(session, slow, states, now)


# The accounts that could not pay every new row of theirs at once (prepaid: the
# balance; postpaid: balance + credit limit), counting credits as nothing.
_SHORT = (
    "SELECT s.account_id FROM tmp_charge_new AS s JOIN accounts AS a ON a.id = s.account_id"
    " GROUP BY s.account_id, a.balance, a.credit_limit, a.billing_type"
    " HAVING SUM(CASE WHEN s.amount > 0 THEN s.amount ELSE 0 END) > a.balance"
    " + CASE WHEN a.billing_type = 'postpaid' THEN a.credit_limit ELSE 0 END"
)
# `reference()` in SQL. SQLite stores dates as ISO text; PostgreSQL's text form of a
# date depends on DateStyle, so it is spelt out there.
_REFERENCE = (
    "'recurring_charge:' || n.id || ' subscription:' || n.subscription_id || ' ' || n.what"
    " || ' ' || n.period_start || '..' || n.period_end"
)
_REFERENCE_PG = (
    "'recurring_charge:' || n.id || ' subscription:' || n.subscription_id || ' ' || n.what"
    " || ' ' || to_char(n.period_start, 'YYYY-MM-DD') || '..'"
    " || to_char(n.period_end, 'YYYY-MM-DD')"
)


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
