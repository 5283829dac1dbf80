"""ExportCdrs over HTTP: CSV, TXT (fixed columns) and XLSX of the calls a login may
see, in parts walked with `after_id`; formula cells neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from db.schema import Cdr
from services.cdr.exports import COLUMNS, TXT_LAYOUT
from tests.e2e.test_ami_to_services import replay
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def all_parts(api: SiptarClient, **kwargs: Any) -> list[Any]:
    parts, after = [], None
    while True:
        part = api.cdr.ExportCdrs(after_id=after, **kwargs)
        parts.append(part)
        if part.next_after_id is None:
            return parts
        after = part.next_after_id


class TestExportCdrs:
    async def test_a_reseller_exports_its_subtree_in_parts_as_csv(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        r2 = tree.api("R2")
        with session_factory() as s:
            mine = set(
                s.scalars(
                    select(Cdr.id).where(Cdr.account_id.in_([tree.ids["C1"], tree.ids["C2"]]))
                )
            )
        assert len(mine) >= 4
        parts = all_parts(r2, format="csv", limit=3)
        rows = [r for p in parts for r in csv_rows(p.data)]
        assert [int(r["id"]) for r in rows] == sorted(mine)
        assert all(p.rows <= 3 for p in parts) and sum(p.rows for p in parts) == len(mine)
        assert list(rows[0]) == list(COLUMNS)
        by_id = {c.id: c for c in r2.cdr.ListCdrs(limit=100).items}
        for r in rows:
            c = by_id[int(r["id"])]
            assert (r["dst"], r["billsec"], r["cost"]) == (c.dst, str(c.billsec), f"{c.cost:f}")
        # Outside the subtree: like an id that does not exist.
        with pytest.raises(errors.NotFound):
            r2.cdr.ExportCdrs(account_id=tree.ids["XC"], format="csv")

    async def test_txt_has_fixed_columns_and_xlsx_reads_back(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        admin = tree.api("admin")
        txt = admin.cdr.ExportCdrs(format="txt")
        lines = txt.data.decode().split("\r\n")[:-1]
        width = sum(w for _, w, _ in TXT_LAYOUT) + len(TXT_LAYOUT) - 1
        assert len(lines) == txt.rows + 1 == 14 + 1
        assert {len(line) for line in lines} == {width}
        assert lines[0].startswith("start_time")
        xlsx = admin.cdr.ExportCdrs(format="xlsx")
        assert xlsx.content_type.endswith("spreadsheetml.sheet")
        sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == list(COLUMNS) and len(values) == 15
        # Cell for cell what the CSV says: numbers as numbers, times and cost as text.
        table = [list(r.values()) for r in csv_rows(admin.cdr.ExportCdrs(format="csv").data)]
        assert [["" if v is None else str(v) for v in row] for row in values[1:]] == table
        assert all(isinstance(row[0], int) and isinstance(row[13], str) for row in values[1:])

    async def test_cells_that_would_be_formulas_are_neutralised(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        await replay(session_factory)
        with session_factory() as s:
            s.execute(
                update(Cdr)
                .where(Cdr.account_id == tree.ids["C1"])
                .values(src='=HYPERLINK("http://evil")', accountcode="@SUM(1)", dst="+2+3")
            )
            s.commit()
        r2 = tree.api("R2")
        rows = [r for r in csv_rows(r2.cdr.ExportCdrs(format="csv").data) if r["src"] != ""]
        c1 = [r for r in rows if r["account_id"] == str(tree.ids["C1"])]
        assert c1 and all(r["src"] == '\'=HYPERLINK("http://evil")' for r in c1)
        # "+2+3" is a formula; a plain number such as "+34911" is left as it is (the one
        # rule of services/common/exports.py, docs/security.md "Exports").
        assert all((r["accountcode"], r["dst"]) == ("'@SUM(1)", "'+2+3") for r in c1)
        sheet = load_workbook(
            io.BytesIO(r2.cdr.ExportCdrs(format="xlsx").data), read_only=True
        ).active
        cells = {c for row in sheet.iter_rows(values_only=True) for c in row}
        assert '\'=HYPERLINK("http://evil")' in cells
        assert not any(isinstance(c, str) and c.startswith(("=", "+", "@")) for c in cells)
