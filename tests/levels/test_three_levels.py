"""admin -> R1 -> R2 -> customers: calls from a captured Asterisk session, replayed
over TCP into the AMI listener, charge every level at its own sheet; profit per level
is what its children paid minus what it paid, to the last digit; balances = ledgers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from db.ledger import ledger_sum
from db.schema import Account, Charge
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
PERIOD = {
    "period_start": datetime(2026, 11, 1, tzinfo=UTC),
    "period_end": datetime(2026, 12, 1, tzinfo=UTC),
}


def per_30s(price_per_minute: Decimal) -> Decimal:
    """Every answered call of the session bills 30 s; sheets round half-up to 4."""
    return (price_per_minute / 2).quantize(D("0.0001"), rounding=ROUND_HALF_UP)


def six(x: Decimal) -> Decimal:
    return x.quantize(D("0.000001"), rounding=ROUND_HALF_UP)


# R1 pays the admin's cost sheet; R2 pays R1's +20 %; C1/C2 pay R2's +10 % +0.001.
COST = {"34": D("0.013333"), "44": D("0.010007"), "61": D("0.025001"), "1": D("0.011111")}
R2_PRICE = {p: six(c * D("1.2")) for p, c in COST.items()}
RETAIL = {p: six(c * D("1.1") + D("0.001")) for p, c in R2_PRICE.items()}
# The session: C1 (acct1001) two Spain calls, C2 (acct1002) UK and Australia,
# Carol (acct1003, the admin's customer) USA; each 30 s.
CALLS = {"C1": ["34", "34"], "C2": ["44", "61"], "Carol": ["1"]}
# What the provider behind the session's trunk (`pstn-sim`) charges the operator.
BUY = {"34": D("0.008"), "44": D("0.006"), "61": D("0.02"), "1": D("0.005")}
BUY_DECK = "prefix,destination,price,initial_increment,increment\n" + "".join(
    f"{p},buy {p},{price},30,6\n" for p, price in BUY.items()
)


def add_provider(tree: Tree) -> None:
    """The trunk the captured session's calls left by, with its provider's buy sheet."""
    config = tree.api("admin").config
    sheet = config.CreateRateSheet(sheet={"name": "Sim buy"}).id
    config.ImportRates(sheet_id=sheet, csv=BUY_DECK)
    provider = config.CreateProvider(name="Sim", buy_sheet_id=sheet).id
    config.CreateTrunk(
        trunk={
            "provider_id": provider,
            "name": "pstn-sim",
            "dial_string": "Local/${NUMBER}@pstn-sim",
        }
    )


def sum_ledger_pages(api: SiptarClient, account_id: int) -> Decimal:
    total, offset = D(0), 0
    while True:
        page = api.billing.ListLedger(account_id=account_id, offset=offset, limit=2)
        total += sum((e.amount for e in page.items), D(0))
        offset += len(page.items)
        if offset >= page.total:
            return total


class TestThreeLevels:
    async def test_a_call_charges_every_level_at_its_own_sheet(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        before = {
            k: tree.api("admin").billing.GetBalance(account_id=v).balance
            for k, v in tree.ids.items()
        }
        await replay(session_factory)
        admin = tree.api("admin")
        after = {k: admin.billing.GetBalance(account_id=v).balance for k, v in tree.ids.items()}
        spent = {k: before[k] - after[k] for k in tree.ids}
        c1 = 2 * per_30s(RETAIL["34"])
        c2 = per_30s(RETAIL["44"]) + per_30s(RETAIL["61"])
        r2 = 2 * per_30s(R2_PRICE["34"]) + per_30s(R2_PRICE["44"]) + per_30s(R2_PRICE["61"])
        r1 = 2 * per_30s(COST["34"]) + per_30s(COST["44"]) + per_30s(COST["61"])
        assert (spent["C1"], spent["C2"], spent["R2"], spent["R1"]) == (c1, c2, r2, r1)
        assert spent["Carol"] == per_30s(COST["1"])
        assert (spent["X"], spent["XC"]) == (0, 0)
        # Sign convention: the postpaid customer and reseller go below zero.
        assert after["C2"] == -c2 and after["R2"] == -r2
        assert after["C1"] == D("10") - c1 and after["R1"] == D("100") - r1
        with session_factory() as s:
            levels = sorted(
                (lv, acc)
                for lv, acc in s.execute(
                    select(Charge.level, Charge.account_id).where(Charge.cost > 0)
                )
            )
        ids = tree.ids
        assert levels == sorted(
            [(0, ids["C1"])] * 2
            + [(0, ids["C2"])] * 2
            + [(0, ids["Carol"])]
            + [(1, ids["R2"])] * 4
            + [(2, ids["R1"])] * 4
        )

    async def test_profit_per_level_is_what_children_paid_minus_what_it_paid(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        add_provider(tree)
        await replay(session_factory)
        c1 = 2 * per_30s(RETAIL["34"])
        c2 = per_30s(RETAIL["44"]) + per_30s(RETAIL["61"])
        r2 = 2 * per_30s(R2_PRICE["34"]) + per_30s(R2_PRICE["44"]) + per_30s(R2_PRICE["61"])
        r1 = 2 * per_30s(COST["34"]) + per_30s(COST["44"]) + per_30s(COST["61"])
        carol = per_30s(COST["1"])
        p2 = tree.api("R2").reseller.GetProfit(**PERIOD)
        assert (p2.children_paid, p2.paid, p2.profit) == (c1 + c2, r2, c1 + c2 - r2)
        p1 = tree.api("R1").reseller.GetProfit(**PERIOD)
        assert (p1.children_paid, p1.paid, p1.profit) == (r2, r1, r2 - r1)
        # R1 may look at R2's level too; R2 may not look at R1's.
        assert tree.api("R1").reseller.GetProfit(account_id=tree.ids["R2"], **PERIOD).profit == (
            c1 + c2 - r2
        )
        with pytest.raises(errors.NotFound):
            tree.api("R2").reseller.GetProfit(account_id=tree.ids["R1"], **PERIOD)
        # The operator pays its provider: every answered, rated call once, at the buy sheet.
        bought = sum((per_30s(BUY[p]) for calls in CALLS.values() for p in calls), D(0))
        p0 = tree.api("admin").reseller.GetProfit(**PERIOD)
        assert (p0.children_paid, p0.paid, p0.profit) == (r1 + carol, bought, r1 + carol - bought)
        by_dest = tree.api("admin").reseller.GetProfit(group_by="destination", **PERIOD)
        spain = next(x for x in by_dest.lines if x.key == "Spain")
        assert (spain.calls, spain.paid) == (2, 2 * per_30s(BUY["34"]))

    async def test_profit_groups_add_up_to_the_total(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        r2 = tree.api("R2").reseller
        total = r2.GetProfit(**PERIOD).profit
        by_dest = r2.GetProfit(group_by="destination", **PERIOD)
        assert {x.key for x in by_dest.lines} == {"Spain", "United Kingdom", "Australia"}
        spain = next(x for x in by_dest.lines if x.key == "Spain")
        assert spain.calls == 2
        assert spain.profit == 2 * (per_30s(RETAIL["34"]) - per_30s(R2_PRICE["34"]))
        by_account = r2.GetProfit(group_by="account", **PERIOD)
        assert [x.key for x in by_account.lines] == [f"{tree.ids['C1']} C1", f"{tree.ids['C2']} C2"]
        by_day = r2.GetProfit(group_by="day", **PERIOD)
        assert [x.key for x in by_day.lines] == ["2026-11-22"]
        for report in (by_dest, by_account, by_day):
            assert sum((x.profit for x in report.lines), D(0)) == total == report.profit

    async def test_every_balance_equals_the_sum_of_its_ledger(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        r1 = tree.api("R1")
        r1.billing.AddPayment(account_id=tree.ids["R2"], amount=D("25.5"))
        tree.api("R2").billing.AddAdjustment(
            account_id=tree.ids["C1"], amount=D("-0.000001"), reference="rounding"
        )
        with session_factory() as s:
            accounts = s.scalars(select(Account)).all()
            assert len(accounts) == 8
            for account in accounts:
                assert ledger_sum(s, account.id) == account.balance, account.name
        admin = tree.api("admin")
        for name in ("R1", "R2", "C1", "C2"):
            balance = admin.billing.GetBalance(account_id=tree.ids[name]).balance
            assert sum_ledger_pages(admin, tree.ids[name]) == balance, name
