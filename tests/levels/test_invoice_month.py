"""A three-level month, invoiced: calls through the AMI path (a captured Asterisk
session replayed over TCP into the listener), DID fees and subscriptions charged by the
recurring job at every level, then every account invoiced by its parent through SOAP.

- every invoice's lines add up to its total, and every total is exactly that account's
  own ledger movements of the period (kind by kind);
- no line belongs to another account. The peers' bug: two customers of one reseller
  with the same destinations and the same fees, invoiced at the same moment, and items
  of one landing on the other's invoice (or a reseller's invoice showing its
  customers' retail charges). Here C1 and C2 each have a DID fee and a subscription
  to the same service; their invoices are created concurrently; each
  line, each call of the detail, each amount is checked against that account's rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.invoice_schema import Invoice
from db.schema import Cdr, LedgerEntry
from services.billing import invoice_lines
from services.recurring.charging import charge_due
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree
from tests.levels.test_invoices import assert_totals, ledger_of

pytestmark = pytest.mark.e2e
D = Decimal
MOVEMENTS = set(invoice_lines.MOVEMENT_KINDS)


def month(tree: Tree) -> None:
    """A DID each for C1 and C2 and the same subscription for both (R2's customers),
    a DID for Carol (the operator's customer); all from the start of today."""
    admin, r2 = tree.api("admin"), tree.api("R2")
    provider = admin.config.CreateProvider(name="DID carrier").id
    for number, who, api in (
        ("34910000001", "C1", r2),
        ("34910000002", "C2", r2),
        ("34910000003", "Carol", admin),
    ):
        did = admin.config.CreateDid(
            did={"number": number, "provider_id": provider, "monthly_fee": D("2.00")}
        ).id
        api.reseller.AssignDid(did_id=did, account_id=tree.ids[who])
    service = r2.reseller.CreateService(service={"name": "Backup line", "price": D("3.00")}).id
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    for who in ("C1", "C2"):
        r2.reseller.Subscribe(account_id=tree.ids[who], service_id=service, start=today)


class TestTheInvoicedMonth:
    async def test_every_invoice_is_its_accounts_own_ledger_and_nothing_else(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        await replay(session_factory)
        month(tree)
        charge_due(session_factory, datetime.now(UTC))  # type: ignore[arg-type]
        end = datetime.now(UTC)
        period = {"period_start": start, "period_end": end}
        ids = tree.ids
        r2 = tree.api("R2").billing
        for who in ("C1", "C2"):
            r2.SetBillingProfile(account_id=ids[who], cdr_detail=True)
        # R2 invoices its two customers at the same moment (the peers' race).
        with ThreadPoolExecutor(2) as pool:
            c1, c2 = pool.map(
                lambda who: r2.CreateInvoice(account_id=ids[who], **period), ("C1", "C2")
            )
        invoices: dict[str, Any] = {
            "C1": c1,
            "C2": c2,
            "R2": tree.api("R1").billing.CreateInvoice(account_id=ids["R2"], **period),
            "R1": tree.api("admin").billing.CreateInvoice(account_id=ids["R1"], **period),
            "Carol": tree.api("admin").billing.CreateInvoice(account_id=ids["Carol"], **period),
        }
        for name, inv in invoices.items():
            assert inv.invoice.account_id == ids[name], name
            moved = ledger_of(session_factory, ids[name], start, end)
            # Calls through the AMI path and the month's fees, at every level.
            assert moved.get("call", D(0)) < 0 and moved["recurring"] < 0, (name, moved)
            lines = sum((x.amount for x in inv.lines), D(0))
            charges = -sum((v for k, v in moved.items() if k not in MOVEMENTS), D(0))
            assert lines == charges, name
            by_kind: dict[str, Decimal] = {}
            for x in inv.lines:
                by_kind[x.kind] = by_kind.get(x.kind, D(0)) + x.amount
            assert by_kind == {k: -v for k, v in moved.items() if k not in MOVEMENTS}, name
            assert_totals(inv, moved, name)
        # No item of one customer on the other's invoice: the same fee names on both,
        # each with its own amount once; the calls are each one's own.
        first = f"{start:%Y-%m-%d}"
        for inv, did in ((c1, "34910000001"), (c2, "34910000002")):
            fees = sorted((x.description, x.calls) for x in inv.lines if x.kind == "recurring")
            # Named after the service or the DID, with the period: never a raw reference.
            assert [d.split(" to ")[0] for d, _ in fees] == [
                f"Backup line: fee {first}",
                f"DID {did}: fee {first}",
            ], fees
            assert all(n == 1 for _, n in fees), fees
        assert [(x.description, x.calls) for x in c1.lines if x.kind == "call"] == [("Spain", 2)]
        assert {x.description for x in c2.lines if x.kind == "call"} == {
            "United Kingdom",
            "Australia",
        }
        # The call detail of each customer's invoice: exactly its own charged CDRs.
        with session_factory() as s:
            for name, inv in (("C1", c1), ("C2", c2)):
                charged = select(LedgerEntry.cdr_id).where(
                    LedgerEntry.account_id == ids[name], LedgerEntry.kind == "call"
                )
                own = s.scalars(
                    select(Cdr.dst).where(Cdr.account_id == ids[name], Cdr.id.in_(charged))
                ).all()
                snapshot = s.get(Invoice, inv.invoice.id)
                assert snapshot is not None
                detail = json.loads(snapshot.snapshot)["calls"]
                assert sorted(c["number"] for c in detail) == sorted(own) and own, name
                assert inv.calls == len(own), name
        # A reseller's invoice is what IT was charged (R1's price), never its
        # customers' retail amounts.
        r2_calls = sum((x.amount for x in invoices["R2"].lines if x.kind == "call"), D(0))
        retail = sum((x.amount for i in (c1, c2) for x in i.lines if x.kind == "call"), D(0))
        assert 0 < r2_calls < retail
