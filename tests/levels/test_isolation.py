"""The isolation matrix: every operation of every service, called by R2 and by its
customer C1 on things outside R2's subtree, answers Client.AccessDenied or
Client.NotFound, never data, and changes nothing; R1 sees R2's subtree.

To add an operation: add a Case to CASES. A test fails if an operation of a service's
WSDL has no case, so a new operation can't be forgotten.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from client.connection import SERVICES
from db.schema import Account, Cdr, PinLot
from tests.e2e.test_ami_to_services import replay
from tests.levels.bundle_world import bundle_cases, make_bundles
from tests.levels.callback_cases import callback_cases
from tests.levels.callshop_cases import callshop_cases
from tests.levels.conftest import Tree
from tests.levels.month_world import make_month, month_cases

pytestmark = pytest.mark.e2e
D = Decimal
DENIED = (errors.AccessDenied, errors.NotFound)
DECK = "prefix,price\n34,9.99\n"
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
PERIOD = {"period_start": START, "period_end": END}


@dataclass
class World:
    tree: Tree
    cdr: dict[str, int]  # an account name -> one of its CDR ids
    lots: dict[str, int]  # owner name -> lot id
    month: dict[str, int] = field(default_factory=dict)  # tests/levels/month_world.py
    invoices: dict[str, int] = field(default_factory=dict)  # account name -> invoice id
    codes: dict[str, str] = field(default_factory=dict)  # owner name -> a voucher code

    def id(self, name: str) -> int:
        return self.tree.ids[name]

    def sheet(self, name: str) -> int:
        return self.tree.sheets[name]


Args = Callable[[World], dict[str, Any]]
# (result, the account ids the login may see, world) -> only inside data?
Visible = Callable[[Any, set[int], World], bool]


@dataclass(frozen=True)
class Case:
    service: str
    operation: str
    args: Args
    # For operations that legitimately answer with the caller's own data even when
    # aimed at nothing in particular: what they answer must be inside the subtree.
    visible: Visible | None = None
    # Faults that also mean "nothing of another subtree": e.g. VoucherNotValidHere.
    expected: tuple[type[Exception], ...] = ()


def _ids(items: Any, attr: str = "id") -> set[int]:
    return {getattr(x, attr) for x in (items or [])}


def accounts_inside(result: Any, inside: set[int], w: World) -> bool:
    return _ids(result.items) <= inside


def cdrs_inside(result: Any, inside: set[int], w: World) -> bool:
    return _ids(result.items, "account_id") <= inside


def lots_inside(result: Any, inside: set[int], w: World) -> bool:
    return _ids(result.items, "owner_id") <= inside


def sheets_inside(result: Any, inside: set[int], w: World) -> bool:
    readable = {w.sheet("R2 cost")}  # the sheet R2 pays by, owned by R1
    return all(s.owner_id in inside or s.id in readable for s in result.items or [])


def audit_inside(result: Any, inside: set[int], w: World) -> bool:
    # Events in R2's subtree are made by its logins or by those above it (R1, admin).
    above = {w.id("R1"), 1}
    return all(e.actor_account_id in inside | above for e in result.items or [])


def own_balance(result: Any, inside: set[int], w: World) -> bool:
    return result.account_id in inside


def refused_as_unknown(result: Any, inside: set[int], w: World) -> bool:
    # Authorize answers a refusal, not a fault: an account outside the subtree is
    # "unknown", exactly like one that does not exist.
    return result.allowed is False and result.reason == "UnknownAccount"


def live_calls_inside(result: Any, inside: set[int], w: World) -> bool:
    return _ids(result.items, "account_id") <= inside and _ids(result.by_account) <= inside


def traffic_inside(result: Any, inside: set[int], w: World) -> bool:
    return {int(r.key) for r in result.items or [] if r.key} <= inside


def export_inside(result: Any, inside: set[int], w: World) -> bool:
    rows = csv.DictReader(io.StringIO(result.data.decode()))
    return {int(r["account_id"]) for r in rows if r["account_id"]} <= inside


def keys_inside(result: Any, inside: set[int], w: World) -> bool:
    return {int(x.key) for x in result.lines or []} <= inside


def csv_file(text_: str) -> bytes:
    return text_.encode()


CASES: list[Case] = [
    # billing
    Case("billing", "GetBalance", lambda w: {"account_id": w.id("XC")}),
    Case("billing", "GetBalance", lambda w: {"account_id": w.id("R1")}),
    Case("billing", "GetBalance", lambda w: {}, own_balance),
    Case("billing", "AddPayment", lambda w: {"account_id": w.id("XC"), "amount": D(1)}),
    Case("billing", "AddPayment", lambda w: {"account_id": w.id("R2"), "amount": D(1)}),
    Case(
        "billing",
        "QuoteCall",
        lambda w: {"sheet_id": w.sheet("X retail"), "number": "34911", "duration": 60},
    ),
    Case(
        "billing",
        "QuoteCall",
        lambda w: {"account_id": w.id("Carol"), "number": "34911", "duration": 60},
    ),
    Case(
        "billing",
        "AddAdjustment",
        lambda w: {"account_id": w.id("XC"), "amount": D("-1"), "reference": "x"},
    ),
    Case(
        "billing",
        "Refund",
        lambda w: {"account_id": w.id("Carol"), "amount": D("0.001"), "cdr_id": w.cdr["Carol"]},
    ),
    Case("billing", "ListPayments", lambda w: {"account_id": w.id("XC")}),
    Case("billing", "ListLedger", lambda w: {"account_id": w.id("X")}),
    Case(
        "billing",
        "Authorize",
        lambda w: {"call": {"number": "34911234567", "account": "xc"}},
        refused_as_unknown,
    ),
    Case(
        "billing",
        "SettleCall",
        lambda w: {
            "call": {
                "uniqueid": "isolation.1",
                "billsec": 60,
                "account_id": w.id("XC"),
                "number": "34911234567",
            }
        },
    ),
    # A login changes only its own password, and only knowing it.
    Case("billing", "ChangePassword", lambda w: {"current": "not-it-at-all", "new": "new-pw-1234"}),
    # config (the admin's)
    Case("config", "ExportRates", lambda w: {"sheet_id": w.sheet("X retail"), "format": "csv"}),
    Case(
        "config",
        "ImportRatesXlsx",
        lambda w: {"sheet_id": w.sheet("X retail"), "xlsx": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},
    ),
    Case("config", "CreateProvider", lambda w: {"name": "stolen carrier"}),
    Case("config", "ListProviders", lambda w: {}),
    Case(
        "config",
        "CreateTrunk",
        lambda w: {"trunk": {"provider_id": 1, "name": "t", "dial_string": "PJSIP/${NUMBER}@t"}},
    ),
    Case("config", "ListTrunks", lambda w: {}),
    Case("config", "CreateRoute", lambda w: {"route": {"prefix": "34", "strategy": "lcr"}}),
    Case("config", "ListRoutes", lambda w: {}),
    Case("config", "UpdateProvider", lambda w: {"provider_id": 1, "changes": {"name": "p"}}),
    Case("config", "UpdateTrunk", lambda w: {"trunk_id": 1, "changes": {"status": "disabled"}}),
    Case("config", "UpdateRoute", lambda w: {"route_id": 1, "changes": {"status": "disabled"}}),
    Case("config", "GetSettings", lambda w: {}),
    Case("config", "GetTrunkStatus", lambda w: {"trunk_id": 1}),
    Case("config", "SetSetting", lambda w: {"name": "credit.slice_seconds", "value": "1"}),
    Case("config", "TestRoute", lambda w: {"number": "34911234567", "account_id": w.id("XC")}),
    Case("config", "GetLiveCalls", lambda w: {}),
    Case(
        "config",
        "GetTrafficStats",
        lambda w: {"start": START, "end": END, "group_by": "account"},
    ),
    Case("config", "RerateCdrs", lambda w: {"account_id": w.id("XC"), "include_rated": True}),
    # reseller: live traffic of the subtree only
    Case("reseller", "GetLiveCalls", lambda w: {}, live_calls_inside),
    Case(
        "reseller",
        "GetTrafficStats",
        lambda w: {"start": START, "end": END, "group_by": "account"},
        traffic_inside,
    ),
    Case("config", "CreateRateSheet", lambda w: {"sheet": {"name": "mine"}}),
    Case("config", "ListRateSheets", lambda w: {}),
    Case("config", "ImportRates", lambda w: {"sheet_id": w.sheet("X retail"), "csv": DECK}),
    Case("config", "ImportRates", lambda w: {"sheet_id": w.sheet("R2 retail"), "csv": DECK}),
    Case("config", "ListRates", lambda w: {"sheet_id": w.sheet("R1 cost")}),
    Case(
        "config",
        "UpdateRateSheet",
        lambda w: {"sheet_id": w.sheet("R2 retail"), "changes": {"rounding": "up"}},
    ),
    # reseller: accounts
    Case(
        "reseller",
        "CreateAccount",
        lambda w: {
            "account": {
                "parent_id": w.id("X"),
                "name": "n",
                "username": "sneaky",
                "password": "sneaky-password",
            }
        },
    ),
    Case("reseller", "GetAccount", lambda w: {"account_id": w.id("XC")}),
    Case("reseller", "GetAccount", lambda w: {"account_id": w.id("R1")}),
    Case("reseller", "ListAccounts", lambda w: {"parent_id": w.id("X")}),
    Case("reseller", "ListAccounts", lambda w: {"search": "X"}, accounts_inside),
    Case("reseller", "GetAccountDetails", lambda w: {"account_id": w.id("Carol")}),
    Case("reseller", "FindAccounts", lambda w: {"where": {"lot_id": w.lots["X"]}}, accounts_inside),
    Case("reseller", "FindAccounts", lambda w: {"where": {"search": "acct1003"}}, accounts_inside),
    Case(
        "reseller",
        "UpdateAccount",
        lambda w: {"account_id": w.id("XC"), "changes": {"name": "taken over"}},
    ),
    Case("reseller", "BlockAccount", lambda w: {"account_id": w.id("XC"), "reason": "x"}),
    Case("reseller", "BlockAccount", lambda w: {"account_id": w.id("R2"), "reason": "x"}),
    Case("reseller", "UnblockAccount", lambda w: {"account_id": w.id("X")}),
    Case("reseller", "CloseAccount", lambda w: {"account_id": w.id("Carol"), "reason": "x"}),
    Case("reseller", "ListCallerIds", lambda w: {"account_id": w.id("XC")}),
    Case("reseller", "SetCallerIds", lambda w: {"account_id": w.id("XC"), "callerids": ["3491"]}),
    Case("reseller", "GetTechDetails", lambda w: {"account_id": w.id("Carol")}),
    Case(
        "reseller",
        "SetTechDetails",
        lambda w: {"account_id": w.id("XC"), "tech": {"sip_secret": "owned"}},
    ),
    Case("reseller", "GetBranding", lambda w: {"account_id": w.id("XC")}),
    Case("reseller", "GetSipRegistrations", lambda w: {"account_id": w.id("XC")}),
    Case("config", "ReloadAsterisk", lambda w: {}),
    Case("reseller", "GetSourceIps", lambda w: {"account_id": w.id("XC")}),
    Case("reseller", "SetSourceIps", lambda w: {"account_id": w.id("XC"), "ips": ["192.0.2.9"]}),
    Case("config", "GetTrunkRegistration", lambda w: {"trunk_id": 1}),
    Case(
        "config",
        "SetTrunkRegistration",
        lambda w: {"trunk_id": 1, "registration": {"server_uri": ""}},
    ),
    # vouchers (issue 14): lots of another subtree are NotFound; a customer is denied
    Case("reseller", "ListVouchers", lambda w: {}, lambda r, inside, w: not r.items),
    Case("reseller", "BlockVouchers", lambda w: {"lot_id": w.month["X vouchers"]}),
    Case("reseller", "ExportVouchers", lambda w: {"lot_id": w.month["X vouchers"]}),
    Case(
        "billing",
        "RedeemVoucher",
        lambda w: {"code": w.codes["X"]},
        expected=(errors.VoucherNotValidHere, errors.TooManyAttempts),
    ),
    # A lot R2 makes is its own (and a customer is denied): nothing of another subtree.
    Case(
        "reseller",
        "CreateVouchers",
        lambda w: {"count": 1, "value": D(1), "currency": "USD", "lot_name": "mine"},
        lambda r, inside, w: True,
    ),
    # holiday calendars are the admin's (issue 14)
    Case("config", "SetHolidayCalendar", lambda w: {"name": "stolen", "days": ["12-25"]}),
    Case("config", "ListHolidayCalendars", lambda w: {}),
    # currencies and exchange rates are the admin's (issue 17)
    Case("config", "ListCurrencies", lambda w: {}),
    Case("config", "ListExchangeRates", lambda w: {"currency": "USD"}),
    Case("config", "SetCurrency", lambda w: {"code": "XAU", "name": "Gold", "minor_unit": 0}),
    Case(
        "config",
        "SetExchangeRate",
        lambda w: {
            "from_currency": "USD",
            "to_currency": "EUR",
            "rate": D("9"),
            "valid_from": START,
        },
    ),
    Case(
        "config",
        "ImportExchangeRates",
        lambda w: {
            "csv": "from_currency,to_currency,rate,valid_from\nUSD,EUR,9,2026-11-01T00:00Z\n"
        },
    ),
    Case("reseller", "SetBranding", lambda w: {"account_id": w.id("X"), "company_name": "x"}),
    Case("reseller", "SetBranding", lambda w: {"account_id": w.id("R1"), "company_name": "x"}),
    # reseller: PIN lots
    Case(
        "reseller",
        "GeneratePins",
        lambda w: {"count": 1, "length": 8, "lot_name": "l", "parent_id": w.id("X")},
    ),
    Case(
        "reseller",
        "GeneratePins",
        lambda w: {"count": 1, "length": 8, "lot_name": "l", "sheet_id": w.sheet("X retail")},
    ),
    Case("reseller", "ListLots", lambda w: {}, lots_inside),
    Case("reseller", "BlockLot", lambda w: {"lot_id": w.lots["X"], "reason": "x"}),
    Case("reseller", "UnblockLot", lambda w: {"lot_id": w.lots["X"]}),
    Case("reseller", "RefillLot", lambda w: {"lot_id": w.lots["X"], "amount": D(1)}),
    Case("reseller", "ExportLot", lambda w: {"lot_id": w.lots["X"], "format": "csv"}),
    # reseller: price lists and profit
    Case("reseller", "ListSheets", lambda w: {}, sheets_inside),
    Case("reseller", "ListSheetRates", lambda w: {"sheet_id": w.sheet("X retail")}),
    Case("reseller", "ListSheetRates", lambda w: {"sheet_id": w.sheet("R1 cost")}),
    Case(
        "reseller",
        "CopySheet",
        lambda w: {"source_sheet_id": w.sheet("X retail"), "name": "stolen"},
    ),
    Case("reseller", "SetRates", lambda w: {"sheet_id": w.sheet("X retail"), "csv": DECK}),
    Case("reseller", "SetRates", lambda w: {"sheet_id": w.sheet("R2 cost"), "csv": DECK}),
    Case(
        "reseller",
        "AssignSheet",
        lambda w: {"account_id": w.id("XC"), "sheet_id": w.sheet("R2 retail")},
    ),
    Case(
        "reseller",
        "AssignSheet",
        lambda w: {"account_id": w.id("C2"), "sheet_id": w.sheet("X retail")},
    ),
    Case(
        "reseller",
        "GetProfit",
        lambda w: {"account_id": w.id("X"), "period_start": START, "period_end": END},
    ),
    Case(
        "reseller",
        "ImportAccounts",
        lambda w: {"parent_id": w.id("X"), "format": "csv", "data": csv_file("name\nnew\n")},
    ),
    Case("reseller", "ExportAccounts", lambda w: {"parent_id": w.id("X"), "format": "csv"}),
    # a login outside the subtree, the parent's, and one's own (ChangePassword's job)
    Case("reseller", "SetPassword", lambda w: {"username": "xc", "password": "new-pw-1234"}),
    Case("reseller", "SetPassword", lambda w: {"username": "r1", "password": "new-pw-1234"}),
    Case("reseller", "SetPassword", lambda w: {"username": "r2", "password": "new-pw-1234"}),
    Case("reseller", "ListAuditEvents", lambda w: {}, audit_inside),
    # cdr
    Case("cdr", "ListCdrs", lambda w: {"account_id": w.id("Carol")}),
    Case("cdr", "ListCdrs", lambda w: {}, cdrs_inside),
    # billing: invoices and taxes
    Case(
        "billing",
        "CreateInvoice",
        lambda w: {"account_id": w.id("XC"), "period_start": START, "period_end": END},
    ),
    Case("billing", "CreateInvoice", lambda w: {"account_id": w.id("R2")}),
    Case("billing", "ListInvoices", lambda w: {"account_id": w.id("XC")}),
    Case("billing", "ListInvoices", lambda w: {}, cdrs_inside),
    Case("billing", "GetInvoice", lambda w: {"invoice_id": w.invoices["XC"]}),
    Case("billing", "GetInvoicePdf", lambda w: {"invoice_id": w.invoices["XC"]}),
    Case(
        "billing",
        "CreateCreditNote",
        lambda w: {"invoice_id": w.invoices["XC"], "amount": D("0.01"), "reason": "x"},
    ),
    Case("billing", "SetTaxes", lambda w: {"account_id": w.id("XC"), "taxes": []}),
    Case("billing", "SetTaxes", lambda w: {"account_id": w.id("R2"), "taxes": []}),
    Case("billing", "SetBillingProfile", lambda w: {"account_id": w.id("XC"), "billing_day": 2}),
    Case("cdr", "ExportCdrs", lambda w: {"account_id": w.id("Carol"), "format": "csv"}),
    Case("cdr", "ExportCdrs", lambda w: {"format": "csv"}, export_inside),
    Case("cdr", "GetCallSummary", lambda w: {"account_id": w.id("Carol"), **PERIOD}),
    Case("cdr", "GetCallSummary", lambda w: {"group_by": "account", **PERIOD}, keys_inside),
    Case("billing", "GetPaymentReport", lambda w: {"account_id": w.id("XC"), **PERIOD}),
    Case("billing", "GetPaymentReport", lambda w: {"group_by": "account", **PERIOD}, keys_inside),
    Case("billing", "ListPayments", lambda w: {"account_id": w.id("X"), "subtree": True}),
    Case("billing", "SetBalanceAlerts", lambda w: {"account_id": w.id("XC"), "thresholds": [D(1)]}),
]
CASES += month_cases(Case, lambda w, key: w.month[key])
CASES += callshop_cases(Case)
CASES += callback_cases(Case)
CASES += bundle_cases(Case, lambda w, key: w.month[key])

# R1 is above R2: these answer data about R2's subtree.
R1_SEES: list[tuple[str, str, Args]] = [
    ("billing", "GetBalance", lambda w: {"account_id": w.id("C1")}),
    ("billing", "ListLedger", lambda w: {"account_id": w.id("C2")}),
    ("reseller", "GetAccountDetails", lambda w: {"account_id": w.id("C1")}),
    ("reseller", "ListAccounts", lambda w: {"parent_id": w.id("R2")}),
    ("reseller", "ListSheetRates", lambda w: {"sheet_id": w.sheet("R2 retail")}),
    ("reseller", "ListLots", lambda w: {}),
    ("reseller", "ExportLot", lambda w: {"lot_id": w.lots["R2"], "format": "csv"}),
    ("reseller", "ExportAccounts", lambda w: {"parent_id": w.id("R2"), "format": "csv"}),
    ("cdr", "ListCdrs", lambda w: {"account_id": w.id("R2")}),
    ("reseller", "ListAuditEvents", lambda w: {}),
    (
        "reseller",
        "GetProfit",
        lambda w: {"account_id": w.id("R2"), "period_start": START, "period_end": END},
    ),
]

TABLES = (
    "accounts",
    "logins",
    "ledger",
    "rates",
    "rate_sheets",
    "pin_lots",
    "account_callerids",
    "charges",
    "catalog_services",
    "subscriptions",
    "recurring_charges",
    "dids",
    "invoices",
    "account_taxes",
    "balance_alerts",
    "outbox",
    "callshop_booths",
    "callshop_sessions",
    "callbacks",
    "bundles",
    "account_bundles",
    "bundle_counters",
)


def snapshot(session_factory: Callable[[], Session]) -> dict[str, list[tuple[Any, ...]]]:
    with session_factory() as s:
        return {
            t: [tuple(r) for r in s.execute(text(f"SELECT * FROM {t} ORDER BY id"))] for t in TABLES
        }


async def make_world(tree: Tree, session_factory: Callable[[], Session]) -> World:
    await replay(session_factory)
    tree.api("X").reseller.GeneratePins(count=3, length=8, lot_name="X cards")
    tree.api("R2").reseller.GeneratePins(count=2, length=8, lot_name="R2 cards")
    with session_factory() as s:
        cdr = {
            name: s.execute(select(Cdr.id).where(Cdr.account_id == tree.ids[name], Cdr.cost > 0))
            .scalars()
            .first()
            for name in ("C1", "Carol")
        }
        lots = {
            name: s.execute(select(PinLot.id).where(PinLot.owner_id == tree.ids[name])).scalar_one()
            for name in ("X", "R2")
        }
    assert all(cdr.values())
    world = World(tree, {k: int(v or 0) for k, v in cdr.items()}, lots, make_month(tree))
    invoice = tree.api("X").billing.CreateInvoice(
        account_id=tree.ids["XC"], period_start=START, period_end=END
    )
    world.invoices["XC"] = int(invoice.invoice.id)
    world.month.update(make_bundles(tree, world.month["x_service"]))
    vouchers = tree.api("X").reseller.CreateVouchers(
        count=1, value=Decimal(1), currency="USD", lot_name="X vouchers"
    )
    world.month["X vouchers"] = int(vouchers.lot_id)
    world.codes["X"] = vouchers.file.data.decode().splitlines()[1].split(",")[0]
    return world


def call(api: SiptarClient, case_service: str, operation: str, kwargs: dict[str, Any]) -> Any:
    return getattr(getattr(api, case_service), operation)(**kwargs)


def wsdl_operations(api: SiptarClient) -> set[tuple[str, str]]:
    return {
        (name, op) for name in SERVICES for op in getattr(api, name)._service._binding._operations
    }


class TestIsolationMatrix:
    def test_every_operation_of_every_service_has_a_case(self) -> None:
        # Built from the committed WSDLs; nothing is called.
        api = SiptarClient("http://127.0.0.1:9", "nobody", "nobody-password")
        covered = {(c.service, c.operation) for c in CASES}
        missing = sorted(wsdl_operations(api) - covered)
        assert not missing, f"add isolation cases for {missing}"

    async def test_r2_and_its_customer_get_nothing_outside_the_subtree(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        world = await make_world(tree, session_factory)
        before = snapshot(session_factory)
        inside = {
            "R2": {world.id("R2"), world.id("C1"), world.id("C2")},
            "C1": {world.id("C1")},
        }
        with session_factory() as s:
            inside["R2"] |= set(
                s.scalars(select(Account.id).where(Account.parent_id == world.id("R2")))
            )
        leaks: list[str] = []
        for who in ("R2", "C1"):
            api = tree.api(who)
            for case in CASES:
                where = f"{who} {case.service}.{case.operation}({case.args(world)})"
                try:
                    result = call(api, case.service, case.operation, case.args(world))
                except (*DENIED, *case.expected):
                    continue
                except errors.SiptarError as e:
                    leaks.append(f"{where}: {e.code} {e.message}")
                    continue
                if case.visible is None or not case.visible(result, inside[who], world):
                    leaks.append(f"{where}: answered {result!r:.200}")
        assert not leaks, "\n".join(leaks)
        assert snapshot(session_factory) == before

    async def test_a_guessed_id_answers_like_one_that_does_not_exist(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        world = await make_world(tree, session_factory)
        r2 = tree.api("R2")
        with session_factory() as s:
            top = s.execute(select(Account.id).order_by(Account.id.desc())).scalars().first()
            r2_path = f"/1/{world.id('R1')}/{world.id('R2')}/"
            inside = set(s.scalars(select(Account.id).where(Account.path.startswith(r2_path))))
        assert top is not None and len(inside) == 5  # R2, C1, C2 and two cards
        answers = {}
        for guess in range(1, top + 5):
            if guess in inside:
                continue
            with pytest.raises(errors.NotFound) as e:
                r2.reseller.GetAccountDetails(account_id=guess)
            answers[guess] = e.value.message.replace(str(guess), "N")
            with pytest.raises(errors.NotFound):
                r2.billing.ListLedger(account_id=guess)
        assert set(answers.values()) == {"account N not found"}
        for lot in range(1, world.lots["R2"] + 3):
            if lot == world.lots["R2"]:
                continue
            with pytest.raises(errors.NotFound):
                r2.reseller.ExportLot(lot_id=lot, format="csv")

    async def test_r1_sees_the_subtree_of_r2(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        world = await make_world(tree, session_factory)
        r1 = tree.api("R1")
        for service, operation, args in R1_SEES:
            assert call(r1, service, operation, args(world)) is not None, operation
        assert r1.billing.GetBalance(account_id=world.id("C1")).balance < D(10)
        lots = r1.reseller.ListLots()
        assert world.lots["R2"] in _ids(lots.items)
        cdrs = r1.cdr.ListCdrs(account_id=world.id("R2"))
        assert _ids(cdrs.items, "account_id") == {world.id("C1"), world.id("C2")}
        assert _ids(r1.reseller.ListAccounts(parent_id=world.id("R2")).items) >= {
            world.id("C1"),
            world.id("C2"),
        }
