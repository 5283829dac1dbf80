"""Bundles over HTTP through client/: a level creates bundles and gives them, in order,
to the accounts right below it; the price is a service's (assigning subscribes);
GetBundleUsage shows a new period full; bad input answers a stable fault and changes
nothing. (Who may touch whose is in the isolation matrix.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from client import errors
from db.bundle_schema import Bundle, BundleCounter
from db.recurring_schema import Subscription
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
START = datetime(2026, 11, 15, tzinfo=UTC)


def test_a_reseller_sells_bundles_in_order_and_a_new_period_starts_full(
    tree: Tree, session_factory: Callable[[], Session]
) -> None:
    r2 = tree.api("R2").reseller
    service = r2.CreateService(service={"name": "Spain mobile 400", "price": D("4.00")}).id
    mobile = r2.CreateBundle(
        bundle={
            "name": "400 min Spain mobile",
            "quantity": 24000,
            "prefixes": ["346", "347"],
            "service_id": service,
        }
    )
    assert (mobile.unit, mobile.period, mobile.prefixes, mobile.per_second) == (
        "seconds",
        "monthly",
        ["346", "347"],
        False,
    )
    calls = r2.CreateBundle(
        bundle={"name": "10 calls a day", "quantity": 10, "unit": "calls", "period": "daily"}
    )
    assert calls.prefixes == [] and calls.service_id is None
    page = r2.ListBundles(limit=1)
    assert page.total == 2 and [b.id for b in page.items] == [mobile.id]

    c1 = tree.ids["C1"]
    first = r2.AssignBundle(account_id=c1, bundle_id=mobile.id, start=START)
    second = r2.AssignBundle(account_id=c1, bundle_id=calls.id, start=START)
    assert (first.position, second.position, first.start) == (0, 1, date(2026, 11, 15))
    assert first.subscription_id is not None and second.subscription_id is None
    held = r2.ListAccountBundles(account_id=c1)
    assert held.total == 2 and [h.name for h in held.items] == [mobile.name, calls.name]

    usage = tree.api("C1").billing.GetBundleUsage(day=date(2026, 12, 20))
    assert usage.account_id == c1
    assert [
        (u.name, u.period_start, u.period_end, u.quantity, u.consumed, u.remaining)
        for u in usage.items
    ] == [
        (mobile.name, date(2026, 12, 15), date(2027, 1, 15), 24000, 0, 24000),
        (calls.name, date(2026, 12, 20), date(2026, 12, 21), 10, 0, 10),
    ]
    # R2's parent sees it too, and asking twice makes no second counter.
    tree.api("R1").billing.GetBundleUsage(account_id=c1, day=date(2026, 12, 20))
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(BundleCounter)) == 2
        sub = s.get(Subscription, first.subscription_id)
        assert sub is not None and sub.service_id == service and sub.account_id == c1

    ended = r2.UnassignBundle(account_bundle_id=second.id, end=datetime(2026, 12, 21, tzinfo=UTC))
    assert ended.end == date(2026, 12, 21)
    later = tree.api("C1").billing.GetBundleUsage(day=date(2026, 12, 21))
    assert [u.name for u in later.items] == [mobile.name]


def test_quotecall_by_account_counts_its_bundles_and_takes_nothing(tree: Tree) -> None:
    """C1's sheet bills Spain 30 s then 6 s and has no connect fee: with 60 free seconds
    a 120 s call pays the 60 s after them, which bill like a whole 60 s call. By sheet
    the quote knows no account; nothing is held or consumed."""
    c1 = tree.api("C1").billing
    spain = {"number": "34911234567"}
    minute, two = c1.QuoteCall(duration=60, **spain), c1.QuoteCall(duration=120, **spain)
    assert two.cost > minute.cost > 0 and not two.bundle_seconds
    r2 = tree.api("R2").reseller
    free = r2.CreateBundle(bundle={"name": "1 min Spain", "quantity": 60, "prefixes": ["34"]})
    r2.AssignBundle(account_id=tree.ids["C1"], bundle_id=free.id, start=START)
    quoted = c1.QuoteCall(duration=120, **spain)
    assert (quoted.bundle_seconds, quoted.cost, quoted.billed_seconds) == (60, minute.cost, 60)
    by_sheet = c1.QuoteCall(sheet_id=quoted.sheet_id, duration=120, **spain)
    assert (by_sheet.cost, by_sheet.bundle_seconds or 0) == (two.cost, 0)
    (usage,) = c1.GetBundleUsage().items
    assert (usage.consumed, usage.reserved, usage.remaining) == (0, 0, 60)


def test_bad_bundles_answer_a_fault_and_change_nothing(
    tree: Tree, session_factory: Callable[[], Session]
) -> None:
    r2, r1 = tree.api("R2").reseller, tree.api("R1").reseller
    own = r2.CreateBundle(bundle={"name": "b", "quantity": 60}).id
    with pytest.raises(errors.AlreadyExists):
        r2.CreateBundle(bundle={"name": "b", "quantity": 60})
    with pytest.raises(errors.InvalidInput):
        r2.CreateBundle(bundle={"name": "   ", "quantity": 60})
    with pytest.raises((errors.InvalidInput, errors.SchemaValidationError)):
        r2.CreateBundle(bundle={"name": "c", "quantity": 0})
    with pytest.raises((errors.InvalidInput, errors.SchemaValidationError)):
        r2.CreateBundle(bundle={"name": "c", "quantity": 60, "prefixes": ["34x"]})
    # Sold to the level right below only: R1 can't give its bundle to R2's customer.
    r1_bundle = r1.CreateBundle(bundle={"name": "r1", "quantity": 60}).id
    with pytest.raises(errors.InvalidInput, match="right below"):
        r1.AssignBundle(account_id=tree.ids["C1"], bundle_id=r1_bundle, start=START)
    # Nor R2 its own twice to one account.
    r2.AssignBundle(account_id=tree.ids["C1"], bundle_id=own, start=START)
    with pytest.raises(errors.AlreadyExists):
        r2.AssignBundle(account_id=tree.ids["C1"], bundle_id=own, start=START)
    with pytest.raises(errors.AccessDenied):
        tree.api("C1").reseller.CreateBundle(bundle={"name": "mine", "quantity": 60})
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Bundle)) == 2
