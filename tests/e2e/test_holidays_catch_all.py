"""Holiday calendars and the catch-all row over HTTP through client/, on SQLite and
PostgreSQL: SetHolidayCalendar, a deck naming it (CSV and XLSX round trip), QuoteCall's
parts across midnight into a holiday, a calendar change reaching the next quote, and
a catch-all row in QuoteCall, in routing (a provider's "rest of world") and BelowCost."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from client import SiptarClient, errors

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

Client = Callable[[str, str], SiptarClient]
D = Decimal
DECK = (
    "prefix,destination,price,weekdays,holidays\n"
    "34,Spain,0.60,,\n"
    '34,Spain weekend,0.30,"sat,sun",\n'
    "34,Spain holiday,0.06,,ES national\n"
    "*,Rest of world,1.20,,\n"
)


@pytest.fixture
def api(client_for: Client) -> SiptarClient:
    return client_for("admin", "admin")


def new_sheet(api: SiptarClient, name: str, deck: str) -> int:
    sheet = api.config.CreateRateSheet(sheet={"name": name})
    api.config.ImportRates(sheet_id=sheet.id, csv=deck, replace=True)
    return int(sheet.id)


class TestHolidayCalendars:
    def test_set_and_list(self, api: SiptarClient) -> None:
        made = api.config.SetHolidayCalendar(name="ES national", days=["12-25", "2027-01-06"])
        assert made.days == ["12-25", "2027-01-06"]
        again = api.config.SetHolidayCalendar(name="ES national", days=["01-01"])
        assert again.id == made.id and again.days == ["01-01"]
        page = api.config.ListHolidayCalendars(limit=10)
        assert page.total == 1 and [(c.name, c.days) for c in page.items] == [
            ("ES national", ["01-01"])
        ]

    def test_a_bad_day_is_refused_and_changes_nothing(self, api: SiptarClient) -> None:
        with pytest.raises(errors.InvalidInput, match="MM-DD"):
            api.config.SetHolidayCalendar(name="ES national", days=["12-25", "13-01"])
        assert api.config.ListHolidayCalendars().total == 0

    def test_a_reseller_may_not_set_one(self, client_for: Client) -> None:
        with pytest.raises(errors.AccessDenied):
            client_for("reseller", "reseller").config.SetHolidayCalendar(name="x", days=[])

    def test_a_deck_naming_an_unknown_calendar_is_refused(self, api: SiptarClient) -> None:
        sheet = api.config.CreateRateSheet(sheet={"name": "unknown calendar"})
        with pytest.raises(errors.InvalidInput, match="no calendar named 'ES national'"):
            api.config.ImportRates(sheet_id=sheet.id, csv=DECK, replace=True)
        assert api.config.ListRates(sheet_id=sheet.id).total == 0


class TestQuoteCallOnHolidays:
    def test_a_call_into_christmas_is_split_at_midnight(self, api: SiptarClient) -> None:
        api.config.SetHolidayCalendar(name="ES national", days=["12-25"])
        sheet = new_sheet(api, "Holidays", DECK)
        start = datetime(2026, 12, 24, 23, 59, tzinfo=UTC)  # a Thursday
        quote = api.billing.QuoteCall(sheet_id=sheet, number="34911", duration=180, start=start)
        assert [(p.band, p.seconds, p.price) for p in quote.parts] == [
            ("all", 60, D("0.6")),
            ("holidays ES national", 120, D("0.06")),
        ]
        assert quote.cost == D("0.7200")

    def test_a_calendar_change_reaches_the_next_quote(self, api: SiptarClient) -> None:
        api.config.SetHolidayCalendar(name="ES national", days=["12-25"])
        sheet = new_sheet(api, "Holidays", DECK)
        at = datetime(2026, 12, 8, 10, tzinfo=UTC)  # a Tuesday
        before = api.billing.QuoteCall(sheet_id=sheet, number="34911", duration=60, start=at)
        api.config.SetHolidayCalendar(name="ES national", days=["12-25", "12-08"])
        after = api.billing.QuoteCall(sheet_id=sheet, number="34911", duration=60, start=at)
        assert (before.cost, after.cost) == (D("0.6000"), D("0.0600"))

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_the_deck_round_trips(self, api: SiptarClient, fmt: str) -> None:
        api.config.SetHolidayCalendar(name="ES national", days=["12-25"])
        sheet = new_sheet(api, "Holidays", DECK)
        deck = api.config.ExportRates(sheet_id=sheet, format=fmt)
        copy = api.config.CreateRateSheet(sheet={"name": "copy"}).id
        if fmt == "csv":
            api.config.ImportRates(sheet_id=copy, csv=deck.data.decode(), replace=True)
        else:
            xlsx = base64.b64encode(deck.data).decode()
            api.config.ImportRatesXlsx(sheet_id=copy, xlsx=xlsx, replace=True)
        exported = api.config.ExportRates(sheet_id=copy, format="csv").data.decode()
        assert exported == api.config.ExportRates(sheet_id=sheet, format="csv").data.decode()
        rows = api.config.ListRates(sheet_id=copy).items
        assert sorted((r.prefix, r.holidays or "") for r in rows) == [
            ("*", ""),
            ("34", ""),
            ("34", ""),
            ("34", "ES national"),
        ]


class TestCatchAll:
    def test_quote_call_falls_back_to_it(self, api: SiptarClient) -> None:
        api.config.SetHolidayCalendar(name="ES national", days=[])
        sheet = new_sheet(api, "Catch-all", DECK)
        at = datetime(2026, 12, 8, 10, tzinfo=UTC)
        rest = api.billing.QuoteCall(sheet_id=sheet, number="99912345", duration=60, start=at)
        spain = api.billing.QuoteCall(sheet_id=sheet, number="34911", duration=60, start=at)
        assert (rest.prefix, rest.destination, rest.cost) == ("*", "Rest of world", D("1.2000"))
        assert (spain.prefix, spain.cost) == ("34", D("0.6000"))

    def sheet_id(self, api: SiptarClient, name: str) -> int:
        return next(int(s.id) for s in api.config.ListRateSheets().items if s.name == name)

    def test_a_reseller_selling_below_its_catch_all_cost_is_warned(
        self, client_for: Client, api: SiptarClient
    ) -> None:
        # The demo reseller pays by "Wholesale": give it a rest-of-world row.
        api.config.ImportRates(
            sheet_id=self.sheet_id(api, "Wholesale"), csv="prefix,price\n*,0.50\n"
        )
        reseller = client_for("reseller", "reseller").reseller
        retail = next(s.id for s in reseller.ListSheets().items if s.name.endswith("retail"))
        with pytest.raises(errors.BelowCost, match="prefix \\*"):
            reseller.SetRates(sheet_id=retail, csv="prefix,price\n999,0.40\n")
        with pytest.raises(errors.BelowCost, match="prefix \\*"):
            reseller.SetRates(sheet_id=retail, csv="prefix,price\n*,0.40\n")
        assert reseller.SetRates(sheet_id=retail, csv="prefix,price\n*,0.60\n").version

    def test_a_providers_rest_of_world_row_routes_the_call(self, api: SiptarClient) -> None:
        number = "99912345"
        before = api.config.TestRoute(number=number, account_id=3)
        assert not [t for t in before.trunks if not t.excluded]
        api.config.ImportRates(
            sheet_id=self.sheet_id(api, "Carrier One buy"), csv="prefix,price\n*,0.50\n"
        )
        api.config.ImportRates(
            sheet_id=self.sheet_id(api, "Wholesale"), csv="prefix,price\n*,0.80\n"
        )
        after = api.config.TestRoute(number=number, account_id=3)
        offered = [(t.name, t.buy_cost) for t in after.trunks if not t.excluded]
        assert offered == [("carrier1", D("0.5000"))]
        assert after.sell_cost == D("0.8000")
