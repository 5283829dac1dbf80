"""The main window: booth tiles, the actions on the selected booth, the price lookup
and the day's totals. Polls the board every POLL_SECONDS and ticks durations between
polls; when the server can't be reached it shows the last data as stale, retries, and
keeps a charge it could not send until the server takes it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client import SiptarClient
from client.callshop.receipt import save_pdf
from client.callshop.state import POLL_SECONDS, Board, explain
from client.errors import SiptarError

COLOURS = {
    "locked": "#9e9e9e",
    "free": "#e0e0e0",
    "open": "#a5d6a7",
    "in_call": "#ffcc80",
    "to_pay": "#ef9a9a",
}
COLUMNS = 4


def _clock(seconds: int) -> str:
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class BoothTile(QFrame):
    def __init__(self, window: CallShopWindow, booth_id: int) -> None:
        super().__init__()
        self.window_, self.booth_id = window, booth_id
        self.setFrameShape(QFrame.Shape.Box)
        self.setMinimumSize(190, 120)
        layout = QVBoxLayout(self)
        self.title, self.state, self.call, self.money = QLabel(), QLabel(), QLabel(), QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        for label in (self.title, self.state, self.call, self.money):
            layout.addWidget(label)

    def show_booth(self, booth: Any, elapsed: float, stale: bool, selected: bool) -> None:
        self.title.setText(booth.name)
        self.state.setText(booth.state.replace("_", " ") + (" (stale)" if stale else ""))
        call = booth.call
        if call is not None:
            seconds = call.seconds + (int(elapsed) if call.answered_at is not None else 0)
            self.call.setText(f"{call.number} {call.destination or ''}\n{_clock(seconds)}")
            self.money.setText(f"call {call.price}  session {booth.session_total}")
        else:
            self.call.setText("")
            self.money.setText(f"session {booth.session_total}" if booth.session_id else "")
        border = "3px solid #1565c0" if selected else "1px solid #555"
        colour = "#f5f5f5" if stale else COLOURS.get(booth.state, "#ffffff")
        self.setStyleSheet(f"BoothTile {{ background: {colour}; border: {border}; }}")

    def mousePressEvent(self, event: Any) -> None:
        self.window_.select(self.booth_id)


class CallShopWindow(QMainWindow):
    def __init__(
        self,
        api: SiptarClient,
        receipts: Path,
        shop_name: str = "SipTar Call Shop",
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.api, self.receipts, self.shop_name = api, receipts, shop_name
        self.board = Board(api)
        self.tiles: dict[int, BoothTile] = {}
        self.selected: int | None = None
        self.pending_charges: list[int] = []  # sessions closed whose charge is not sent yet
        self.last_receipt: Path | None = None
        self.last_total: Any = None  # the last receipt's total
        self.day_totals: Any = None  # the last GetShopDay answer
        self.setWindowTitle(f"{shop_name} - {api.url}")
        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        self.status = QLabel("connecting...")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        self.grid = QGridLayout()
        root.addLayout(self.grid)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open session")
        self.charge_button = QPushButton("Close && charge")
        self.lock_button = QPushButton("Lock / unlock")
        for button, slot in (
            (self.open_button, self.open_session),
            (self.charge_button, self.close_and_charge),
            (self.lock_button, self.toggle_lock),
        ):
            button.clicked.connect(slot)
            actions.addWidget(button)
        root.addLayout(actions)
        lookup = QHBoxLayout()
        self.number = QLineEdit()
        self.number.setPlaceholderText("number to price")
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 600)
        self.minutes.setSuffix(" min")
        quote_button = QPushButton("Price")
        quote_button.clicked.connect(self.quote)
        self.quote_result = QLabel("")
        for w in (self.number, self.minutes, quote_button, self.quote_result):
            lookup.addWidget(w)
        root.addLayout(lookup)
        self.day = QLabel("")
        root.addWidget(self.day)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        root.addWidget(self.message)
        self.poll_timer = QTimer(self)
        self.poll_timer.timeout.connect(self.poll)
        self.poll_timer.start(int(poll_seconds * 1000))
        self.tick_timer = QTimer(self)
        self.tick_timer.timeout.connect(self.redraw)
        self.tick_timer.start(1000)

    # the data
    def poll(self) -> None:
        if self.board.refresh():
            if self.pending_charges and self._send_pending_charges():
                self.board.refresh()  # the booths just charged are free now
            self._refresh_day()
        self.redraw()

    def _refresh_day(self) -> None:
        try:
            d = self.api.billing.GetShopDay(day=datetime.now(UTC).date())
        except (SiptarError, requests.exceptions.RequestException) as e:
            self.message.setText(explain(e, self.api.url))
            return
        self.day.setText(
            f"Today: {d.sessions} sessions, {d.calls} calls, {d.billed_minutes} min, "
            f"revenue {d.revenue}, cost {d.cost}, profit {d.profit} {d.currency}"
        )
        self.day_totals = d

    def redraw(self) -> None:
        b = self.board
        if b.error:
            age = b.age()
            since = f"; data {int(age)} s old" if age is not None else ""
            self.status.setText(f"{b.error} - retrying every {POLL_SECONDS:g} s{since}")
            self.status.setStyleSheet("color: #b71c1c; font-weight: bold")
        else:
            self.status.setText(f"Connected to {self.api.url}")
            self.status.setStyleSheet("color: #1b5e20")
        elapsed, stale = b.age() or 0.0, b.stale
        for i, booth in enumerate(b.booths):
            tile = self.tiles.get(booth.id)
            if tile is None:
                tile = self.tiles[booth.id] = BoothTile(self, booth.id)
                self.grid.addWidget(tile, i // COLUMNS, i % COLUMNS)
            tile.show_booth(booth, elapsed, stale, booth.id == self.selected)

    def booth(self, booth_id: int) -> Any:
        return next((x for x in self.board.booths if x.id == booth_id), None)

    # the actions
    def select(self, booth_id: int) -> None:
        self.selected = booth_id
        self.redraw()

    def _act(self, what: str, call: Any) -> Any:
        try:
            result = call()
        except (SiptarError, requests.exceptions.RequestException) as e:
            self.message.setText(f"{what}: {explain(e, self.api.url)}")
            return None
        self.message.setText("")
        return result

    def open_session(self) -> None:
        if self.selected is not None:
            booth_id = self.selected
            self._act("Open", lambda: self.api.billing.OpenBoothSession(booth_id=booth_id))
            self.poll()

    def toggle_lock(self) -> None:
        booth = self.booth(self.selected) if self.selected is not None else None
        if booth is not None:
            locked = booth.state == "locked"
            op = self.api.billing.UnlockBooth if locked else self.api.billing.LockBooth
            self._act("Lock", lambda: op(booth_id=booth.id))
            self.poll()

    def close_and_charge(self) -> None:
        """Close the selected booth's session, save its receipt as PDF, charge it. A
        charge the server can't take now is kept and sent on the next good poll."""
        booth = self.booth(self.selected) if self.selected is not None else None
        if booth is None or booth.session_id is None:
            return
        if booth.state != "to_pay":
            receipt = self._act(
                "Close", lambda: self.api.billing.CloseBoothSession(booth_id=booth.id)
            )
            if receipt is None:
                return
        else:
            receipt = self._act(
                "Receipt", lambda: self.api.billing.GetBoothReceipt(session_id=booth.session_id)
            )
            if receipt is None:
                self.pending_charges.append(booth.session_id)
                return
        self.receipts.mkdir(parents=True, exist_ok=True)
        path = self.receipts / f"receipt-{receipt.session_id}.pdf"
        self.last_receipt = save_pdf(receipt, self.shop_name, path)
        self.last_total = receipt.total
        self.pending_charges.append(receipt.session_id)
        self._send_pending_charges()
        self.poll()

    def _send_pending_charges(self) -> bool:
        """Send the charges kept; True if any was sent."""
        sent = False
        for session_id in list(self.pending_charges):
            try:
                self.api.billing.ChargeBoothSession(session_id=session_id)
            except requests.exceptions.RequestException as e:
                self.message.setText(f"Charge kept, will retry: {explain(e, self.api.url)}")
                return sent
            except SiptarError as e:  # already paid (sent twice) or gone: nothing to retry
                self.message.setText(f"Charge: {explain(e, self.api.url)}")
            self.pending_charges.remove(session_id)
            sent = True
        return sent

    def quote(self) -> None:
        number, seconds = self.number.text().strip(), self.minutes.value() * 60
        if not number:
            return
        q = self._act(
            "Price", lambda: self.api.billing.QuoteSellPrice(number=number, seconds=seconds)
        )
        if q is not None:
            self.quote_result.setText(
                f"{q.destination}: {q.price} {q.currency} ({q.price_per_minute}/min)"
            )
