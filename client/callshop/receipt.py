"""A session's receipt as a PDF, through Qt's own printing (QPrinter), so the shop can
print it on any printer Qt knows or keep the file."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtGui import QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter


def receipt_html(receipt: Any, shop_name: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(line.number)}</td><td>{html.escape(line.destination or '')}</td>"
        f"<td align='right'>{line.billsec} s</td><td align='right'>{line.price}</td></tr>"
        for line in receipt.lines or []
    )
    return (
        f"<h2>{html.escape(shop_name)}</h2>"
        f"<p>{html.escape(receipt.booth_name)}, session {receipt.session_id}<br>"
        f"{receipt.opened_at:%Y-%m-%d %H:%M} - "
        f"{receipt.closed_at:%H:%M} UTC</p>"
        "<table width='100%'><tr><th align='left'>Number</th><th align='left'>Destination</th>"
        f"<th align='right'>Time</th><th align='right'>Price</th></tr>{rows}</table>"
        f"<h3>Total: {receipt.total} {html.escape(receipt.currency)}</h3>"
        f"<p>{receipt.calls} calls</p>"
    )


def save_pdf(receipt: Any, shop_name: str, path: Path) -> Path:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A5))
    printer.setOutputFileName(str(path))
    doc = QTextDocument()
    doc.setHtml(receipt_html(receipt, shop_name))
    doc.print_(printer)
    return path
