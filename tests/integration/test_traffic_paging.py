"""GetTrafficStats' groups are paged by the database: the pages, in key order (ids as
numbers), walk exactly the whole list with its total, and a page sums only the calls of
its own groups; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.schema import Account, Cdr
from db.session import UnitOfWork
from services.cdr import traffic
from services.common.caller import Caller

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(days=30)
ACCOUNTS = 12  # past 9: ids 10.. would sort before 2 as text


def _world(uow: Callable[[], UnitOfWork]) -> Caller:
    with uow() as u:
        s = u.session
        admin = Account(role="admin", name="Operator", path="")
        s.add(admin)
        s.flush()
        admin.path = f"/{admin.id}/"
        for n in range(ACCOUNTS):
            account = Account(role="customer", name=f"c{n}", parent_id=admin.id, path="")
            s.add(account)
            s.flush()
            account.path = f"{admin.path}{account.id}/"
            for call in range(n % 3 + 1):  # 1 to 3 calls each, one outside the period
                start = START + timedelta(hours=n, minutes=call)
                s.add(
                    Cdr(
                        uniqueid=f"{n}.{call}",
                        account_id=account.id,
                        start_time=start,
                        answer_time=start,
                        end_time=start + timedelta(seconds=60),
                        billsec=60,
                        disposition="ANSWERED",
                        destination=f"Dest {n % 5}",
                    )
                )
            s.add(Cdr(uniqueid=f"{n}.late", account_id=account.id, start_time=END, end_time=END))
        u.commit()
        return Caller(0, "admin", admin.id, "admin", admin.path)


def test_pages_cut_by_the_database_walk_the_whole_list_in_key_order(
    uow: Callable[[], UnitOfWork], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = _world(uow)
    with uow() as u:
        whole, total = traffic.traffic_stats(u, admin, START, END, "account")
    assert total == len(whole) == ACCOUNTS
    keys = [int(r.key) for r in whole]
    assert keys == sorted(keys)
    assert sum(r.calls for r in whole) == sum(n % 3 + 1 for n in range(ACCOUNTS))

    summed: list[int] = []
    grouped = traffic._grouped

    def counting(*args: Any) -> Any:
        summed.append(len(args[3]))  # the calls read for this page
        return grouped(*args)

    monkeypatch.setattr(traffic, "_grouped", counting)
    pages = []
    for offset in range(0, ACCOUNTS, 5):
        with uow() as u:
            page, page_total = traffic.traffic_stats(u, admin, START, END, "account", offset, 5)
        assert page_total == ACCOUNTS
        pages.extend(page)
    assert [(r.key, r.calls, r.answered, r.billsec) for r in pages] == [
        (r.key, r.calls, r.answered, r.billsec) for r in whole
    ]
    assert summed == [sum(r.calls for r in whole[i : i + 5]) for i in range(0, ACCOUNTS, 5)]
    with uow() as u:
        assert traffic.traffic_stats(u, admin, START, END, "account", ACCOUNTS, 5) == ([], 12)
        by_destination, count = traffic.traffic_stats(u, admin, START, END, "destination", 1, 2)
    assert count == 5 and [r.key for r in by_destination] == ["Dest 1", "Dest 2"]
