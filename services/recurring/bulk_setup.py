"""Many customers with one subscription each, written set-based: for the benchmark
(bench/bench_recurring.py) and the tests that need thousands of subscriptions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from db import bulk, ledger
from db.recurring_schema import Subscription
from db.schema import Account


def customers_with_subscriptions(
    session: Session,
    parent: Account,
    service_id: int,
    count: int,
    start: date,
    credit: Decimal,
    tag: str = "bulk",
) -> list[int]:
    """`count` prepaid customers under `parent`, each with `credit` paid in and one
    subscription to `service_id` from `start`. Returns the customers' ids."""
    accounts = cast(Table, Account.__table__)
    bulk.insert_rows(
        session,
        accounts,
        [
            {"parent_id": parent.id, "path": "", "role": "customer", "name": f"{tag}-{i}"}
            for i in range(count)
        ],
    )
    ids = list(
        session.scalars(
            select(Account.id)
            .where(Account.parent_id == parent.id, Account.name.like(f"{tag}-%"))
            .order_by(Account.id)
        )
    )
    session.execute(
        accounts.update()
        .where(accounts.c.id.in_(ids))
        .values(path=parent.path + cast(str, accounts.c.id.cast(accounts.c.path.type)) + "/")
    )
    if credit:
        ledger.post_many(session, dict.fromkeys(ids, credit), "payment", reference="bulk setup")
    bulk.insert_rows(
        session,
        cast(Table, Subscription.__table__),
        [
            {
                "account_id": i,
                "service_id": service_id,
                "start": start,
                "billing_day": start.day,
                "charged_through": start,
                "status": "active",
            }
            for i in ids
        ],
    )
    return ids
