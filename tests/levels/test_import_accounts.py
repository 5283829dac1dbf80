"""Accounts import (all or nothing, a bad row named by its line) and export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from db.schema import Account, LedgerEntry
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
ROWS = 10_000
HEADER = ["name", "billing_type", "credit_limit", "initial_credit", "accountcode", "kind"]


def workbook(bad_line: int | None = None) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for n in range(2, ROWS + 2):  # the header is line 1
        postpaid = n % 2 == 0
        row = [
            f"Imported {n}",
            "postpaid" if postpaid else "prepaid",
            "15" if postpaid else "",
            # Numbers as a spreadsheet stores them (floats), and as text.
            1.25 if n % 3 == 0 else "0.5",
            f"imp{n}",
            "sip",
        ]
        if n == bad_line:
            row[1] = "monthly"
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def account_count(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.execute(select(func.count()).select_from(Account)).scalar_one())


class TestImportAccounts:
    def test_a_bad_row_is_named_by_its_line_and_nothing_is_created(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        before = account_count(session_factory)
        with pytest.raises(errors.InvalidInput) as e:
            tree.api("R2").reseller.ImportAccounts(format="xlsx", data=workbook(bad_line=5000))
        assert e.value.message.startswith("line 5000, column 'billing_type'")
        assert account_count(session_factory) == before

    def test_ten_thousand_rows_are_all_created_with_their_credit_in_the_ledger(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2")
        assert r2.reseller.ImportAccounts(format="xlsx", data=workbook()).created == ROWS
        with session_factory() as s:
            imported = s.scalars(select(Account).where(Account.name.startswith("Imported "))).all()
            assert len(imported) == ROWS
            assert {a.parent_id for a in imported} == {tree.ids["R2"]}
            assert all(a.path == f"{a.parent.path}{a.id}/" for a in imported[:100])
            by_code = {a.accountcode: a for a in imported}
            assert by_code["imp6"].balance == D("1.25") and by_code["imp6"].credit_limit == 15
            assert by_code["imp7"].balance == D("0.5") and by_code["imp7"].billing_type == "prepaid"
            ledger = s.execute(
                select(func.sum(LedgerEntry.amount), func.count())
                .join(Account, Account.id == LedgerEntry.account_id)
                .where(Account.parent_id == tree.ids["R2"], Account.name.startswith("Imported "))
            ).one()
            assert ledger[0] == sum((a.balance for a in imported), D(0))
            assert ledger[1] == ROWS
        assert r2.reseller.ListAccounts(search="Imported", limit=1).total == ROWS

    def test_a_username_taken_elsewhere_is_named_by_its_line(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        before = account_count(session_factory)
        data = b"name,username,password\nA,fresh-user,long-enough-pw\nB,xc,long-enough-pw\n"
        with pytest.raises(errors.AlreadyExists, match="line 3, column 'username'"):
            tree.api("R2").reseller.ImportAccounts(format="csv", data=data)
        data = b"name,accountcode\nA,dup1\nB,dup1\n"
        with pytest.raises(errors.InvalidInput, match=r"line 3, column 'accountcode'.*line 2"):
            tree.api("R2").reseller.ImportAccounts(format="csv", data=data)
        assert account_count(session_factory) == before

    def test_a_row_with_username_and_password_can_log_in(
        self, tree: Tree, client_for: Callable[[str, str], SiptarClient]
    ) -> None:
        data = b"name,username,password,initial_credit\nDora,dora,dora-password,3\n"
        assert tree.api("R2").reseller.ImportAccounts(format="csv", data=data).created == 1
        assert client_for("dora", "dora-password").billing.GetBalance().balance == D(3)
        with pytest.raises(errors.AuthenticationFailed):
            client_for("dora", "wrong-password").billing.GetBalance()

    def test_the_export_lists_the_subtree_in_both_formats(self, tree: Tree) -> None:
        r1 = tree.api("R1").reseller
        rows = list(csv.DictReader(io.StringIO(r1.ExportAccounts(format="csv").data.decode())))
        assert [r["name"] for r in rows] == ["R2", "C1", "C2"]
        assert rows[1]["accountcode"] == "acct1001" and rows[1]["balance"] == "10.000000"
        book = load_workbook(io.BytesIO(r1.ExportAccounts(format="xlsx").data))
        names = [r[2] for r in book.worksheets[0].iter_rows(values_only=True)]
        assert names == ["name", "R2", "C1", "C2"]
