"""Account changes below you, price lists with the below-cost guard, and the money
operations on prepaid and postpaid accounts and resellers (one sign convention)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from db.ledger import ledger_sum
from db.schema import Account, LedgerEntry
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import PASSWORD, Tree

pytestmark = pytest.mark.e2e
D = Decimal
Client = Callable[[str, str], SiptarClient]


class TestAccountChanges:
    def test_update_changes_only_the_given_fields(self, tree: Tree) -> None:
        r2 = tree.api("R2").reseller
        c2 = r2.UpdateAccount(
            account_id=tree.ids["C2"],
            changes={"credit_limit": D("35"), "max_concurrent_calls": 3, "kind": "callshop"},
        )
        assert (c2.credit_limit, c2.max_concurrent_calls, c2.kind) == (D("35"), 3, "callshop")
        assert (c2.name, c2.billing_type, c2.accountcode) == ("C2", "postpaid", "acct1002")
        with pytest.raises(errors.InvalidInput, match="credit_limit"):
            r2.UpdateAccount(account_id=tree.ids["C1"], changes={"credit_limit": D("5")})

    def test_block_unblock_and_close_with_a_reason(self, tree: Tree, client_for: Client) -> None:
        r2 = tree.api("R2").reseller
        blocked = r2.BlockAccount(account_id=tree.ids["C1"], reason="unpaid invoice")
        assert (blocked.status, blocked.status_reason) == ("blocked", "unpaid invoice")
        with pytest.raises(errors.AuthenticationFailed):
            client_for("c1", PASSWORD).billing.GetBalance()
        assert r2.UnblockAccount(account_id=tree.ids["C1"]).status == "active"
        assert client_for("c1", PASSWORD).billing.GetBalance().balance == D(10)
        closed = r2.CloseAccount(account_id=tree.ids["C1"], reason="moved away")
        assert (closed.status, closed.balance) == ("closed", D(10))
        with pytest.raises(errors.InvalidInput, match="closed"):
            r2.UnblockAccount(account_id=tree.ids["C1"])
        with pytest.raises(errors.InvalidInput, match="closed"):
            tree.api("R2").billing.AddPayment(account_id=tree.ids["C1"], amount=D(1))
        with pytest.raises(errors.AccessDenied):
            r2.BlockAccount(account_id=tree.ids["R2"], reason="myself")

    def test_caller_ids_and_tech_details_are_bound_to_one_account(self, tree: Tree) -> None:
        r2 = tree.api("R2").reseller
        ids = r2.SetCallerIds(
            account_id=tree.ids["C1"], callerids=["+34911000111", "34911000222"], restrict_ani=True
        )
        assert (ids.callerids, ids.restrict_ani) == (["34911000111", "34911000222"], True)
        assert r2.ListCallerIds(account_id=tree.ids["C1"]).callerids == ids.callerids
        with pytest.raises(errors.AlreadyExists):
            r2.SetCallerIds(account_id=tree.ids["C2"], callerids=["34911000111"])
        tech = r2.SetTechDetails(
            account_id=tree.ids["C1"],
            tech={"sip_username": "c1-phone", "sip_secret": "s3cret-ph", "allowed_dnis": "900100"},
        )
        assert (tech.sip_username, tech.accountcode, tech.allowed_dnis) == (
            "c1-phone",
            "acct1001",
            "900100",
        )
        with pytest.raises(errors.AlreadyExists, match="sip_username"):
            r2.SetTechDetails(account_id=tree.ids["C2"], tech={"sip_username": "c1-phone"})
        with pytest.raises(errors.AlreadyExists, match="accountcode"):
            r2.SetTechDetails(account_id=tree.ids["C2"], tech={"accountcode": "acct1001"})

    def test_find_filters_the_subtree_by_every_field_given(self, tree: Tree) -> None:
        r1 = tree.api("R1").reseller
        tree.api("R2").reseller.BlockAccount(account_id=tree.ids["C2"], reason="fraud")
        found = r1.FindAccounts(where={"status": "blocked"})
        assert [(a.name, a.status_reason) for a in found.items] == [("C2", "fraud")]
        found = r1.FindAccounts(where={"role": "customer", "billing_type": "prepaid"})
        assert [a.name for a in found.items] == ["C1"]
        assert [a.name for a in r1.FindAccounts(where={"search": "acct1001"}).items] == ["C1"]
        assert r1.FindAccounts(limit=1).total == 3
        assert tree.api("R2").reseller.FindAccounts(where={"search": "acct1003"}).total == 0

    def test_customers_see_the_brand_of_their_nearest_reseller(self, tree: Tree) -> None:
        assert tree.api("C1").reseller.GetBranding().company_name == "R1 Telecom"
        tree.api("R2").reseller.SetBranding(company_name="R2 Calls")
        assert tree.api("C1").reseller.GetBranding().company_name == "R2 Calls"
        assert tree.api("XC").reseller.GetBranding().company_name == "X Phone"
        with pytest.raises(errors.AccessDenied):
            tree.api("C1").reseller.SetBranding(company_name="me")


class TestPriceLists:
    def test_a_markup_copy_prices_every_rate_from_the_source(self, tree: Tree) -> None:
        rates = tree.api("R2").reseller.ListSheetRates(sheet_id=tree.sheets["R2 retail"])
        spain = next(r for r in rates.items if r.prefix == "34")
        # R1 cost 0.013333 * 1.2 = 0.0159996 -> 0.016000; * 1.1 + 0.001 = 0.0186
        assert spain.price == D("0.018600")
        assert (spain.initial_increment, spain.increment) == (30, 6)

    def test_a_price_below_cost_is_refused_unless_forced(self, tree: Tree) -> None:
        r2 = tree.api("R2").reseller
        deck = "prefix,destination,price,initial_increment,increment\n34,Spain,0.0150,30,6\n"
        with pytest.raises(errors.BelowCost, match="prefix 34"):
            r2.SetRates(sheet_id=tree.sheets["R2 retail"], csv=deck)
        with pytest.raises(errors.BelowCost):
            r2.CopySheet(
                source_sheet_id=tree.sheets["R2 cost"], name="cheap", markup_percent=D("-10")
            )
        # A longer prefix is held to the cost of its longest match (34 here).
        with pytest.raises(errors.BelowCost, match="prefix 3491"):
            r2.SetRates(sheet_id=tree.sheets["R2 retail"], csv=deck.replace("\n34,", "\n3491,"))
        forced = r2.SetRates(sheet_id=tree.sheets["R2 retail"], csv=deck, force=True)
        assert forced.version == 2
        rates = r2.ListSheetRates(sheet_id=tree.sheets["R2 retail"], prefix="34")
        assert [(r.prefix, r.price) for r in rates.items] == [
            ("34", D("0.015")),
            ("346", D("0.055429")),
        ]

    def test_a_sheet_paid_by_you_is_not_yours_to_change(self, tree: Tree) -> None:
        with pytest.raises(errors.AccessDenied):
            tree.api("R2").reseller.SetRates(
                sheet_id=tree.sheets["R2 cost"], csv="prefix,price\n34,1\n"
            )

    def test_sheets_are_assigned_to_children_only(self, tree: Tree) -> None:
        r2 = tree.api("R2").reseller
        mine = r2.CopySheet(source_sheet_id=tree.sheets["R2 cost"], name="VIP", markup_percent=5)
        assert r2.AssignSheet(account_id=tree.ids["C1"], sheet_id=mine.id).rate_sheet_id == mine.id
        names = {s.name for s in r2.ListSheets().items}
        assert names == {"R2 cost", "R2 retail", "VIP"}
        # R1 may give R2 only a sheet of its own (or its own pay sheet), not R2's.
        with pytest.raises(errors.NotFound):
            tree.api("R1").reseller.AssignSheet(account_id=tree.ids["R2"], sheet_id=mine.id)


class TestMoneyBetweenLevels:
    def test_a_refill_never_changes_the_payers_own_balance(self, tree: Tree) -> None:
        r1 = tree.api("R1")
        r1.billing.AddPayment(account_id=tree.ids["R2"], amount=D("12.5"))
        tree.api("R2").billing.AddPayment(account_id=tree.ids["C2"], amount=D("2"))
        balances = {
            k: tree.api("admin").billing.GetBalance(account_id=tree.ids[k]).balance
            for k in ("R1", "R2", "C2")
        }
        assert balances == {"R1": D(100), "R2": D("12.5"), "C2": D(2)}

    def test_an_adjustment_may_reach_the_floor_but_not_pass_it(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        # Prepaid customer and reseller: 0; postpaid: minus the credit limit.
        floors = {"C1": D(0), "C2": D(-20), "R1": D(0), "R2": D(-50)}
        parents = {"C1": "R2", "C2": "R2", "R1": "admin", "R2": "R1"}
        for who, floor in floors.items():
            billing = tree.api(parents[who]).billing
            account_id = tree.ids[who]
            balance = billing.GetBalance(account_id=account_id).balance
            with pytest.raises(errors.InsufficientCredit):
                billing.AddAdjustment(
                    account_id=account_id, amount=floor - balance - D("0.000001"), reference="x"
                )
            entry = billing.AddAdjustment(
                account_id=account_id, amount=floor - balance, reference="x"
            )
            assert (entry.balance_after, entry.kind) == (floor, "adjustment"), who
            assert billing.AddAdjustment(account_id=account_id, amount=D(3), reference="y").amount
            payments = billing.ListPayments(account_id=account_id)
            assert [e.amount for e in payments.items][:2] == [D(3), floor - balance], who
        with session_factory() as s:
            for who, floor in floors.items():
                account = s.get(Account, tree.ids[who])
                assert account is not None and ledger_sum(s, account.id) == account.balance
                assert account.balance == floor + 3, who

    async def test_a_call_is_refunded_at_most_once(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        ledger = tree.api("R2").billing.ListLedger(account_id=tree.ids["C1"])
        call = next(e for e in ledger.items if e.kind == "call")
        cdr_id = _cdr_of(session_factory, call.id)
        billing = tree.api("R2").billing
        refunded = billing.Refund(account_id=tree.ids["C1"], amount=-call.amount, cdr_id=cdr_id)
        assert (refunded.kind, refunded.amount) == ("refund", -call.amount)
        with pytest.raises(errors.InvalidInput, match="left to refund"):
            billing.Refund(account_id=tree.ids["C1"], amount=D("0.0001"), cdr_id=cdr_id)
        with pytest.raises(errors.NotFound):
            billing.Refund(account_id=tree.ids["C2"], amount=D("0.0001"), cdr_id=cdr_id)


def _cdr_of(session_factory: Callable[[], Session], ledger_id: int) -> int:
    with session_factory() as s:
        entry = s.get(LedgerEntry, ledger_id)
        assert entry is not None and entry.cdr_id is not None
        return entry.cdr_id
