"""The PDF of an invoice with 10,000 call lines, and with the 100,000 a snapshot keeps
at most (services/billing/invoice_pdf.py), drawn from a snapshot as GetInvoicePdf
does: time, pages, size and peak RSS. The snapshot is the one the PDF's unit tests
draw (tests/unit/test_invoice_pdf.py), only longer."""

from __future__ import annotations

import io
import resource
import time

from pypdf import PdfReader

from services.billing.invoice_pdf import render
from tests.unit.test_invoice_pdf import EXTRA, snapshot

CALLS = 10_000
MOST = 100_000  # the most call lines a snapshot keeps (services/billing/invoice_usecases.py)


def run() -> None:
    for count in (CALLS, MOST):
        snap = snapshot(count)
        started = time.perf_counter()
        pdf = render(snap, EXTRA)
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
