"""The call detail of the invoice PDF (drawn straight onto the canvas, page by page):
every call exactly once, in order, the header row on every page, totals unchanged."""

from __future__ import annotations

import io
import json
import re

from pypdf import PdfReader

from services.billing.invoice_pdf import render

EXTRA = {
    "issued": "2026-12-01",
    "due": "2026-12-16",
    "period": "2026-11-01 to 2026-12-01",
    "net": "12.3",
    "tax": "0",
    "total": "12.3",
}


def snapshot(calls: int) -> str:
    return json.dumps(
        {
            "number": "2026-000007",
            "title": "Invoice",
            "currency": "EUR",
            "issuer": {
                "company_name": "R2 Telecom Ltd",
                "address": "12 Harbour Street",
                "tax_id": "ES-B99887766",
                "footer": "Thank you",
                "logo": "",
            },
            "customer": {"name": "C2", "address": "", "tax_id": "", "billing_type": "postpaid"},
            "charges": [
                {
                    "kind": "call",
                    "description": "Spain",
                    "calls": calls,
                    "seconds": 0,
                    "amount": "12.3",
                }
            ],
            "movements": [],
            "taxes": {"inclusive": False, "lines": []},
            "calls": [
                {
                    "start": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00",
                    "number": f"3491{i:07d}",
                    "destination": "Spain <mobile> & more",
                    "seconds": 30 + i,
                    "amount": "0.0123",
                }
                for i in range(calls)
            ],
        }
    )


def test_every_call_is_printed_once_in_order_with_a_header_on_every_page() -> None:
    pdf = PdfReader(io.BytesIO(render(snapshot(250), EXTRA)))
    pages = [p.extract_text() for p in pdf.pages]
    numbers = [n for text in pages for n in re.findall(r"3491\d{7}", text)]
    assert numbers == [f"3491{i:07d}" for i in range(250)]
    assert len(pages) >= 3
    assert all("Start (UTC)" in text and "Amount" in text for text in pages)
    assert all(f"Page {i + 1} of {len(pages)}" in text for i, text in enumerate(pages))
    assert "Spain <mobile> & more" in pages[-1] and "2026-11-01 00:00:00" in pages[0]
    assert "\nTotal\n12.30\n" in pages[0]


def test_no_calls_no_call_detail() -> None:
    text = PdfReader(io.BytesIO(render(snapshot(0), EXTRA))).pages[0].extract_text()
    assert "Start (UTC)" not in text and "Page 1 of 1" in text
