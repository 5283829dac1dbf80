"""The PDF of an invoice with 10,000 call lines (services/billing/invoice_pdf.py),
drawn from a snapshot as GetInvoicePdf does: time, pages, size and peak RSS."""

from __future__ import annotations

import io
import json
import resource
import time

from pypdf import PdfReader

from services.billing.invoice_pdf import render

CALLS = 10_000
MOST = 100_000  # the most call lines a snapshot keeps (services/billing/invoice_usecases.py)


def snapshot(count: int = CALLS) -> str:
    calls = [
        {
            "start": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00",
            "number": f"3491{i:07d}",
            "destination": "Spain",
            "seconds": 30 + i % 300,
            "amount": "0.0123",
        }
        for i in range(count)
    ]
    return json.dumps(
        {
            "number": "2026-000001",
            "title": "Invoice",
            "currency": "EUR",
            "issuer": {
                "company_name": "R2 Telecom Ltd",
                "address": "12 Harbour Street\\nValencia",
                "tax_id": "ES-B99887766",
                "footer": "Thank you",
                "logo": "",
            },
            "customer": {"name": "C2", "address": "", "tax_id": "", "billing_type": "postpaid"},
            "charges": [
                {
                    "kind": "call",
                    "description": "Spain",
                    "calls": count,
                    "seconds": 0,
                    "amount": "123",
                }
            ],
            "movements": [],
            "taxes": {"inclusive": False, "lines": []},
            "calls": calls,
        }
    )


def run() -> None:
    extra = {
        "issued": "2026-12-01",
        "due": "2026-12-16",
        "period": "2026-11-01 to 2026-12-01",
        "net": "123",
        "tax": "0",
        "total": "123",
        "opening": "0",
        "closing": "-123",
        "charged": "123",
    }
    for count in (CALLS, MOST):
        snap = snapshot(count)
        started = time.perf_counter()
        pdf = render(snap, extra)
        took = time.perf_counter() - started
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"   {count:,} call lines: {pages} pages, {len(pdf) / 1e6:.1f} MB in {took:.1f} s; "
            f"peak RSS so far {rss:.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    run()
