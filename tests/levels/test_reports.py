"""GetCallSummary, ListPayments over a subtree and GetPaymentReport, over HTTP, on
calls replayed through the AMI listener: the sums equal the rows they sum."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from client import errors
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
NOVEMBER = {
    "period_start": datetime(2026, 11, 1, tzinfo=UTC),
    "period_end": datetime(2026, 12, 1, tzinfo=UTC),
}


class TestCallSummary:
    async def test_groups_add_up_to_the_calls_listed(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        r2 = tree.api("R2").cdr
        cdrs = r2.ListCdrs(limit=100).items
        by_day = r2.GetCallSummary(**NOVEMBER)
        assert [x.key for x in by_day.lines] == ["2026-11-22"]
        assert by_day.calls == len(cdrs)
        assert by_day.answered == sum(1 for c in cdrs if c.billsec > 0)
        assert by_day.billsec == sum(c.billsec for c in cdrs)
        assert by_day.cost == sum((c.cost for c in cdrs), D(0)) > 0
        by_dest = r2.GetCallSummary(group_by="destination", **NOVEMBER)
        spain = next(x for x in by_dest.lines if x.key == "Spain")
        assert (spain.calls, spain.answered, spain.billed_seconds) == (2, 2, 60)
        assert sum((x.cost for x in by_dest.lines), D(0)) == by_day.cost
        by_account = r2.GetCallSummary(group_by="account", **NOVEMBER)
        assert {x.key for x in by_account.lines} == {str(tree.ids["C1"]), str(tree.ids["C2"])}
        mine = tree.api("C1").cdr.GetCallSummary(group_by="account", **NOVEMBER)
        assert [x.key for x in mine.lines] == [str(tree.ids["C1"])]
        with pytest.raises(errors.NotFound):
            r2.GetCallSummary(account_id=tree.ids["XC"], **NOVEMBER)
        with pytest.raises(errors.InvalidInput):
            r2.GetCallSummary(
                period_start=NOVEMBER["period_end"], period_end=NOVEMBER["period_start"]
            )


class TestPayments:
    def test_a_reseller_lists_and_reports_the_payments_of_its_subtree(self, tree: Tree) -> None:
        r1, ids = tree.api("R1"), tree.ids
        r1.billing.AddPayment(account_id=ids["R2"], amount=D("25.5"), reference="wire")
        tree.api("R2").billing.AddPayment(account_id=ids["C2"], amount=D("3"), reference="cash")
        own = r1.billing.ListPayments()
        assert {e.account_id for e in own.items} == {ids["R1"]}
        page = r1.billing.ListPayments(subtree=True, limit=2)
        everything = r1.billing.ListPayments(subtree=True, limit=100)
        assert page.total == everything.total == len(everything.items) == 4
        # R1's initial credit, C1's initial credit, R2's and C2's payments.
        assert {e.account_id for e in everything.items} == {
            ids[n] for n in ("R1", "C1", "R2", "C2")
        }
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        period = {"period_start": today, "period_end": today + timedelta(days=1)}
        report = r1.billing.GetPaymentReport(group_by="account", **period)
        assert {(x.key, x.amount) for x in report.lines} == {
            (str(ids["R1"]), D("100")),
            (str(ids["C1"]), D("10")),
            (str(ids["R2"]), D("25.5")),
            (str(ids["C2"]), D("3")),
        }
        assert report.amount == D("138.5") == sum((e.amount for e in everything.items), D(0))
        by_day = r1.billing.GetPaymentReport(account_id=ids["R2"], **period)
        assert [(x.key, x.count, x.amount) for x in by_day.lines] == [
            (f"{today:%Y-%m-%d}", 3, D("38.5"))
        ]
        with pytest.raises(errors.NotFound):
            tree.api("R2").billing.GetPaymentReport(account_id=ids["R1"], **period)

    def test_a_redeemed_voucher_is_listed_and_reported_as_money_in(self, tree: Tree) -> None:
        r2, ids = tree.api("R2"), tree.ids
        lot = r2.reseller.CreateVouchers(
            count=1, value=D("4.25"), currency="USD", lot_name="counter"
        )
        code = lot.file.data.decode().splitlines()[1].split(",")[0]
        tree.api("C1").billing.RedeemVoucher(code=code)
        listed = r2.billing.ListPayments(account_id=ids["C1"], limit=100)
        assert [(e.kind, e.amount) for e in listed.items if e.kind == "voucher"] == [
            ("voucher", D("4.25"))
        ]
        assert D("4.25") in {e.amount for e in r2.billing.ListPayments(subtree=True).items}
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        period = {"period_start": today, "period_end": today + timedelta(days=1)}
        report = r2.billing.GetPaymentReport(account_id=ids["C1"], group_by="kind", **period)
        assert ("voucher", 1, D("4.25")) in {(x.key, x.count, x.amount) for x in report.lines}
