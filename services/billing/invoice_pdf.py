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
from reportlab.pdfbase.pdfmetrics import stringWidth
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


# The call detail: (header, width, right-aligned) per column.
CALL_COLUMNS = (
    ("Start (UTC)", 35 * mm, False),
    ("Number", 40 * mm, False),
    ("Destination", 55 * mm, False),
    ("Seconds", 15 * mm, True),
    ("Amount", 25 * mm, True),
)
CALL_ROW = 10.0  # points: 8-point text with its leading
CALL_FONT = ("Helvetica", 8)


def _call_cells(c: dict[str, Any]) -> tuple[str, ...]:
    return (
        c["start"][:19].replace("T", " "),
        c["number"][:24],
        c["destination"][:34],
        str(c["seconds"]),
        amount(c["amount"]),
    )


class _CallLines(Flowable):
    """Lines `first` to `last` of the call detail, drawn straight onto the canvas.

    Why not a platypus Table: a Table builds a cell object, measures and styles every
    cell, and draws each with its own text object (measured: 10,000 calls took 1.9 s
    on a quiet machine, 9 s on a loaded one, nearly all of it in Table.draw). Here a
    page is one text object, one line per call; `split` hands the rest of the calls
    to the next page, and the header row is drawn again on each."""

    def __init__(self, calls: list[dict[str, Any]], first: int, last: int) -> None:
        super().__init__()
        self.calls, self.first, self.last = calls, first, last

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = sum(w for _, w, _ in CALL_COLUMNS)
        self.height = (self.last - self.first + 1) * CALL_ROW + 2
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        fits = int((avail_height - 2) // CALL_ROW) - 1  # one row is the header
        if fits < 1:
            return []  # not even one call here: platypus moves us to the next page
        middle = min(self.first + fits, self.last)
        return [
            _CallLines(self.calls, self.first, middle),
            _CallLines(self.calls, middle, self.last),
        ]

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFillColor(colors.HexColor("#e8e8e8"))
        canvas.rect(0, self.height - CALL_ROW, self.width, CALL_ROW, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.5)
        canvas.line(0, self.height - CALL_ROW, self.width, self.height - CALL_ROW)
        lefts, x = [], 0.0
        for _, width, _ in CALL_COLUMNS:
            lefts.append(x)
            x += width
        font, size = CALL_FONT
        text = canvas.beginText()
        text.setFont(font, size)
        y = self.height - CALL_ROW + 2.5
        rows = (
            [h for h, _, _ in CALL_COLUMNS],
            *(_call_cells(c) for c in self.calls[self.first : self.last]),
        )
        for cells in rows:
            for (_, width, right), left, cell in zip(CALL_COLUMNS, lefts, cells, strict=True):
                at = left + width - 3 - stringWidth(cell, font, size) if right else left + 3
                text.setTextOrigin(at, y)
                text.textOut(cell)
            y -= CALL_ROW
        canvas.drawText(text)


def _calls(s: dict[str, Any]) -> list[Flowable]:
    if not s["calls"]:
        return []
    return [_p("Calls", STYLES["Heading4"]), _CallLines(s["calls"], 0, len(s["calls"]))]


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
