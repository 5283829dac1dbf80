"""The desktop tool's real window (offscreen Qt, pytest-qt) against a real `siptar
serve` subprocess and the AMI replay server: open a booth, its call on the tile within
two polls at the sell price, close and charge, the receipt's PDF and total, the day's
profit against the ledger; the server gone; a bad login and a bad address."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip(
    "PySide6.QtWidgets",
    reason="PySide6 (the `callshop` extra) or Qt's system libraries are missing: make qt-libs",
)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pypdf import PdfReader
from sqlalchemy import func, select

from client import SiptarClient
from client.callshop.app import check_login
from client.callshop.state import POLL_SECONDS
from client.callshop.window import CallShopWindow
from db.callshop_schema import BoothSession
from db.schema import LedgerEntry
from tests.callshop.conftest import PASSWORD, BoothCall
from tests.callshop.desktop_world import AmiFeed, World, served_shop, soon
from tests.pgserver import free_port

pytestmark = pytest.mark.e2e
D = Decimal
SPAIN = "34911234567"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with served_shop(tmp_path) as w:
        yield w


def charged(world: World) -> tuple[int, Decimal]:
    with world.session_factory() as s:
        n, total = s.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == world.shop.id, LedgerEntry.kind == "call"
            )
        ).one()
    return int(n), -Decimal(total)


def test_a_booth_from_open_to_charged_in_the_window(
    world: World, qtbot: object, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt
    from pytestqt.qtbot import QtBot

    assert isinstance(qtbot, QtBot)
    api = SiptarClient(world.url, "shop1", PASSWORD, timeout=5)
    window = CallShopWindow(api, tmp_path / "receipts")
    qtbot.addWidget(window)
    window.show()
    window.poll()
    b1 = world.shop.booths["booth1"]
    assert sorted(t.title.text() for t in window.tiles.values()) == ["Booth booth1", "Booth booth2"]

    qtbot.mouseClick(window.tiles[b1], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.open_button, Qt.MouseButton.LeftButton)
    assert window.tiles[b1].state.text() == "open"

    call = BoothCall(11, "shop1", SPAIN, billsec=95, start=soon(), peer="booth1")
    assert api.billing.Authorize(call={"number": SPAIN, "account": "booth1"}).allowed
    with AmiFeed(world.session_factory, [call], ("up",), tmp_path):
        # On the tile within two polls once answered (the answer is a second ahead):
        # the first whole minute and the connect fee, 0.15 at the sell sheet.
        qtbot.waitUntil(
            lambda: "call 0.150000" in window.tiles[b1].money.text(),
            timeout=int((2 * POLL_SECONDS + 3) * 1000),
        )
        assert window.tiles[b1].state.text() == "in call"
        assert SPAIN in window.tiles[b1].call.text()
    with AmiFeed(world.session_factory, [call], ("end",), tmp_path):
        qtbot.waitUntil(lambda: charged(world)[0] == 1, timeout=20000)

    qtbot.mouseClick(window.charge_button, Qt.MouseButton.LeftButton)
    assert window.pending_charges == []
    quote = api.billing.QuoteSellPrice(number=SPAIN, seconds=95)
    assert window.last_total == quote.price == D("0.250000")
    assert window.last_receipt is not None
    text = " ".join(PdfReader(str(window.last_receipt)).pages[0].extract_text().split())
    assert "Total: 0.250000 USD" in text and SPAIN in text
    assert window.tiles[b1].state.text() == "free"

    cost = charged(world)[1]
    day = window.day_totals
    assert (day.revenue, day.cost, day.profit) == (D("0.25"), cost, D("0.25") - cost)
    assert f"profit {day.profit}" in window.day.text()

    # The server goes away: the last data stays, marked stale, and the window retries.
    world.stop_server()
    window.poll()
    assert "Cannot reach the server" in window.status.text()
    window.board.fetched_at = (window.board.fetched_at or 0) - 10 * POLL_SECONDS
    window.redraw()
    assert window.tiles[b1].state.text() == "free (stale)"


def test_a_charge_the_server_could_not_take_is_kept_and_sent_when_it_is_back(
    world: World, qtbot: object, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    api = SiptarClient(world.url, "shop1", PASSWORD, timeout=5)
    window = CallShopWindow(api, tmp_path / "receipts")
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    b2 = world.shop.booths["booth2"]
    api.billing.OpenBoothSession(booth_id=b2)
    closed = api.billing.CloseBoothSession(booth_id=b2)
    window.poll()
    window.select(b2)
    assert window.tiles[b2].state.text() == "to pay"
    world.stop_server()
    qtbot.mouseClick(window.charge_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert window.pending_charges == [closed.session_id]
    assert "Cannot reach the server" in window.message.text()
    world.start_server()
    window.poll()
    assert window.pending_charges == []
    with world.session_factory() as s:
        row = s.get(BoothSession, closed.session_id)
        assert row is not None and row.status == "paid"
    assert window.tiles[b2].state.text() == "free"


def test_a_wrong_password_and_a_wrong_address_are_said_in_words(world: World) -> None:
    bad_login = SiptarClient(world.url, "shop1", "not-the-password", timeout=5)
    assert check_login(bad_login).startswith(f"Login refused by {world.url}")
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert check_login(SiptarClient(nowhere, "shop1", PASSWORD, timeout=5)) == (
        f"Cannot reach the server at {nowhere} (is the address right, is it running?)"
    )
    assert check_login(SiptarClient(world.url, "shop1", PASSWORD, timeout=5)) == ""
