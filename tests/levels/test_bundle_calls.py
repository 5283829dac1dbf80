"""Bundles on the CDR path, through the AMI listener (calls replayed over TCP): R2 sells
C1 300 free seconds to Spain mobiles. A 2-minute call is all free; then a 5-minute call
with 3 minutes left is 3 free and 2 paid, at the tier and band in force after the free
part; R2 and R1 hold no bundle and pay their own sheets for the whole call. Every row
of every level is exact, and the counters agree with the uses and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.bundle_schema import BundleCounter, BundleUse
from db.ledger import ledger_sum
from db.schema import Account, Cdr, Charge, LedgerEntry
from tests.ami_calls import Call, write_calls
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
NUMBER = "34612345678"
# C1's own sheet: peak (08:00-18:00) and off-peak, each with a cheaper second tier
# from the third minute on.
C1_DECK = """prefix,destination,tiers,time_from,time_to
346,Spain Mobile,0:0.20:30;120:0.10:6,08:00,18:00
346,Spain Mobile,0:0.06:60;120:0.03:6,18:00,08:00
34,Spain,0:0.02:60,,
"""


def setup(tree: Tree, session_factory: Callable[[], Session]) -> int:
    admin, r2 = tree.api("admin").config, tree.api("R2").reseller
    sheet = admin.CreateRateSheet(sheet={"name": "C1 bundle retail"}).id
    admin.ImportRates(sheet_id=sheet, csv=C1_DECK)
    with session_factory() as s:
        c1 = s.get(Account, tree.ids["C1"])
        assert c1 is not None
        c1.rate_sheet_id = sheet
        s.commit()
    bundle = r2.CreateBundle(
        bundle={"name": "Spain mobile 5 min", "quantity": 300, "prefixes": ["346"]}
    ).id
    r2.AssignBundle(
        account_id=tree.ids["C1"], bundle_id=bundle, start=datetime(2026, 11, 1, tzinfo=UTC)
    )
    return bundle


def charges_of(s: Session, cdr_id: int) -> list[tuple[int, int, Decimal]]:
    rows = s.execute(
        select(Charge.level, Charge.billed_seconds, Charge.cost)
        .where(Charge.cdr_id == cdr_id, Charge.account_id.is_not(None))
        .order_by(Charge.level)
    ).all()
    return [(int(a), int(b), c) for a, b, c in rows]


async def test_five_minutes_with_three_left_are_three_free_and_two_paid_at_every_level(
    tree: Tree, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    setup(tree, session_factory)
    before = {
        n: tree.api("admin").billing.GetBalance(account_id=tree.ids[n]).balance
        for n in ("C1", "R2", "R1")
    }
    calls = [
        # A Monday: two minutes at 10:00, all free (120 of the 300 seconds).
        Call(
            1, "acct1001", NUMBER, billsec=120, start=datetime(2026, 11, 23, 9, 59, 59, tzinfo=UTC)
        ),
        # Five minutes from 17:57: 18:00 ends the free part and the peak band.
        Call(
            2, "acct1001", NUMBER, billsec=300, start=datetime(2026, 11, 23, 17, 56, 59, tzinfo=UTC)
        ),
    ]
    await replay(session_factory, write_calls(tmp_path / "calls.txt", calls), events=2)

    with session_factory() as s:
        cdrs = {
            c.uniqueid: c for c in s.scalars(select(Cdr).where(Cdr.account_id == tree.ids["C1"]))
        }
        first, second = cdrs[calls[0].uniqueid], cdrs[calls[1].uniqueid]
        # C1 pays nothing for the first; R2 pays R1's copy (+20 %: 0.0494808/min, 30/6),
        # R1 the admin's sheet (0.041234/min): each its whole call, by its own sheet.
        assert charges_of(s, first.id) == [
            (0, 0, D("0")),
            (1, 120, D("0.0990")),
            (2, 120, D("0.0825")),
        ]
        # The second: 180 s free, then 120 s off-peak in the second tier (0.03/min, 6 s).
        assert charges_of(s, second.id) == [
            (0, 120, D("0.0600")),
            (1, 300, D("0.2474")),
            (2, 300, D("0.2062")),
        ]
        assert (second.cost, second.billed_seconds) == (D("0.0600"), 120)
        counter = s.scalars(select(BundleCounter)).one()
        assert (counter.period_start, counter.quantity, counter.consumed, counter.reserved) == (
            date(2026, 11, 1),
            300,
            300,
            0,
        )
        uses = s.execute(
            select(BundleUse.cdr_id, BundleUse.level, BundleUse.amount).order_by(BundleUse.cdr_id)
        ).all()
        assert [tuple(u) for u in uses] == [(first.id, 0, 120), (second.id, 0, 180)]
        bundle_rows = s.execute(
            select(LedgerEntry.cdr_id, LedgerEntry.amount, LedgerEntry.reference)
            .where(LedgerEntry.kind == "bundle")
            .order_by(LedgerEntry.cdr_id)
        ).all()
        assert [tuple(r) for r in bundle_rows] == [
            (first.id, D("0"), "Spain mobile 5 min"),
            (second.id, D("0"), "Spain mobile 5 min"),
        ]
        for name in ("C1", "R2", "R1"):
            account = s.get(Account, tree.ids[name])
            assert account is not None
            assert account.balance == ledger_sum(s, account.id)
        spent = {
            name: before[name] - s.get(Account, tree.ids[name]).balance  # type: ignore[union-attr]
            for name in ("C1", "R2", "R1")
        }
        assert spent == {"C1": D("0.0600"), "R2": D("0.3464"), "R1": D("0.2887")}
        assert s.scalar(select(func.count()).select_from(Cdr).where(Cdr.status != "rated")) == 0

    usage = tree.api("C1").billing.GetBundleUsage(day=date(2026, 11, 23))
    assert [(u.consumed, u.reserved, u.remaining) for u in usage.items] == [(300, 0, 0)]

    # C1's invoice up to now (the listener charged the calls when it stored them): the
    # calls at what C1 paid, the bundle's minutes apart at no cost (ledger kind `bundle`,
    # services/billing/invoice_lines.py).
    invoice = tree.api("R2").billing.CreateInvoice(
        account_id=tree.ids["C1"],
        period_start=datetime(2026, 11, 1, tzinfo=UTC),
        period_end=datetime.now(UTC),
    )
    lines = {line.kind: line for line in invoice.lines}
    assert lines["call"].amount == D("0.0600")
    assert (lines["bundle"].description, lines["bundle"].amount) == (
        "Bundle usage (no charge): Spain mobile 5 min",
        D("0"),
    )
