"""The four services over real HTTP, called through client/ (zeep), on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from client import SiptarClient, errors

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

Client = Callable[[str, str], SiptarClient]
# Demo: Retail is sheet 3 (admin's), 34 Spain 0.0200/min "30/6".
RETAIL = 3

DECK = """prefix,destination,price,initial_increment,increment,connect_fee
34,Spain,0.0200,30,6,0
346,Spain Mobile,0.0600,30,6,0.0100
"""


class TestAuthentication:
    def test_demo_admin_gets_its_balance(self, client_for: Client) -> None:
        balance = client_for("admin", "admin").billing.GetBalance()
        assert balance.name == "Operator"
        assert balance.balance == Decimal("0")

    def test_a_wrong_password_is_refused(self, client_for: Client) -> None:
        with pytest.raises(errors.AuthenticationFailed):
            client_for("admin", "wrong").billing.GetBalance()

    def test_an_unknown_username_gets_the_same_answer(self, client_for: Client) -> None:
        with pytest.raises(errors.AuthenticationFailed) as e:
            client_for("nobody", "wrong").billing.GetBalance()
        assert e.value.message == "wrong username or password"

    def test_a_missing_header_is_refused(self, client_for: Client) -> None:
        api = client_for("admin", "admin")
        raw = api.billing._service  # the bare zeep service: no Auth header
        import zeep.exceptions

        with pytest.raises(zeep.exceptions.Fault) as e:
            raw.GetBalance()
        assert e.value.code.rpartition(":")[2] == "Client.AuthenticationFailed"


class TestQuoteCall:
    def test_prices_a_demo_destination_by_sheet(self, client_for: Client) -> None:
        quote = client_for("admin", "admin").billing.QuoteCall(
            sheet_id=RETAIL,
            number="+34 911 234 567",
            duration=61,
            start=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        )
        assert (quote.prefix, quote.destination) == ("34", "Spain")
        # 30 s, then 6 s blocks: 61 s bills 66 s; 66/60 * 0.02 = 0.022
        assert quote.billed_seconds == 66
        assert quote.cost == Decimal("0.022")
        assert [p.billed_seconds for p in quote.parts] == [66]

    def test_a_customer_quotes_on_its_own_sheet(self, client_for: Client) -> None:
        quote = client_for("customer", "customer").billing.QuoteCall(
            number="447700900123", duration=30
        )
        # Reseller One retail: 447 UK Mobile 0.0450/min; 30 s = 0.0225
        assert (quote.prefix, quote.cost) == ("447", Decimal("0.0225"))

    def test_an_unknown_destination_is_a_fault(self, client_for: Client) -> None:
        with pytest.raises(errors.NoRateForDestination):
            client_for("admin", "admin").billing.QuoteCall(
                sheet_id=RETAIL, number="999123", duration=60
            )

    def test_a_customer_cannot_quote_on_another_sheet(self, client_for: Client) -> None:
        with pytest.raises(errors.NotFound):
            client_for("customer", "customer").billing.QuoteCall(
                sheet_id=RETAIL, number="34911234567", duration=60
            )

    def test_a_number_with_letters_is_invalid(self, client_for: Client) -> None:
        with pytest.raises(errors.InvalidInput):
            client_for("admin", "admin").billing.QuoteCall(
                sheet_id=RETAIL, number="34abc", duration=60
            )


class TestRates:
    def test_a_sheet_is_created_loaded_and_listed(self, client_for: Client) -> None:
        config = client_for("admin", "admin").config
        sheet = config.CreateRateSheet(sheet={"name": "Promo", "currency": "EUR"})
        assert (sheet.currency, sheet.decimals, sheet.block_mode) == ("EUR", 4, "first_block")
        result = config.ImportRates(sheet_id=sheet.id, csv=DECK, replace=True)
        assert result.imported == 2
        page = config.ListRates(sheet_id=sheet.id, limit=1)
        assert page.total == 2
        assert [r.prefix for r in page.items] == ["34"]
        second = config.ListRates(sheet_id=sheet.id, offset=1, limit=1)
        assert second.items[0].connect_fee == Decimal("0.01")

    def test_a_malformed_row_names_its_line_and_changes_nothing(self, client_for: Client) -> None:
        config = client_for("admin", "admin").config
        before = config.ListRates(sheet_id=RETAIL, limit=1000)
        bad = DECK + "33,France,zero,30,6,0\n"
        with pytest.raises(errors.InvalidInput) as e:
            config.ImportRates(sheet_id=RETAIL, csv=bad, replace=True)
        assert "line 4" in e.value.message and "price" in e.value.message
        after = config.ListRates(sheet_id=RETAIL, limit=1000)
        assert [(r.prefix, r.price) for r in after.items] == [
            (r.prefix, r.price) for r in before.items
        ]

    def test_an_import_reaches_quotes_at_once(self, client_for: Client) -> None:
        api = client_for("admin", "admin")
        assert api.billing.QuoteCall(sheet_id=RETAIL, number="34611", duration=60).prefix == "346"
        api.config.ImportRates(sheet_id=RETAIL, csv=DECK.replace("0.0600", "0.1200"))
        quote = api.billing.QuoteCall(sheet_id=RETAIL, number="34611", duration=60)
        assert quote.cost == Decimal("0.13")  # 0.12 + the 0.01 connect fee

    def test_a_reseller_may_not_use_the_config_service(self, client_for: Client) -> None:
        with pytest.raises(errors.AccessDenied):
            client_for("reseller", "reseller").config.ListRateSheets()

    def test_a_duplicate_sheet_name_is_refused(self, client_for: Client) -> None:
        config = client_for("admin", "admin").config
        with pytest.raises(errors.AlreadyExists):
            config.CreateRateSheet(sheet={"name": "Retail"})

    def test_an_unknown_rounding_fails_schema_validation(self, client_for: Client) -> None:
        config = client_for("admin", "admin").config
        with pytest.raises(errors.SchemaValidationError):
            config.CreateRateSheet(sheet={"name": "X", "rounding": "banker"})
        assert [s.name for s in config.ListRateSheets().items].count("X") == 0


class TestAccounts:
    def new_customer(self, **overrides: object) -> dict[str, object]:
        fields: dict[str, object] = {
            "name": "Dave",
            "username": "dave",
            "password": "dave-secret-1",
            "initial_credit": Decimal("2.50"),
            "accountcode": "acct2001",
        }
        fields.update(overrides)
        return fields

    def test_a_reseller_creates_a_customer_in_its_subtree(self, client_for: Client) -> None:
        reseller = client_for("reseller", "reseller").reseller
        me = reseller.GetAccount()
        created = reseller.CreateAccount(account=self.new_customer(rate_sheet_id=4))
        assert (created.parent_id, created.balance) == (me.id, Decimal("2.5"))
        assert created.username == "dave"
        listed = reseller.ListAccounts()
        assert {a.username for a in listed.items} == {"customer", "bob", "dave"}
        dave = client_for("dave", "dave-secret-1").billing.GetBalance()
        assert dave.balance == Decimal("2.5")

    def test_a_reseller_never_sees_outside_its_subtree(self, client_for: Client) -> None:
        admin = client_for("admin", "admin").reseller
        carol = next(a for a in admin.ListAccounts().items if a.username == "carol")
        reseller = client_for("reseller", "reseller")
        with pytest.raises(errors.NotFound):
            reseller.reseller.GetAccount(account_id=carol.id)
        with pytest.raises(errors.NotFound):
            reseller.billing.GetBalance(account_id=carol.id)
        with pytest.raises(errors.NotFound):
            reseller.billing.AddPayment(account_id=carol.id, amount=Decimal("1"))
        with pytest.raises(errors.NotFound):
            reseller.cdr.ListCdrs(account_id=carol.id)

    def test_an_unknown_account_is_not_found(self, client_for: Client) -> None:
        with pytest.raises(errors.NotFound):
            client_for("admin", "admin").reseller.GetAccount(account_id=9999)

    def test_a_reseller_cannot_give_out_the_admins_sheet(self, client_for: Client) -> None:
        with pytest.raises(errors.NotFound):
            client_for("reseller", "reseller").reseller.CreateAccount(
                account=self.new_customer(rate_sheet_id=RETAIL)
            )

    def test_a_taken_username_is_refused_and_nothing_is_created(self, client_for: Client) -> None:
        admin = client_for("admin", "admin").reseller
        total = admin.ListAccounts().total
        with pytest.raises(errors.AlreadyExists):
            admin.CreateAccount(account=self.new_customer(username="bob"))
        assert admin.ListAccounts().total == total

    def test_a_customer_may_not_create_accounts(self, client_for: Client) -> None:
        with pytest.raises(errors.AccessDenied):
            client_for("customer", "customer").reseller.CreateAccount(account=self.new_customer())


class TestPayments:
    def test_a_payment_moves_the_balance_and_writes_the_ledger(self, client_for: Client) -> None:
        reseller = client_for("reseller", "reseller")
        alice = client_for("customer", "customer").billing.GetBalance()
        before_reseller = reseller.billing.GetBalance().balance
        entry = reseller.billing.AddPayment(
            account_id=alice.account_id, amount=Decimal("12.345678"), reference="cash"
        )
        assert entry.amount == Decimal("12.345678")
        assert entry.balance_after == alice.balance + Decimal("12.345678")
        assert reseller.billing.GetBalance(account_id=alice.account_id).balance == (
            entry.balance_after
        )
        # A refill of a child never changes the reseller's own balance.
        assert reseller.billing.GetBalance().balance == before_reseller

    @pytest.mark.parametrize("amount", ["0", "-5", "0.0000001"])
    def test_a_bad_amount_is_refused(self, client_for: Client, amount: str) -> None:
        api = client_for("admin", "admin")
        admin = api.billing
        carol_id = next(a.id for a in api.reseller.ListAccounts().items if a.username == "carol")
        before = admin.GetBalance(account_id=carol_id).balance
        with pytest.raises((errors.InvalidInput, errors.SchemaValidationError)):
            admin.AddPayment(account_id=carol_id, amount=Decimal(amount))
        assert admin.GetBalance(account_id=carol_id).balance == before

    def test_nobody_pays_itself(self, client_for: Client) -> None:
        reseller = client_for("reseller", "reseller").billing
        with pytest.raises(errors.AccessDenied):
            reseller.AddPayment(account_id=reseller.GetBalance().account_id, amount=Decimal(1))
