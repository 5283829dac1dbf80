"""The streaming XLSX writer (services/common/xlsx.py), read back with openpyxl: every
value comes back equal, every text cell neutralised, nothing runs as a formula."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from services.common.exports import neutralise
from services.common.xlsx import sheet_name, write_xlsx, xml_text

# What XML 1.0 can hold (the writer escapes the rest the way Excel does, tested below).
XML_CHARS = st.characters(
    blacklist_categories=["Cs"],
    blacklist_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"],
)

CELL = st.one_of(st.text(XML_CHARS, min_size=1), st.integers())


def read_back(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def written(rows: Sequence[Sequence[object]], name: str = "T") -> bytes:
    out = io.BytesIO()
    assert write_xlsx(out, name, rows) == len(rows)
    return out.getvalue()


class TestWriteXlsx:
    def test_numbers_text_and_empty_cells_read_back_equal(self) -> None:
        rows: list[list[object]] = [
            ["id", "dst", "cost", "note"],
            [1, "34911234567", "0.028800", None],
            [2, "a & b <c> \"d\" 'e'", "-5.25", ""],
            [-3, "  padded  ", "x\ny", "tab\there"],
        ]
        back = read_back(written(rows))
        assert back[:2] == [rows[0], rows[1]]
        assert back[2] == [2, "a & b <c> \"d\" 'e'", "-5.25", None]
        assert back[3] == [-3, "  padded  ", "x\ny", "tab\there"]
        assert isinstance(back[1][0], int) and isinstance(back[1][2], str)

    def test_every_text_cell_that_would_run_is_neutralised(self) -> None:
        formulas = ['=HYPERLINK("http://x","y")', "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)"]
        cells = [*formulas, "\tx", "\rx", "'=1"]
        back = read_back(written([cells]))
        assert back == [[neutralise(c) for c in cells]]
        assert back[0][:4] == ["'" + f for f in formulas] and back[0][6] == "''=1"
        sheet = load_workbook(io.BytesIO(written([cells]))).active
        assert {c.data_type for row in sheet.iter_rows() for c in row} == {"s"}

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=5))
    def test_any_values_read_back_as_written_after_neutralising(
        self, rows: list[list[object]]
    ) -> None:
        expected = [[v if isinstance(v, int) else neutralise(str(v)) for v in r] for r in rows]
        back = read_back(written(rows))
        # openpyxl pads short rows up to the widest one with empty cells.
        assert [r[: len(e)] for r, e in zip(back, expected, strict=True)] == expected

    def test_characters_xml_cannot_hold_use_excels_escape(self) -> None:
        assert xml_text("a\x01b") == "a_x0001_b"
        assert xml_text("_x0041_") == "_x005F_x0041_"  # Excel shows the literal text
        assert xml_text("plain") == "plain"
        assert read_back(written([["bell\x07"]])) == [["bell_x0007_"]]

    def test_the_sheet_is_named_within_excels_rules(self) -> None:
        assert load_workbook(io.BytesIO(written([[1]], "a/b:c" + "x" * 40))).sheetnames == [
            sheet_name("a/b:c" + "x" * 40)
        ]
        assert sheet_name("a/b:c" + "x" * 40) == ("a_b_c" + "x" * 40)[:31]

    def test_the_sheet_is_one_deflated_zip_member_written_row_by_row(self) -> None:
        data = written([[i, f"row {i}"] for i in range(5_000)])
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("xl/worksheets/sheet1.xml")
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.compress_size < info.file_size / 3
        back = read_back(data)
        assert len(back) == 5_000 and back[-1] == [4_999, "row 4999"]
