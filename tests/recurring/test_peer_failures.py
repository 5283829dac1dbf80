"""The failures seen in other billing systems' trackers, each made impossible here.

- a prepaid account never charged its DID fee;
- a level-2 reseller's DID fee going out as 0.00 (with an invoice due 1970-01-01);
- a monthly fee charged every day (after an upgrade) until the balance is gone;
- fees silently stopping after an upgrade.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from db import migrate
from db.recurring_schema import Did
from db.schema import LedgerEntry
from services.dids import assignment, inventory
from services.recurring.charging import charge_due
from tests.recurring.conftest import Tree, at
from tests.recurring.test_charging import charges as rows

D = Decimal
ROOT = Path(__file__).resolve().parents[2]


def new_did(tree: Tree, number: str = "34910000001", fee: str = "5.00") -> int:
    with tree.uow() as u:
        did = inventory.create_did(
            u,
            tree.caller("admin"),
            inventory.NewDid(
                number,
                tree.provider_id,
                setup_cost=D("0.50"),
                monthly_cost=D("1.50"),
                inbound_cost=D("0.002"),
                setup_fee=D("1.00"),
                monthly_fee=D(fee),
                inbound_price=D("0.01"),
            ),
        )
        return did.id


def assign(tree: Tree, did_id: int, when: str, who: str = "R2", to: str = "C") -> int:
    with tree.uow() as u:
        did = assignment.assign_did(u, tree.caller(who), did_id, tree.ids[to], at(when))
        assert did.subscription_id is not None
        return did.subscription_id


def test_a_prepaid_account_is_charged_its_did_fee(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    tree.pay("C", D("20.00"))
    sub = assign(tree, new_did(tree), "2027-01-10 14:00")
    charge_due(session_factory, at("2027-01-10 14:05"))
    customer = [(r.what, r.amount, r.status) for r in rows(session_factory, sub) if r.level == 0]
    assert customer == [("fee", D("5.00"), "paid"), ("setup", D("1.00"), "paid")]
    assert tree.balance("C") == D("14.00") == tree.ledger_sum("C")
    with session_factory() as s:
        refs = s.scalars(
            select(LedgerEntry.reference).where(
                LedgerEntry.account_id == tree.ids["C"], LedgerEntry.kind == "recurring"
            )
        ).all()
    assert sorted(r.split(" ", 2)[2] for r in refs) == [
        "fee 2027-01-10..2027-02-10",
        "setup 2027-01-10..2027-01-10",
    ]


def test_a_level_2_resellers_did_fee_is_charged_at_its_price_not_zero_at_every_level(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    did = new_did(tree, fee="5.00")
    now = at("2027-01-10 14:00")
    for who, fee, setup in (("R1", "7.00", "2.00"), ("R2", "9.00", "3.00")):
        with tree.uow() as u:
            assignment.set_did_price(u, tree.caller(who), did, D(fee), D(setup), D("0.02"), now)
    tree.pay("C", D("50.00"))
    sub = assign(tree, did, "2027-01-10 14:00")
    charge_due(session_factory, at("2027-01-10 14:05"))
    fees = [r for r in rows(session_factory, sub) if r.what == "fee"]
    assert [(r.level, r.account_id, r.amount) for r in fees] == [
        (0, tree.ids["C"], D("9.00")),
        (1, tree.ids["R2"], D("7.00")),
        (2, tree.ids["R1"], D("5.00")),
        (3, None, D("1.50")),  # the provider's rent: the operator's cost
    ]
    assert all(r.period_start == date(2027, 1, 10) for r in fees)
    assert all(r.period_end == date(2027, 2, 10) for r in fees)
    assert tree.balance("C") == D("38.00") == tree.ledger_sum("C")  # 9 + 3 setup
    assert tree.balance("R2") == D("-9.00") == tree.ledger_sum("R2")  # 7 + 2
    assert tree.balance("R1") == D("-6.00") == tree.ledger_sum("R1")  # 5 + 1


def test_a_monthly_fee_run_daily_for_31_days_is_charged_once(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    tree.pay("C", D("100.00"))
    did = new_did(tree)
    sub = assign(tree, did, "2027-03-01 09:00")
    day = at("2027-03-01 10:00")
    for n in range(31):
        if n == 15:  # an "upgrade" mid-period: a new price, which applies from April
            with tree.uow() as u:
                inventory.update_did(u, tree.caller("admin"), did, {"monthly_fee": D("8.00")})
        charge_due(session_factory, day + timedelta(days=n))
    fees = [r for r in rows(session_factory, sub) if r.what == "fee" and r.level == 0]
    assert [(r.period_start, r.amount) for r in fees] == [(date(2027, 3, 1), D("5.00"))]
    charge_due(session_factory, at("2027-04-01 00:10"))
    fees = [r for r in rows(session_factory, sub) if r.what == "fee" and r.level == 0]
    # ... and the fee does not stop after the upgrade either: April at the new price.
    assert [(r.period_start, r.amount) for r in fees] == [
        (date(2027, 3, 1), D("5.00")),
        (date(2027, 4, 1), D("8.00")),
    ]
    assert tree.balance("C") == D("86.00") == tree.ledger_sum("C")  # 5 + 1 + 8


def test_a_subscription_created_before_a_schema_upgrade_is_still_charged_after_db_upgrade(
    database_url: str, tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    tree.pay("C", D("20.00"))
    sub = assign(tree, new_did(tree), "2027-01-10 14:00")
    charge_due(session_factory, at("2027-01-10 14:05"))
    session_factory.kw["bind"].dispose()
    # Back to the schema that wrote it (later revisions, once merged, go down and up).
    migrate.downgrade(database_url, "0012")
    result = subprocess.run(
        [sys.executable, "-m", "cli", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "SIPTAR_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with session_factory() as s:
        assert s.execute(text("SELECT COUNT(*) FROM subscriptions")).scalar_one() == 1
    charge_due(session_factory, at("2027-02-10 00:01"))
    fees = [r.period_start for r in rows(session_factory, sub) if r.what == "fee" and r.level == 0]
    assert fees == [date(2027, 1, 10), date(2027, 2, 10)]
    with session_factory() as s:
        did = s.scalars(select(Did)).one()
        assert did.status == "assigned"
    assert tree.balance("C") == D("9.00") == tree.ledger_sum("C")
