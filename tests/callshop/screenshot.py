"""`make callshop-screenshot`: the call-shop window with booths in every state, saved as
a PNG (docs/callshop.png), against a real server and a call replayed over AMI.

    QT_QPA_PLATFORM=offscreen python -m tests.callshop.screenshot docs/callshop.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from client import SiptarClient
from client.callshop.window import CallShopWindow
from tests.callshop.conftest import PASSWORD, BoothCall
from tests.callshop.desktop_world import AmiFeed, served_shop, soon

PEERS = ("booth1", "booth2", "booth3", "booth4", "booth5")


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp, served_shop(Path(tmp), PEERS) as world:
        api = SiptarClient(world.url, "shop1", PASSWORD, timeout=5)
        b = world.shop.booths
        for peer in ("booth1", "booth2", "booth3"):
            api.billing.OpenBoothSession(booth_id=b[peer])
        api.billing.CloseBoothSession(booth_id=b["booth3"])  # to pay
        api.billing.LockBooth(booth_id=b["booth4"])
        call = BoothCall(21, "shop1", "34911234567", billsec=300, start=soon(-70), peer="booth1")
        with AmiFeed(world.session_factory, [call], ("up",), Path(tmp)):
            window = CallShopWindow(api, Path(tmp) / "receipts", shop_name="Shop shop1")
            window.resize(900, 520)
            window.show()
            window.select(b["booth1"])
            window.number.setText("34911234567")
            window.minutes.setValue(3)
            window.quote()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # until the listener has the call up
                window.poll()
                app.processEvents()
                if window.tiles[b["booth1"]].state.text() == "in call":
                    break
                time.sleep(0.2)
            window.grab().save(str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/callshop.png"))
