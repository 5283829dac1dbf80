"""PIN lots through the Reseller Manager: generated, listed, blocked, refilled and
exported as a whole. (100,000 in one call: bench/bench_pins.py.)"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from client import errors
from db.ledger import ledger_sum
from db.schema import Account
from services.reseller.pins_usecases import draw_pins
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
D = Decimal
COUNT = 2000


class TestDrawPins:
    def test_redraws_duplicates_and_pins_already_taken(self) -> None:
        # A source that repeats itself, and a database that already holds 0..4.
        source = itertools.cycle([1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11])
        taken = {str(n).zfill(6) for n in range(5)}
        pins = draw_pins(4, 6, lambda c: c & taken, lambda _space: next(source))
        assert pins == {"000005", "000006", "000007", "000008"}

    def test_keeps_leading_zeros(self) -> None:
        assert draw_pins(1, 8, lambda c: set(), lambda _space: 42) == {"00000042"}


class TestPinLots:
    def test_a_lot_has_unique_pins_credit_in_the_ledger_and_exports(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        lot = r2.GeneratePins(
            count=COUNT,
            length=10,
            initial_credit=D("2.5"),
            sheet_id=tree.sheets["R2 retail"],
            lot_name="Winter cards",
        )
        assert (lot.cards, lot.active, lot.balance) == (COUNT, COUNT, COUNT * D("2.5"))
        with session_factory() as s:
            cards = s.scalars(select(Account).where(Account.lot_id == lot.id)).all()
            pins = {c.pin for c in cards}
            assert len(pins) == COUNT and all(p and len(p) == 10 and p.isdigit() for p in pins)
            assert {c.kind for c in cards} == {"card"}
            assert {c.rate_sheet_id for c in cards} == {tree.sheets["R2 retail"]}
            assert all(c.path == f"{c.parent.path}{c.id}/" for c in cards[:50])
            assert all(ledger_sum(s, c.id) == c.balance == D("2.5") for c in cards[:50])
        exported = r2.ExportLot(lot_id=lot.id, format="csv")
        rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
        assert {r["pin"] for r in rows} == pins
        book = load_workbook(io.BytesIO(r2.ExportLot(lot_id=lot.id, format="xlsx").data))
        cells = list(book.worksheets[0].iter_rows(values_only=True))
        assert cells[0] == ("account_id", "pin", "status", "balance")
        assert {c[1] for c in cells[1:]} == pins

    def test_a_lot_is_blocked_refilled_and_listed_as_a_whole(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        lot = r2.GeneratePins(count=50, length=8, lot_name="Small")
        assert r2.BlockLot(lot_id=lot.id, reason="stolen box") == 50
        listed = r2.ListLots()
        assert [(x.id, x.active) for x in listed.items] == [(lot.id, 0)]
        assert r2.UnblockLot(lot_id=lot.id) == 50
        assert r2.RefillLot(lot_id=lot.id, amount=D("1.25")) == 50
        assert r2.RefillLot(lot_id=lot.id, amount=D("0.75"), reference="bonus") == 50
        assert r2.ListLots().items[0].balance == 50 * D("2")
        with session_factory() as s:
            for card in s.scalars(select(Account).where(Account.lot_id == lot.id)):
                assert ledger_sum(s, card.id) == card.balance == D("2")
        # R2's own balance does not move when it refills its cards.
        assert tree.api("R2").billing.GetBalance().balance == 0

    def test_a_lot_too_big_for_its_pin_length_is_refused(self, tree: Tree) -> None:
        with pytest.raises(errors.InvalidInput, match="2000 PINs need at least 7 digits"):
            tree.api("R2").reseller.GeneratePins(count=2000, length=6, lot_name="dense")
        assert tree.api("R2").reseller.ListLots().total == 0
