"""A rate deck over lxml's 10 MB text-node limit loads through the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("demo")


def deck(rows: int) -> str:
    lines = ["prefix,destination,price"]
    lines += [
        f"{99_000_000 + i},Far away beyond the seven seas - mobile network number {i:07d},0.1234"
        for i in range(rows)
    ]
    return "\n".join(lines) + "\n"


def test_an_11_mb_deck_is_imported(client_for: Callable[[str, str], Any]) -> None:
    text = deck(150_000)
    assert len(text.encode()) > 11 * 1024 * 1024
    config = client_for("admin", "admin").config
    sheet = config.CreateRateSheet(sheet={"name": "A-Z"})
    result = config.ImportRates(sheet_id=sheet.id, csv=text, replace=True)
    assert result.imported == 150_000
    page = config.ListRates(sheet_id=sheet.id, prefix="99149999")
    assert [r.destination for r in page.items] == [
        "Far away beyond the seven seas - mobile network number 0149999"
    ]
