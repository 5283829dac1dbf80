"""Invoices over the real path: calls replayed over TCP into the AMI listener, then
invoiced by each account's parent through the billing service (HTTP + zeep).

Every invoice's lines add up to its total, the total equals the account's ledger
movements of the period, no line belongs to another account, numbers per issuer have
no gap (also under 20 concurrent CreateInvoice), a second call returns the same
invoice, credit notes correct, and the PDF reads back with the issuer's brand.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from client import errors
from db import ledger
from db.invoice_schema import Invoice
from db.schema import Account, LedgerEntry
from db.session import UnitOfWork
from services.billing.invoice_usecases import run_issue_invoices
from settings import Settings
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def period() -> dict[str, datetime]:
    # The listener charges calls when it stores them: today.
    return {"period_start": TODAY, "period_end": datetime.now(UTC)}


def ledger_of(
    session_factory: Callable[[], Session], account_id: int, start: datetime, end: datetime
) -> dict[str, Decimal]:
    with session_factory() as s:
        rows = s.execute(
            select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(
                LedgerEntry.account_id == account_id,
                LedgerEntry.created_at >= start,
                LedgerEntry.created_at < end,
            )
            .group_by(LedgerEntry.kind)
        ).all()
    return {k: D(v) for k, v in rows}


def assert_totals(inv: Any, moved: dict[str, Decimal], name: str) -> None:
    """An invoice's net, tax and total follow from its lines (taxes inclusive or not),
    and its balances move by exactly the account's ledger of the period."""
    lines = sum((x.amount for x in inv.lines), D(0))
    if inv.tax_inclusive:
        assert inv.invoice.net + inv.invoice.tax == inv.invoice.total == lines, name
    else:
        assert inv.invoice.net == lines, name
        assert inv.invoice.total == lines + inv.invoice.tax, name
    assert inv.closing_balance - inv.opening_balance == sum(moved.values(), D(0)), name


def png(width: int = 120, height: int = 40) -> bytes:
    """A small PNG logo (a blue band on white), made without any image library."""
    raw = b"".join(
        b"\x00"
        + b"".join(b"\x20\x40\xc0" if 10 < y < 30 else b"\xff\xff\xff" for _ in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class TestInvoices:
    async def test_lines_add_up_to_the_total_which_is_the_ledger_of_the_period(
        self, tree: Tree, session_factory: Callable[[], Session], uow: Callable[[], UnitOfWork]
    ) -> None:
        await replay(session_factory)
        r2, ids = tree.api("R2"), tree.ids
        # A fee of another kind (what DID and subscription fees will post): its own line.
        with uow() as u:
            ledger.post(u.session, ids["C2"], "recurring", D("-2.5"), reference="Subscription")
            u.commit()
        r2.billing.AddPayment(account_id=ids["C1"], amount=D("5"), reference="cash")
        r2.billing.SetTaxes(
            account_id=ids["C2"],
            taxes=[
                {"name": "VAT", "rate": D("0.21")},
                {"name": "Levy", "rate": D("0.1"), "compound": True},
            ],
            tax_inclusive=False,
            tax_id="ES-B12345678",
        )
        r2.billing.SetTaxes(
            account_id=ids["C1"], taxes=[{"name": "VAT", "rate": D("0.1")}], tax_inclusive=True
        )
        p = period()
        c1 = r2.billing.CreateInvoice(account_id=ids["C1"], **p)
        c2 = r2.billing.CreateInvoice(account_id=ids["C2"], **p)
        r2_inv = tree.api("R1").billing.CreateInvoice(account_id=ids["R2"], **p)
        carol = tree.api("admin").billing.CreateInvoice(account_id=ids["Carol"], **p)
        # Numbers per issuer, gapless: R2 issued two, R1 and the operator one each.
        year = datetime.now(UTC).year
        assert (c1.invoice.number, c2.invoice.number) == (f"{year}-000001", f"{year}-000002")
        assert r2_inv.invoice.number == carol.invoice.number == f"{year}-000001"
        assert (c1.invoice.issuer_id, r2_inv.invoice.issuer_id) == (ids["R2"], ids["R1"])
        assert (c1.invoice.title, c2.invoice.title) == ("Statement", "Invoice")
        for name, inv in (("C1", c1), ("C2", c2), ("R2", r2_inv), ("Carol", carol)):
            lines = sum((x.amount for x in inv.lines), D(0))
            moved = ledger_of(session_factory, ids[name], p["period_start"], p["period_end"])
            charges = -sum((v for k, v in moved.items() if k in ("call", "recurring")), D(0))
            assert charges > 0, name
            assert lines == charges, name
            assert_totals(inv, moved, name)
            assert inv.invoice.due_at > inv.invoice.issued_at > datetime(2000, 1, 1, tzinfo=UTC)
        # No line of another account: C1 called Spain twice, C2 the UK and Australia.
        assert [(x.description, x.calls, x.seconds) for x in c1.lines] == [("Spain", 2, 60)]
        assert {(x.kind, x.description) for x in c2.lines} == {
            ("call", "United Kingdom"),
            ("call", "Australia"),
            ("recurring", "Recurring fees: Subscription"),
        }
        assert {x.description for x in carol.lines} == {"USA and Canada"}
        # C1's initial credit (made today with the tree) and the payment.
        assert [(m.kind, m.amount) for m in c1.movements] == [("payment", 10), ("payment", 5)]
        # C2's prices exclude its taxes: 21 % VAT, then 10 % on net + VAT, rounded once.
        net = c2.invoice.net
        vat = (net * D("0.21")).quantize(D("0.01"))
        assert [(t.name, t.amount) for t in c2.taxes] == [
            ("VAT", vat),
            ("Levy", ((net + vat) * D("0.1")).quantize(D("0.01"))),
        ]
        # ... and are charged to its balance on issue (a `tax` ledger row).
        after = ledger_of(session_factory, ids["C2"], p["period_start"], datetime.now(UTC))
        assert after["tax"] == -c2.invoice.tax
        assert c1.issuer_name == "R2" and r2_inv.issuer_name == "R1 Telecom"

    async def test_the_number_format_and_the_operators_company_come_from_the_settings(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        with session_factory() as s:  # an operator that never filled its own name in
            s.execute(update(Account).where(Account.role == "admin").values(company_name=""))
            s.commit()
        admin, year = tree.api("admin"), TODAY.year
        for bad in ("{number}", "{year}-{number}-{x}", "{year.real}{number}", "{year}{number:s}"):
            with pytest.raises(errors.InvalidInput):
                admin.config.SetSetting(name="invoice.number_format", value=bad)
        admin.config.SetSetting(name="invoice.number_format", value="INV/{year}/{number:04d}")
        admin.config.SetSetting(name="company.name", value="Operator Telecom SL")
        admin.config.SetSetting(name="company.address", value="Calle Mayor 1, Madrid")

        carol = admin.billing.CreateInvoice(account_id=tree.ids["Carol"], **period())
        c1 = tree.api("R2").billing.CreateInvoice(account_id=tree.ids["C1"], **period())

        assert carol.invoice.number == c1.invoice.number == f"INV/{year}/0001"
        # The operator's gaps are filled; a reseller's brand never shows the operator's.
        assert (carol.issuer_name, c1.issuer_name) == ("Operator Telecom SL", "R2")
        with session_factory() as s:
            snapshot = s.scalars(select(Invoice.snapshot).where(Invoice.id == carol.invoice.id))
            assert json.loads(snapshot.one())["issuer"]["address"] == "Calle Mayor 1, Madrid"
        shown = {x.name: x.text for x in admin.config.GetSettings().items}
        assert shown["invoice.number_format"] == "INV/{year}/{number:04d}"

    async def test_create_invoice_is_idempotent_and_refuses_bad_periods(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        r2, c1 = tree.api("R2").billing, tree.ids["C1"]
        p = period()
        first = r2.CreateInvoice(account_id=c1, **p)
        again = r2.CreateInvoice(account_id=c1, **p)
        assert (again.invoice.id, again.invoice.number) == (first.invoice.id, first.invoice.number)
        with pytest.raises(errors.InvalidInput, match="overlaps"):
            r2.CreateInvoice(
                account_id=c1,
                period_start=p["period_start"] - timedelta(days=1),
                period_end=p["period_end"],
            )
        with pytest.raises(errors.InvalidInput, match="not ended"):
            r2.CreateInvoice(
                account_id=c1,
                period_start=p["period_end"],
                period_end=datetime.now(UTC) + timedelta(days=1),
            )
        with pytest.raises(errors.AccessDenied):
            tree.api("C1").billing.CreateInvoice(account_id=c1, **p)
        assert r2.ListInvoices(account_id=c1).total == 1
        assert tree.api("C1").billing.ListInvoices().items[0].id == first.invoice.id

    async def test_a_credit_note_corrects_an_invoice_and_is_numbered_in_the_series(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        r2, ids = tree.api("R2").billing, tree.ids
        inv = r2.CreateInvoice(account_id=ids["C2"], **period())
        before = r2.GetBalance(account_id=ids["C2"]).balance
        note = r2.CreateCreditNote(
            invoice_id=inv.invoice.id, amount=D("0.001"), reason="dropped call"
        )
        assert (
            note.invoice.kind == "credit_note" and note.invoice.credits_invoice_id == inv.invoice.id
        )
        assert note.invoice.number.endswith("-000002") and note.invoice.total == D("0.001")
        assert r2.GetBalance(account_id=ids["C2"]).balance == before + D("0.001")
        with pytest.raises(errors.InvalidInput, match="left to credit"):
            r2.CreateCreditNote(invoice_id=inv.invoice.id, amount=inv.invoice.total, reason="all")
        # The invoice itself never changes.
        assert r2.GetInvoice(invoice_id=inv.invoice.id) == inv

    async def test_twenty_concurrent_invoices_of_one_issuer_have_no_gap(
        self, tree: Tree, uow: Callable[[], UnitOfWork], client_for: Callable[..., object]
    ) -> None:
        r2_id = tree.ids["R2"]
        with uow() as u:
            path = u.session.get(Account, r2_id).path  # type: ignore[union-attr]
            for i in range(20):
                a = Account(role="customer", name=f"Shop {i}", parent_id=r2_id, path="")
                u.session.add(a)
                u.session.flush()
                a.path = f"{path}{a.id}/"
            u.commit()
            shops = list(u.session.scalars(select(Account.id).where(Account.name.like("Shop %"))))
        clients = [tree.client_for("r2", "level-password") for _ in range(4)]
        p = period()

        def create(i: int) -> str:
            inv = clients[i % 4].billing.CreateInvoice(account_id=shops[i], **p)
            return str(inv.invoice.number)

        with ThreadPoolExecutor(max_workers=20) as pool:
            numbers = list(pool.map(create, range(20)))
        year = datetime.now(UTC).year
        assert sorted(numbers) == [f"{year}-{n:06d}" for n in range(1, 21)]

    async def test_the_pdf_reads_back_with_the_issuers_brand_totals_and_tax(
        self, tree: Tree, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        await replay(session_factory)
        r2, ids = tree.api("R2"), tree.ids
        r2.reseller.SetBranding(
            company_name="R2 Telecom Ltd",
            address="12 Harbour Street\nValencia 46001",
            tax_id="ES-B99887766",
            invoice_footer="Bank: ES12 3456 7890 1234 - thank you for your business",
            logo=png(),
        )
        r2.billing.SetBillingProfile(account_id=ids["C2"], address="C2 Street 1", cdr_detail=True)
        r2.billing.SetTaxes(account_id=ids["C2"], taxes=[{"name": "VAT", "rate": D("0.21")}])
        inv = r2.billing.CreateInvoice(account_id=ids["C2"], **period())
        pdf = r2.billing.GetInvoicePdf(invoice_id=inv.invoice.id)
        assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
        assert "R2 Telecom Ltd" in text and "ES-B99887766" in text and "Valencia 46001" in text
        assert "SipTar Operator" not in text and "R1 Telecom" not in text
        assert f"Invoice {inv.invoice.number}" in text
        total = inv.invoice.total
        # pypdf gives a table cell per line.
        assert f"\nTotal\n{total.normalize():f}\n" in text
        assert f"\nNet\n{inv.invoice.net.normalize():f}\n" in text
        assert "VAT 21 % on" in text and f"{inv.invoice.tax:.2f}" in text
        assert "Page 1 of 1" in text and "thank you for your business" in text
        assert "442071234567" in text or "442079460000" in text  # the call detail
        path = tmp_path / "invoice.pdf"
        path.write_bytes(pdf.data)
        pdftoppm = shutil.which("pdftoppm")
        assert pdftoppm, "poppler-utils: `make poppler-bin` installs it"
        subprocess.run(
            [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", path, tmp_path / "page"],
            check=True,
        )
        image = next(tmp_path.glob("page*.png")).read_bytes()
        assert image.startswith(b"\x89PNG") and len(image) > 5000

    async def test_the_job_issues_each_ended_period_once(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        # Run as if on the 3rd of next month: the period of this month has ended.
        month = TODAY.replace(day=1)
        now = (month + timedelta(days=32)).replace(day=3, hour=6)
        first = run_issue_invoices(session_factory, now, Settings())  # type: ignore[arg-type]
        again = run_issue_invoices(session_factory, now, Settings())  # type: ignore[arg-type]
        assert first == "invoices: 7 issued, 0 already issued, 0 failed"
        assert again == "invoices: 0 issued, 7 already issued, 0 failed"
        with session_factory() as s:
            periods = set(s.execute(select(Invoice.period_start, Invoice.period_end)).all())
        assert periods == {(month, (month + timedelta(days=32)).replace(day=1))}
        # Before this month has ended, its period is not due: the period due then is
        # last month's, when these accounts did not exist yet.
        early = run_issue_invoices(session_factory, month + timedelta(days=27), Settings())  # type: ignore[arg-type]
        assert early == "invoices: 0 issued, 0 already issued, 0 failed"
