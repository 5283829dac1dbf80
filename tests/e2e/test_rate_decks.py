"""Rate sheets and decks over HTTP through client/, on SQLite and PostgreSQL: QuoteCall on
the issue's worked examples, bands and tiers; ImportRates, ImportRatesXlsx and
ExportRates (round trips, bad rows, replace and merge); and a rate change seen by a
second server process on its very next quote."""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from openpyxl import Workbook

from client import SiptarClient, errors
from tests.pgserver import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

Client = Callable[[str, str], SiptarClient]
D = Decimal
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]

EXAMPLES = """prefix,destination,price,initial_increment,increment,connect_fee
1,Block 45/60,0.10,45,60,
2,Block 30/6,0.10,30,6,
3,Block 60/60,0.10,60,60,
4,Per second,0.10,1,1,
5,Per second with a fee,0.10,1,1,0.05
"""

# Every column, with tiers, bands, validity and text that needs quoting.
FULL = "\n".join(
    [
        "prefix,destination,price,tiers,initial_increment,increment,connect_fee,"
        "included_seconds,free_below,min_cost,max_cost,weekdays,time_from,time_to,"
        "valid_from,valid_to",
        '6,"Peak, weekdays",0.20,,1,1,,,,,,mon-fri,08:00,18:00,,',
        "6,Off-peak,0.10,,1,1,,,,,,,18:00,08:00,,",
        '6,Weekend,0.05,,1,1,,,,,,"sat,sun",,,,',
        "7,Tiered,,0:0.10:60;60:0.05:6,,,0.000001,5,3,0.01,9.5,,,,,",
        '0044,"UK ""quoted""",0.123456,,30,6,0.05,,,,,,,,2025-07-01,2030-01-01T12:30:00Z',
        "8,Later,0.30,,60,60,,,,,,mon,00:00:30,24:00,2030-01-01T08:00:00Z,",
        "",
    ]
)


def new_sheet(api: SiptarClient, name: str, deck: str = "", **options: object) -> int:
    sheet = api.config.CreateRateSheet(sheet={"name": name, **options})
    if deck:
        api.config.ImportRates(sheet_id=sheet.id, csv=deck, replace=True)
    return int(sheet.id)


def prices(api: SiptarClient, sheet_id: int) -> list[tuple[str, Any, str]]:
    page = api.config.ListRates(sheet_id=sheet_id, limit=1000)
    return [(r.prefix, r.price, r.weekdays or "") for r in page.items]


def xlsx_base64(rows: list[list[object]], numbers: dict[str, str] | None = None) -> str:
    """An .xlsx of `rows` (numbers as number cells); `numbers` rewrites number cells'
    stored text, e.g. to the 17 digits Excel stores for a computed 0.1 + 0.2 (openpyxl
    itself writes at most 16)."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if numbers:
        data = _rewrite_cells(data, numbers)
    return base64.b64encode(data).decode()


def _rewrite_cells(data: bytes, numbers: dict[str, str]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                for old, new in numbers.items():
                    content = content.replace(f"<v>{old}</v>".encode(), f"<v>{new}</v>".encode())
            target.writestr(item, content)
    return out.getvalue()


@pytest.fixture
def api(client_for: Client) -> SiptarClient:
    return client_for("admin", "admin")


class TestQuoteCallWorkedExamples:
    @pytest.fixture
    def sheets(self, api: SiptarClient) -> tuple[int, int]:
        first = new_sheet(api, "First block", EXAMPLES, block_mode="first_block")
        whole = new_sheet(api, "Whole call", EXAMPLES, block_mode="whole_call")
        return first, whole

    def quote(self, api: SiptarClient, sheet: int, number: str, seconds: int) -> Any:
        return api.billing.QuoteCall(sheet_id=sheet, number=number, duration=seconds, start=MONDAY)

    def test_45_60_bills_the_first_block_then_whole_increments(
        self, api: SiptarClient, sheets: tuple[int, int]
    ) -> None:
        first, whole = sheets
        assert self.quote(api, first, "1555", 46).cost == D("0.1750")
        assert self.quote(api, whole, "1555", 46).cost == D("0.1000")

    def test_30_6_and_60_60_agree_in_both_modes(
        self, api: SiptarClient, sheets: tuple[int, int]
    ) -> None:
        for sheet in sheets:
            assert self.quote(api, sheet, "2555", 31).cost == D("0.0600")
            assert self.quote(api, sheet, "3555", 61).cost == D("0.2000")

    def test_per_second_keeps_the_exact_cost_and_rounds_the_billed_one(
        self, api: SiptarClient, sheets: tuple[int, int]
    ) -> None:
        quote = self.quote(api, sheets[0], "4555", 59)
        assert (quote.exact_cost, quote.cost) == (D("0.098333"), D("0.0983"))
        assert (quote.prefix, quote.destination, quote.billed_seconds) == ("4", "Per second", 59)

    def test_a_zero_second_call_pays_no_connect_fee(
        self, api: SiptarClient, sheets: tuple[int, int]
    ) -> None:
        assert self.quote(api, sheets[0], "5555", 0).cost == D("0")
        assert self.quote(api, sheets[0], "5555", 1).cost == D("0.0517")

    def test_an_unknown_destination_is_no_rate_for_destination(
        self, api: SiptarClient, sheets: tuple[int, int]
    ) -> None:
        with pytest.raises(errors.NoRateForDestination):
            self.quote(api, sheets[0], "999", 60)


class TestQuoteCallBandsAndTiers:
    def test_a_call_crossing_18_00_is_split_and_priced_per_band(self, api: SiptarClient) -> None:
        sheet = new_sheet(api, "Bands", FULL)
        start = datetime(2026, 11, 23, 17, 59, 30, tzinfo=UTC)
        quote = api.billing.QuoteCall(sheet_id=sheet, number="6123", duration=90, start=start)
        parts = [(p.band, p.seconds, p.billed_seconds, p.price) for p in quote.parts]
        assert parts == [
            ("mon-fri 08:00-18:00", 30, 30, D("0.2")),
            ("18:00-08:00", 60, 60, D("0.1")),
        ]
        assert quote.cost == D("0.2000")  # 30 s at 0.20 + 60 s at 0.10

    def test_a_tiered_rate_bills_each_tier_at_its_increment(self, api: SiptarClient) -> None:
        sheet = new_sheet(api, "Tiers", FULL)
        quote = api.billing.QuoteCall(sheet_id=sheet, number="7123", duration=66, start=MONDAY)
        # 5 free seconds: 61 s rated; 60 s at 0.10, then 1 s rounded up to 6 s at 0.05
        assert [p.billed_seconds for p in quote.parts] == [60, 6]
        assert quote.exact_cost == D("0.105001")  # plus the 0.000001 connect fee
        assert quote.cost == D("0.1050")


class TestExportRates:
    def test_csv_export_then_replace_import_gives_the_identical_sheet(
        self, api: SiptarClient
    ) -> None:
        source = new_sheet(api, "Source", FULL)
        exported = api.config.ExportRates(sheet_id=source, format="csv")
        assert (exported.format, exported.rate_count) == ("csv", 6)
        copy = new_sheet(api, "Copy")
        assert exported.content_type.startswith("text/csv")
        api.config.ImportRates(sheet_id=copy, csv=exported.data.decode(), replace=True)
        again = api.config.ExportRates(sheet_id=copy)
        assert again.data == exported.data
        assert b'"UK ""quoted"""' in again.data and b"0.123456" in again.data
        listed = api.config.ListRates(sheet_id=source, limit=1000).items
        copied = api.config.ListRates(sheet_id=copy, limit=1000).items
        assert [_fields(r) for r in copied] == [_fields(r) for r in listed]

    def test_xlsx_export_then_xlsx_import_gives_the_identical_sheet(
        self, api: SiptarClient
    ) -> None:
        source = new_sheet(api, "Source", FULL)
        workbook = api.config.ExportRates(sheet_id=source, format="xlsx")
        assert workbook.data[:2] == b"PK"  # a zip: an .xlsx
        copy = new_sheet(api, "Copy")
        xlsx = base64.b64encode(workbook.data).decode()
        result = api.config.ImportRatesXlsx(sheet_id=copy, xlsx=xlsx, replace=True)
        assert result.imported == 6
        csv_of = api.config.ExportRates
        assert csv_of(sheet_id=copy).data == csv_of(sheet_id=source).data

    def test_an_unknown_format_is_refused_by_the_schema(self, api: SiptarClient) -> None:
        with pytest.raises(errors.SchemaValidationError):
            api.config.ExportRates(sheet_id=new_sheet(api, "S", EXAMPLES), format="pdf")


def _fields(rate: Any) -> tuple[object, ...]:
    return tuple(getattr(rate, name) for name in rate if name != "id")


class TestImportRates:
    DECK = "prefix,destination,price\n34,Spain,0.10\n44,UK,0.20\n"

    def test_merge_replaces_rows_with_the_same_prefix_and_band_and_adds_the_rest(
        self, api: SiptarClient
    ) -> None:
        sheet = new_sheet(api, "Merge", self.DECK)
        deck = "prefix,price,weekdays\n34,0.15,\n33,0.30,\n44,0.25,sat-sun\n"
        result = api.config.ImportRates(sheet_id=sheet, csv=deck, replace=False)
        assert (result.imported, result.removed) == (3, 1)
        assert prices(api, sheet) == [
            ("33", D("0.3"), ""),
            ("34", D("0.15"), ""),
            ("44", D("0.2"), ""),  # its band differs from the new one's: both stay
            ("44", D("0.25"), "sat,sun"),
        ]

    def test_replace_makes_the_sheet_exactly_the_file(self, api: SiptarClient) -> None:
        sheet = new_sheet(api, "Replace", self.DECK)
        result = api.config.ImportRates(sheet_id=sheet, csv="price,prefix\n0.15,34\n", replace=True)
        assert (result.imported, result.removed) == (1, 2)
        assert prices(api, sheet) == [("34", D("0.15"), "")]

    def test_a_bad_csv_row_names_its_line_and_column_and_changes_nothing(
        self, api: SiptarClient
    ) -> None:
        sheet = new_sheet(api, "Bad", self.DECK)
        version = api.config.ExportRates(sheet_id=sheet).version
        bad = "prefix,price,increment\n35,0.10,6\n36,0.10,0\n"
        for replace in (True, False):
            with pytest.raises(errors.InvalidInput) as raised:
                api.config.ImportRates(sheet_id=sheet, csv=bad, replace=replace)
            assert raised.value.message.startswith("line 3, column 'increment'")
        assert prices(api, sheet) == [("34", D("0.1"), ""), ("44", D("0.2"), "")]
        assert api.config.ExportRates(sheet_id=sheet).version == version

    def test_an_xlsx_deck_typed_with_number_cells_is_read_exactly(self, api: SiptarClient) -> None:
        sheet = new_sheet(api, "Typed")
        rows: list[list[object]] = [
            ["Prefix", "Price", "Initial_Increment", "increment", "connect_fee", "valid_from"],
            [34, 0.0125, 30, 6, 0.1, datetime(2025, 7, 1)],
            [],
            ["0044", 0.07, 60, 60, None, None],
        ]
        api.config.ImportRatesXlsx(sheet_id=sheet, xlsx=xlsx_base64(rows), replace=True)
        page = api.config.ListRates(sheet_id=sheet).items
        assert [(r.prefix, r.price, r.connect_fee, r.increment) for r in page] == [
            ("0044", D("0.07"), D("0"), 60),
            ("34", D("0.0125"), D("0.1"), 6),
        ]
        assert page[1].valid_from == datetime(2025, 7, 1, tzinfo=UTC)

    def test_a_bad_xlsx_row_names_its_row_and_column_and_changes_nothing(
        self, api: SiptarClient
    ) -> None:
        sheet = new_sheet(api, "Bad xlsx", self.DECK)
        rows: list[list[object]] = [["prefix", "price"], [35, 0.1], [36, 0.125]]
        # What Excel stores for a cell computing =0.1+0.2
        workbook = xlsx_base64(rows, {"0.125": "0.30000000000000004"})
        with pytest.raises(errors.InvalidInput) as raised:
            api.config.ImportRatesXlsx(sheet_id=sheet, xlsx=workbook, replace=True)
        assert raised.value.message.startswith("line 3, column 'price'")
        assert "0.30000000000000004" in raised.value.message
        assert prices(api, sheet) == [("34", D("0.1"), ""), ("44", D("0.2"), "")]

    def test_what_is_not_an_xlsx_workbook_is_invalid_input(self, api: SiptarClient) -> None:
        sheet = new_sheet(api, "Not xlsx")
        for content in ("not base64!", base64.b64encode(b"prefix,price\n1,2\n").decode()):
            with pytest.raises(errors.InvalidInput):
                api.config.ImportRatesXlsx(sheet_id=sheet, xlsx=content)

    def test_decks_are_for_the_admin_only(self, client_for: Client) -> None:
        reseller = client_for("reseller", "reseller")
        with pytest.raises(errors.AccessDenied):
            reseller.config.ExportRates(sheet_id=1)


@pytest.fixture
def second_worker(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another server process (gunicorn, one worker, its own plan cache) on the same
    database."""
    port = free_port()
    env = {**os.environ, "SIPTAR_DATABASE_URL": database_url}
    env.pop("SIPTAR_PUBLIC_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the second server exited"
            assert time.monotonic() < deadline, "the second server did not answer"
            try:
                if requests.get(f"{url}/billing?wsdl", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still booting
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


class TestRateChangesReachEveryWorker:
    def test_a_second_server_prices_with_the_new_rate_on_its_next_quote(
        self, api: SiptarClient, second_worker: str
    ) -> None:
        other = SiptarClient(second_worker, "admin", "admin", timeout=30)
        sheet = new_sheet(api, "Live", "prefix,price\n34,0.10\n")
        quote = other.billing.QuoteCall(sheet_id=sheet, number="341", duration=60, start=MONDAY)
        assert quote.cost == D("0.1000")  # its cache now holds the sheet
        api.config.ImportRates(sheet_id=sheet, csv="prefix,price\n34,0.12\n", replace=False)
        quote = other.billing.QuoteCall(sheet_id=sheet, number="341", duration=60, start=MONDAY)
        assert quote.cost == D("0.1200")
