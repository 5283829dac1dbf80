"""The set-based payment of a batch (services/recurring/payment.pay_new_set and
db/ledger.post_selected), on both databases: the ledger rows the database writes itself
are those `post` would write (one per paid charge, its reference, a `balance_after`
that runs from the balance before to the balance after), and a batch that mixes accounts
that can pay with one that can't decides exactly as the row-by-row path does."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import RecurringCharge, Subscription
from db.schema import LedgerEntry
from services.recurring import catalog, payment
from services.recurring.charging import charge_due
from tests.recurring.conftest import Tree, at
from tests.recurring.test_charging import monthly, set_price, subscribe

D = Decimal


def _ledger(factory: sessionmaker[Session], account_id: int) -> list[LedgerEntry]:
    with factory() as s:
        return list(
            s.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.account_id == account_id)
                .order_by(LedgerEntry.id)
            )
        )


def _charges(factory: sessionmaker[Session]) -> list[RecurringCharge]:
    with factory() as s:
        return list(s.scalars(select(RecurringCharge).order_by(RecurringCharge.id)))


def test_set_based_ledger_rows_run_from_the_old_balance_with_each_charges_reference(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    pbx = monthly(tree, "10.00")
    with tree.uow() as u:
        fax_id = catalog.create_service(
            u, tree.caller("admin"), catalog.NewService("Fax line", "monthly", D("3.33"))
        ).id
        u.commit()
    set_price(tree, "R2", pbx, "12.50", setup="1.25")
    tree.pay("C", D("100.00"))
    subs = [
        subscribe(tree, pbx, "2027-01-15 09:00"),
        subscribe(tree, fax_id, "2027-01-20 09:00"),  # billing day 20: Jan 15 run: not due
    ]
    charge_due(session_factory, at("2027-01-20 10:00"))
    charge_due(session_factory, at("2027-02-20 10:00"))  # both due: two rows each for C

    rows = _charges(session_factory)
    paid = [r for r in rows if r.account_id is not None and r.status == "paid"]
    assert {r.subscription_id for r in paid} == set(subs)
    for name in ("C", "R2", "R1"):
        account_id = tree.ids[name]
        entries = [e for e in _ledger(session_factory, account_id) if e.kind == "recurring"]
        own = [r for r in paid if r.account_id == account_id]
        # One ledger row per paid charge, named by the charge's reference, for its amount.
        assert sorted((e.reference, e.amount) for e in entries) == sorted(
            (payment.reference(r), -r.amount) for r in own
        )
        # balance_after runs through every row of the account, in id order.
        running = D(0)
        for e in _ledger(session_factory, account_id):
            running += e.amount
            assert e.balance_after == running, (name, e.reference)
        assert tree.balance(name) == running == tree.ledger_sum(name)
    # C: 100 - (1.25 setup + 12.50 Jan 15 + 3.33 Jan 20 + 12.50 Feb 15 + 3.33 Feb 20).
    assert tree.balance("C") == D("100.00") - D("1.25") - 2 * D("12.50") - 2 * D("3.33")


def test_one_account_short_in_a_batch_is_decided_row_by_row_and_the_rest_paid(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    service = monthly(tree, "10.00")
    tree.add("C2", "R2", "customer", billing_type="prepaid")
    tree.add("C3", "R2", "customer", billing_type="prepaid")
    tree.pay("C", D("25.00"))  # two periods of 10.00 and change
    tree.pay("C2", D("15.00"))  # one period, not two
    tree.pay("C3", D("5.00"))  # not even one
    subs = {
        name: subscribe(tree, service, "2027-01-10 09:00", account=name)
        for name in ("C", "C2", "C3")
    }
    charge_due(session_factory, at("2027-02-10 10:00"))  # two periods due at once

    status = {
        (r.subscription_id, r.period_start.isoformat()): r.status
        for r in _charges(session_factory)
        if r.level == 0
    }
    assert status == {
        (subs["C"], "2027-01-10"): "paid",
        (subs["C"], "2027-02-10"): "paid",
        (subs["C2"], "2027-01-10"): "paid",
        (subs["C2"], "2027-02-10"): "unpaid",  # the money ran out after the first
        (subs["C3"], "2027-01-10"): "unpaid",
        (subs["C3"], "2027-02-10"): "unpaid",  # queued behind the first
    }
    with session_factory() as s:
        states = {i: s.get(Subscription, i).status for i in subs.values()}  # type: ignore[union-attr]
    assert states == {subs["C"]: "active", subs["C2"]: "suspended", subs["C3"]: "suspended"}
    assert [tree.balance(n) for n in ("C", "C2", "C3")] == [D("5.00"), D("5.00"), D("5.00")]
    for name in ("C", "C2", "C3", "R2", "R1"):
        assert tree.balance(name) == tree.ledger_sum(name), name
        running = D(0)
        for e in _ledger(session_factory, tree.ids[name]):
            running += e.amount
            assert e.balance_after == running, (name, e.reference)
