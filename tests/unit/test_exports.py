"""The one export writer: the neutralising rule and its exact inverse."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from services.common.exports import neutralise, restore, write_table

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"]


class TestNeutralise:
    def test_every_formula_start_gets_a_quote(self) -> None:
        assert [neutralise(f) for f in FORMULAS] == ["'" + f for f in FORMULAS]

    def test_plain_numbers_and_text_are_left_alone(self) -> None:
        for text in ("-5.25", "+34", "10.000000", "Spain", "", "'quoted", "a=b"):
            assert neutralise(text) == text

    def test_a_quote_before_a_formula_gets_one_more(self) -> None:
        assert neutralise("'=1") == "''=1"
        assert restore("''=1") == "'=1"

    @given(st.text())
    def test_restore_undoes_neutralise_for_any_text(self, text: str) -> None:
        assert restore(neutralise(text)) == text


class TestWriteTable:
    def test_csv_cells_that_would_run_come_out_quoted(self) -> None:
        file = write_table("csv", "accounts", ["name", "balance"], [[f, "-1.5"] for f in FORMULAS])
        assert (file.filename, file.content_type) == ("accounts.csv", "text/csv; charset=utf-8")
        rows = list(csv.reader(io.StringIO(file.data.decode(), newline="")))
        assert rows[0] == ["name", "balance"]
        assert rows[1:] == [["'" + f, "-1.5"] for f in FORMULAS]

    def test_xlsx_holds_no_formula_and_only_text_cells(self) -> None:
        file = write_table("xlsx", "accounts", ["name"], [[f] for f in FORMULAS])
        sheet = load_workbook(io.BytesIO(file.data)).active
        cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
        assert {c.data_type for c in cells} == {"s"}
        assert [c.value for c in cells] == ["'" + f for f in FORMULAS]


def test_a_workbook_names_its_one_sheet_after_the_file_within_excels_31_characters() -> None:
    import io

    from openpyxl import load_workbook

    from services.common.exports import write_table

    for name in ("sheet-3", "x" * 40):
        data = write_table("xlsx", name, ["prefix"], [["34"]]).data
        assert load_workbook(io.BytesIO(data)).sheetnames == [name[:31]]
