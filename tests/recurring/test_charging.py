"""Recurring charges: once per (subscription, period, level), prorated, paid or unpaid."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import RecurringCharge, Subscription
from db.schema import LedgerEntry
from services.recurring import catalog, subscriptions
from services.recurring.charging import charge_due
from tests.recurring.conftest import Tree, at

D = Decimal


def monthly(tree: Tree, price: str = "30.00", policy: str = "suspend", **kw: object) -> int:
    with tree.uow() as u:
        new = catalog.NewService("Hosted PBX", "monthly", D(price), unpaid_policy=policy, **kw)  # type: ignore[arg-type]
        service = catalog.create_service(u, tree.caller("admin"), new)
        u.commit()
        return service.id


def set_price(tree: Tree, who: str, service_id: int, price: str, setup: str = "0") -> None:
    with tree.uow() as u:
        catalog.set_price(u, tree.caller(who), service_id, D(price), D(setup))
        u.commit()


def subscribe(tree: Tree, service_id: int, start: str, who: str = "R2", account: str = "C") -> int:
    with tree.uow() as u:
        sub = subscriptions.subscribe(u, tree.caller(who), tree.ids[account], service_id, at(start))
        return sub.id


def charges(factory: sessionmaker[Session], sub_id: int) -> list[RecurringCharge]:
    with factory() as s:
        return list(
            s.scalars(
                select(RecurringCharge)
                .where(RecurringCharge.subscription_id == sub_id)
                .order_by(RecurringCharge.period_start, RecurringCharge.what, RecurringCharge.level)
            )
        )


def test_each_level_pays_its_sellers_price_prorated_from_the_start(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "10.00")  # the admin's price to R1
    set_price(tree, "R1", service, "12.00")
    set_price(tree, "R2", service, "15.00", setup="5.00")
    tree.pay("C", D(100))
    sub = subscribe(tree, service, "2027-01-15 09:00")  # billing day 15: full periods
    charge_due(session_factory, at("2027-01-15 10:00"))
    rows = charges(session_factory, sub)
    assert [(r.what, r.level, r.amount) for r in rows] == [
        ("fee", 0, D("15.00")),
        ("fee", 1, D("12.00")),
        ("fee", 2, D("10.00")),
        ("setup", 0, D("5.00")),
    ]
    assert tree.balance("C") == D("80.00") == tree.ledger_sum("C")
    assert tree.balance("R2") == D("-12.00") == tree.ledger_sum("R2")
    assert tree.balance("R1") == D("-10.00") == tree.ledger_sum("R1")


def test_a_billing_day_of_the_1st_prorates_the_first_month_by_the_day(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "31.00")
    tree.pay("C", D(100))
    with tree.uow() as u:
        sub_id = subscriptions.subscribe(
            u, tree.caller("admin"), tree.ids["C"], service, at("2027-01-21 00:00"), billing_day=1
        ).id
    charge_due(session_factory, at("2027-01-21 12:00"))
    charge_due(session_factory, at("2027-02-01 00:00"))
    fees = [
        (r.period_start.isoformat(), r.days, r.amount)
        for r in charges(session_factory, sub_id)
        if r.level == 0
    ]
    # Jan 21..31 is 11 of 31 days; February is whole.
    assert fees == [("2027-01-01", 11, D("11.00")), ("2027-02-01", 28, D("31.00"))]


def test_a_worker_down_for_three_months_catches_up_every_period_in_order_and_says_so(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "9.99")
    tree.pay("C", D(100))
    sub = subscribe(tree, service, "2027-01-31 08:00", who="admin")
    report = charge_due(session_factory, at("2027-05-02 00:00"))
    starts = [r.period_start.isoformat() for r in charges(session_factory, sub) if r.level == 0]
    # A billing day of 31: February's period starts on the 28th.
    assert starts == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
    assert (
        report.overdue == 3 and "caught up 3 overdue periods since 2027-01-31" in report.summary()
    )
    assert tree.balance("C") == D("100") - 4 * D("9.99") == tree.ledger_sum("C")


def test_a_rerun_and_a_clock_moved_back_charge_nothing_twice(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "7.00")
    tree.pay("C", D(100))
    sub = subscribe(tree, service, "2027-03-10 08:00", who="admin")
    charge_due(session_factory, at("2027-04-10 00:00"))
    again = charge_due(session_factory, at("2027-04-10 00:00"))
    back = charge_due(session_factory, at("2027-03-01 00:00"))
    assert again.rows == 0 and back.rows == 0
    # Even with the cursor wound back by hand, the unique key holds.
    with session_factory() as s:
        s.get(Subscription, sub).charged_through = at("2027-03-10 00:00").date()  # type: ignore[union-attr]
        s.commit()
    replay = charge_due(session_factory, at("2027-04-10 00:00"))
    assert replay.rows == 0 and replay.skipped == 6
    assert len(charges(session_factory, sub)) == 6
    assert tree.balance("C") == D("86.00") == tree.ledger_sum("C")


def test_a_prepaid_account_that_cannot_pay_is_suspended_until_a_payment_covers_it(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "20.00")
    tree.pay("C", D("5.00"))
    sub = subscribe(tree, service, "2027-01-05 08:00", who="admin")
    report = charge_due(session_factory, at("2027-01-05 09:00"))
    assert report.unpaid == 1 and report.suspended == 1
    with session_factory() as s:
        assert s.get(Subscription, sub).status == "suspended"  # type: ignore[union-attr]
    assert tree.balance("C") == D("5.00")  # nothing taken: booked as unpaid
    charge_due(session_factory, at("2027-02-05 09:00"))  # the next period queues behind
    assert [r.status for r in charges(session_factory, sub) if r.level == 0] == ["unpaid"] * 2
    tree.pay("C", D("50.00"))
    resumed = charge_due(session_factory, at("2027-02-06 09:00"))
    assert resumed.resumed == 1
    with session_factory() as s:
        assert s.get(Subscription, sub).status == "active"  # type: ignore[union-attr]
    assert [r.status for r in charges(session_factory, sub) if r.level == 0] == ["paid"] * 2
    assert tree.balance("C") == D("15.00") == tree.ledger_sum("C")


def test_the_negative_policy_lets_a_prepaid_balance_go_below_zero(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "20.00", policy="negative")
    sub = subscribe(tree, service, "2027-01-05 08:00", who="admin")
    charge_due(session_factory, at("2027-01-05 09:00"))
    assert [r.status for r in charges(session_factory, sub)] == ["paid"] * 3
    assert tree.balance("C") == D("-20.00") == tree.ledger_sum("C")


def test_unsubscribing_inside_a_charged_period_credits_the_unused_days_once(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "30.00")
    set_price(tree, "R2", service, "31.00")
    tree.pay("C", D(100))
    sub = subscribe(tree, service, "2027-01-01 08:00")
    charge_due(session_factory, at("2027-01-01 09:00"))
    with tree.uow() as u:
        subscriptions.unsubscribe(
            u, tree.caller("R2"), sub, at("2027-01-11 00:00"), at("2027-01-05 00:00")
        )
    charge_due(session_factory, at("2027-03-01 09:00"))  # nothing after the end
    rows = charges(session_factory, sub)
    net = {}
    for r in rows:
        net[r.level] = net.get(r.level, D(0)) + r.amount
    # 10 of January's 31 days: 31.00 x 10/31 for C, 30.00 x 10/31 for R2 and R1.
    assert net == {0: D("10.00"), 1: D("9.68"), 2: D("9.68")}
    assert tree.balance("C") == D("90.00") == tree.ledger_sum("C")
    with session_factory() as s:
        kinds = s.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "recurring")
        )
    assert kinds == 6  # three fees, three credits


def test_a_period_is_not_charged_before_its_first_day(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "30.00")
    tree.pay("C", D(100))
    sub = subscribe(tree, service, "2027-01-10 08:00", who="admin")
    charge_due(session_factory, at("2027-01-10 09:00"))
    charge_due(session_factory, at("2027-02-10 00:00") - timedelta(seconds=1))
    assert len(charges(session_factory, sub)) == 3  # one period, three levels
