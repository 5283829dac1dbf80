"""`siptar-callshop`: start the desktop tool.

    siptar-callshop --url http://billing.example:8080 --username shop1
    (the password from SIPTAR_CALLSHOP_PASSWORD, else asked for on the terminal)

The login and the address are tried before the window opens: a wrong password or an
unreachable server is said in words and the program exits with status 2.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

import requests

from client import SiptarClient
from client.callshop.state import explain
from client.errors import SiptarError


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="siptar-callshop", description=__doc__.split("\n")[0])
    p.add_argument("--url", default=os.environ.get("SIPTAR_URL", "http://127.0.0.1:8080"))
    p.add_argument("--username", default=os.environ.get("SIPTAR_CALLSHOP_USER", ""))
    p.add_argument("--receipts", type=Path, default=Path.home() / "siptar-receipts")
    p.add_argument(
        "--screenshot", type=Path, help="save a PNG of the window after the first poll and exit"
    )
    return p.parse_args(argv)


def check_login(api: SiptarClient) -> str:
    """ "" if the server takes the login, else what is wrong, in words."""
    try:
        api.billing.ListBooths(limit=1)
    except (SiptarError, requests.exceptions.RequestException) as e:
        return explain(e, api.url)
    return ""


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    password = os.environ.get("SIPTAR_CALLSHOP_PASSWORD") or getpass.getpass("password: ")
    if not args.username:
        print("siptar-callshop: give --username (or SIPTAR_CALLSHOP_USER)", file=sys.stderr)
        return 2
    api = SiptarClient(args.url, args.username, password, timeout=5)
    problem = check_login(api)
    if problem:
        print(f"siptar-callshop: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication  # only now: --help works without Qt

    from client.callshop.window import CallShopWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = CallShopWindow(api, args.receipts, shop_name=args.username)
    window.resize(900, 560)
    window.show()
    window.poll()
    if args.screenshot is not None:
        window.grab().save(str(args.screenshot))
        return 0
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
