"""The PDF of an invoice, statement or credit note, drawn from its snapshot alone.

ReportLab (docs/invoices.md says why): its platypus layout flows a table over as many
pages as it needs, repeats the header row, and needs no system library. Everything
printed comes from the invoice's JSON snapshot, so an issued document prints the
same forever. No spyne here.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import Indenter

STYLES = getSampleStyleSheet()
SMALL = ParagraphStyle("small", parent=STYLES["Normal"], fontSize=8, leading=10)
GRID = TableStyle(
    [
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def amount(text: str) -> str:
    """A stored amount as printed: every digit kept (the lines add up to the totals
    to the last digit), at least the cents."""
    value = Decimal(text)
    return f"{value:,.2f}" if value == round(value, 2) else f"{value.normalize():,f}"


def _p(text: str, style: ParagraphStyle = SMALL) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _logo(issuer: dict[str, Any]) -> Flowable | None:
    if not issuer.get("logo"):
        return None
    data = base64.b64decode(issuer["logo"])
    width, height = ImageReader(io.BytesIO(data)).getSize()
    scale = min(40 * mm / width, 20 * mm / height)
    return Image(io.BytesIO(data), width=width * scale, height=height * scale)


def _header(s: dict[str, Any], period: str) -> list[Flowable]:
    issuer, customer = s["issuer"], s["customer"]
    left: list[Flowable] = [
        _p(issuer["company_name"], STYLES["Heading2"]),
        _p(issuer["address"]),
    ]
    if issuer["tax_id"]:
        left.append(_p(f"Tax id: {issuer['tax_id']}"))
    logo = _logo(issuer)
    head = Table([[left, logo or ""]], colWidths=[120 * mm, 50 * mm])
    head.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")])
    )
    to = [_p("Bill to:"), _p(customer["name"], STYLES["Heading4"]), _p(customer["address"])]
    if customer["tax_id"]:
        to.append(_p(f"Tax id: {customer['tax_id']}"))
    meta = [
        _p(f"{s['title']} {s['number']}", STYLES["Heading3"]),
        _p(f"Issued: {s['issued']}"),
        _p(f"Due: {s['due']}"),
        _p(f"Period: {period}"),
        _p(f"Currency: {s['currency']}"),
    ]
    if s.get("credits"):
        meta.append(_p(f"Credits invoice {s['credits']}"))
    parties = Table([[to, meta]], colWidths=[95 * mm, 75 * mm])
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [head, Spacer(1, 6 * mm), parties, Spacer(1, 6 * mm)]


def _charges(s: dict[str, Any]) -> list[Flowable]:
    rows: list[list[Any]] = [["Description", "Calls", "Minutes", "Amount"]]
    for c in s["charges"]:
        minutes = f"{Decimal(c['seconds']) / 60:.2f}" if c["seconds"] else ""
        rows.append([_p(c["description"]), c["calls"] or "", minutes, amount(c["amount"])])
    taxes = s["taxes"]
    net_label = "Net (taxes included above)" if taxes["inclusive"] else "Net"
    rows.append([net_label, "", "", amount(s["net"])])
    for t in taxes["lines"]:
        rate = (Decimal(t["rate"]) * 100).normalize()
        rows.append([f"{t['name']} {rate:f} % on {amount(t['base'])}", "", "", amount(t["amount"])])
    rows.append(["Total", "", "", amount(s["total"])])
    table = LongTable(rows, colWidths=[100 * mm, 20 * mm, 20 * mm, 30 * mm], repeatRows=1)
    table.setStyle(GRID)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ]
        )
    )
    return [table, Spacer(1, 5 * mm)]


def _movements(s: dict[str, Any]) -> list[Flowable]:
    if "opening" not in s:
        return []
    rows: list[list[Any]] = [
        ["Balance", "", "Amount"],
        ["Opening balance", "", amount(s["opening"])],
    ]
    rows.append(["Charges of the period", "", amount(str(-Decimal(s["charged"])))])
    for m in s["movements"]:
        rows.append(
            [_p(f"{m['kind'].capitalize()}: {m['reference']}"), m["at"][:10], amount(m["amount"])]
        )
    rows.append(["Closing balance", "", amount(s["closing"])])
    table = LongTable(rows, colWidths=[110 * mm, 30 * mm, 30 * mm], repeatRows=1)
    table.setStyle(GRID)
    return [table, Spacer(1, 5 * mm)]


# Call lines go in tables of this many rows: splitting one table of 10,000 rows over
# pages re-measures what is left at every page break (measured: 3x slower).
CALLS_PER_TABLE = 200


def _calls(s: dict[str, Any]) -> list[Flowable]:
    if not s["calls"]:
        return []
    header = ["Start (UTC)", "Number", "Destination", "Seconds", "Amount"]
    widths = [35 * mm, 35 * mm, 60 * mm, 15 * mm, 25 * mm]
    out: list[Flowable] = [_p("Calls", STYLES["Heading4"])]
    calls = s["calls"]
    for first in range(0, len(calls), CALLS_PER_TABLE):
        rows: list[list[Any]] = [header]
        rows += [
            [
                c["start"][:19].replace("T", " "),
                c["number"],
                c["destination"][:40],
                c["seconds"],
                amount(c["amount"]),
            ]
            for c in calls[first : first + CALLS_PER_TABLE]
        ]
        table = LongTable(rows, colWidths=widths, repeatRows=1)
        table.setStyle(GRID)
        out.append(table)
    return out


class _NumberedCanvas(Canvas):
    """Writes "page N of M" and the footer once every page is known."""

    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 7)
            self.drawString(15 * mm, 10 * mm, self.footer[:160])
            self.drawRightString(
                195 * mm, 10 * mm, f"Page {self._pageNumber} of {len(self._pages)}"
            )
            super().showPage()
        super().save()


def render(snapshot_json: str, extra: dict[str, Any]) -> bytes:
    """The PDF of a snapshot; `extra` adds the figures kept in the invoice's columns
    (number, dates, totals, balances), as strings."""
    s = {**json.loads(snapshot_json), **extra}
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{s['title']} {s['number']}",
        author=s["issuer"]["company_name"],
    )
    canvas = type(
        "Canvas", (_NumberedCanvas,), {"footer": s["issuer"]["footer"].replace("\n", "  ")}
    )
    story: list[Flowable] = [
        *_header(s, s["period"]),
        *_charges(s),
        *_movements(s),
        *_calls(s),
        Indenter(0),
    ]
    doc.build(story, canvasmaker=canvas)
    return out.getvalue()


def dates(start: datetime, end: datetime) -> str:
    def day(t: datetime) -> str:
        return f"{t:%Y-%m-%d}" if t.time() == datetime.min.time() else f"{t:%Y-%m-%d %H:%M}"

    return f"{day(start)} to {day(end)} (end exclusive, UTC)"
