"""The paging matrix: every operation of every WSDL whose answer holds a repeated
element is paged (`offset`, `limit` 1..1000 in; `total`, `offset` out), unless it is
named in NOT_LISTS with why its answer is bounded; and every paged operation, called
over HTTP through zeep, walks its pages one item at a time to exactly the whole list.

To add a list operation: page it, and add a Case to CASES. A test fails if a paged
operation has no case, or an operation with a repeated answer is neither paged nor
explained, so a new unpaged list can't slip in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session
from zeep.helpers import serialize_object

from client import SiptarClient, errors
from client.connection import SERVICES
from tests.levels.conftest import Tree
from tests.levels.test_isolation import World, make_world

pytestmark = pytest.mark.e2e
PERIOD = {
    "period_start": datetime(2026, 11, 1, tzinfo=UTC),
    "period_end": datetime(2026, 12, 1, tzinfo=UTC),
}
STATS = {"start": PERIOD["period_start"], "end": PERIOD["period_end"]}

# Operations whose answer repeats an element but is not a list of stored things:
# each answer is bounded by what it is about.
NOT_LISTS = {
    ("billing", "Authorize"): "the trunks of one route (at most 100)",
    ("billing", "QuoteCall"): "the parts of one call (bands and tiers)",
    ("billing", "CreateInvoice"): "one document, printed whole; its calls are counted",
    ("billing", "CreateCreditNote"): "one document, printed whole",
    ("billing", "GetInvoice"): "one document, printed whole",
    ("billing", "SetBalanceAlerts"): "echoes the thresholds sent (at most 10)",
    ("billing", "SetTaxes"): "echoes the taxes sent",
    ("config", "CreateRoute"): "the trunks of one route (at most 100)",
    ("config", "UpdateRoute"): "the trunks of one route (at most 100)",
    ("config", "TestRoute"): "the trunks of one route (at most 100)",
    ("config", "GetSettings"): "the settings of the registry (a fixed few)",
    ("config", "UpdateRateSheet"): "the rule versions of one sheet (one per change)",
    ("reseller", "SetCallerIds"): "echoes the caller IDs sent (at most 100)",
    ("reseller", "GetSipRegistrations"): "the contacts of one endpoint",
    ("reseller", "GetSourceIps"): "the networks of one account (at most 20)",
    ("reseller", "SetSourceIps"): "echoes the networks sent (at most 20)",
    ("config", "SetHolidayCalendar"): "echoes the days of one calendar sent",
    ("billing", "OpenBoothSession"): "one booth session: a receipt, printed whole",
    ("billing", "CloseBoothSession"): "one booth session: a receipt, printed whole",
    ("billing", "ChargeBoothSession"): "one booth session: a receipt, printed whole",
    ("billing", "GetBoothReceipt"): "one booth session: a receipt, printed whole",
    # Reports with one line per group of a period: known gap (docs/STATUS.md).
    ("billing", "GetPaymentReport"): "a report: one line per group of the period",
    ("reseller", "GetProfit"): "a report: one line per group of the period",
    ("cdr", "GetCallSummary"): "a report: one line per group of the period",
    ("reseller", "CreateBundle"): "echoes the prefixes of one bundle sent (at most 1000)",
    ("billing", "GetBundleUsage"): "the bundles one account holds on one day (a handful)",
}


@dataclass(frozen=True)
class Case:
    service: str
    operation: str
    args: Callable[[World], dict[str, Any]]
    items: str = "items"  # the repeated element of the answer
    who: str = "admin"


CASES = [
    Case("billing", "ListInvoices", lambda w: {"account_id": w.id("XC")}, who="X"),
    Case("billing", "ListLedger", lambda w: {"account_id": w.id("C1")}),
    Case("billing", "ListPayments", lambda w: {"account_id": w.id("R1"), "subtree": True}),
    Case("config", "GetLiveCalls", lambda w: {}),
    Case("config", "GetTrafficStats", lambda w: {**STATS, "group_by": "account"}),
    Case("config", "ListDids", lambda w: {}),
    Case("config", "ListProviders", lambda w: {}),
    Case("config", "ListRateSheets", lambda w: {}),
    Case("config", "ListRates", lambda w: {"sheet_id": w.sheet("R1 cost")}),
    Case("config", "ListRoutes", lambda w: {}),
    Case("config", "ListTrunks", lambda w: {}),
    Case("reseller", "FindAccounts", lambda w: {"where": {}}),
    Case("reseller", "GetLiveCalls", lambda w: {}),
    Case("reseller", "GetTrafficStats", lambda w: {**STATS, "group_by": "account"}, who="R1"),
    Case("reseller", "ListAccounts", lambda w: {}),
    Case("reseller", "ListAuditEvents", lambda w: {}),
    Case("reseller", "ListAvailableDids", lambda w: {}),
    Case("reseller", "ListCallerIds", lambda w: {"account_id": w.id("C1")}, "callerids"),
    Case("reseller", "ListLots", lambda w: {}),
    Case("reseller", "ListServices", lambda w: {}, who="X"),
    Case("reseller", "ListSheetRates", lambda w: {"sheet_id": w.sheet("R2 retail")}),
    Case("reseller", "ListSheets", lambda w: {}),
    Case("reseller", "ListSubscriptions", lambda w: {}, who="X"),
    Case("cdr", "ListCdrs", lambda w: {}),
    Case("config", "ListServices", lambda w: {}),
    Case("config", "ListHolidayCalendars", lambda w: {}),
    Case("config", "ListCurrencies", lambda w: {}),
    Case("config", "ListExchangeRates", lambda w: {}),
    Case("reseller", "ListVouchers", lambda w: {}, who="X"),
    Case("billing", "ListBooths", lambda w: {}, who="shop"),
    Case("billing", "ListSellRates", lambda w: {}, who="shop"),
    Case("reseller", "ListBundles", lambda w: {}, who="X"),
    Case("reseller", "ListAccountBundles", lambda w: {"account_id": w.id("XC")}, who="X"),
]
SHOP_PASSWORD = "shop-password-1"
# Lists the world holds fewer than two things of (live calls need a call up).
MAY_BE_SHORT = {("config", "GetLiveCalls"), ("reseller", "GetLiveCalls")}


def _elements(element: Any) -> list[tuple[str, Any]]:
    return list(getattr(element.type, "elements", []))


def operations(api: SiptarClient) -> dict[tuple[str, str], tuple[set[str], dict[str, Any]]]:
    """(service, operation) -> (its input names, its answer's elements by name)."""
    found = {}
    for name in SERVICES:
        for op, o in getattr(api, name)._service._binding._operations.items():
            inputs = {n for n, _ in o.input.body.type.elements}
            answer = {n: e for _, res in o.output.body.type.elements for n, e in _elements(res)}
            found[(name, op)] = (inputs, answer)
    return found


def repeated(answer: dict[str, Any]) -> bool:
    return any(e.max_occurs == "unbounded" or e.max_occurs > 1 for e in answer.values())


def paged(inputs: set[str], answer: dict[str, Any]) -> bool:
    return {"offset", "limit"} <= inputs and {"total", "offset"} <= set(answer)


def two_of_each(tree: Tree, world: World) -> None:
    """What the isolation world holds fewer than two of, made through the services."""
    admin, x = tree.api("admin"), tree.api("X")
    provider = world.month["provider"]
    admin.config.CreateProvider(name="Second carrier")
    trunks = [
        admin.config.CreateTrunk(
            trunk={"provider_id": provider, "name": f"t{n}", "dial_string": "SIP/${NUMBER}@t"}
        ).id
        for n in (1, 2)
    ]
    for prefix in ("34", "44"):
        admin.config.CreateRoute(route={"prefix": prefix, "trunks": [{"trunk_id": trunks[0]}]})
    admin.config.CreateDid(did={"number": "34910000009", "provider_id": provider})
    x.reseller.CreateService(service={"name": "X second line", "price": "1.00"})
    x.billing.CreateInvoice(
        account_id=world.id("XC"),
        period_start=datetime(2026, 10, 1, tzinfo=UTC),
        period_end=PERIOD["period_start"],
    )
    tree.api("R2").reseller.SetCallerIds(
        account_id=world.id("C1"), callerids=["34600000003", "34600000001", "34600000002"]
    )
    for name in ("Spain", "Portugal"):
        admin.config.SetHolidayCalendar(name=name, days=["12-25", "01-01"])
    x.reseller.CreateVouchers(count=1, value="1", currency="USD", lot_name="X second lot")
    admin.config.ImportExchangeRates(  # the currencies are seeded by the migration
        csv="from_currency,to_currency,rate,valid_from\n"
        "USD,EUR,0.9,2026-11-01T00:00:00+00:00\nUSD,EUR,0.8,2026-11-20T00:00:00+00:00\n"
    )
    # A call shop under R2 with two booths and two sell rates.
    r2 = tree.api("R2")
    account = r2.reseller.type("{urn:siptar:reseller}NewAccount")(
        name="Corner shop",
        username="paging-shop",
        password=SHOP_PASSWORD,
        kind="callshop",
        rate_sheet_id=world.sheet("R2 retail"),
    )
    r2.reseller.CreateAccount(account=account)
    shop = tree.client_for("paging-shop", SHOP_PASSWORD)
    tree.logins["shop"] = shop
    shop.billing.ImportSellRates(csv="prefix,price\n34,0.10\n44,0.20\n", replace=True)
    for peer in ("corner1", "corner2"):
        shop.billing.AddBooth(name=f"Booth {peer}", sip_peer=peer)


def _static_api() -> SiptarClient:
    # Built from the committed WSDLs; nothing is called.
    return SiptarClient("http://127.0.0.1:9", "nobody", "nobody-password")


class TestEveryListIsPaged:
    def test_every_repeated_answer_is_paged_or_explained(self) -> None:
        ops = operations(_static_api())
        unpaged = sorted(
            k for k, (i, a) in ops.items() if repeated(a) and not paged(i, a) and k not in NOT_LISTS
        )
        assert not unpaged, f"page these operations (or explain them in NOT_LISTS): {unpaged}"
        stale = sorted(k for k in NOT_LISTS if k not in ops or paged(*ops[k]))
        assert not stale, f"NOT_LISTS names operations that are gone or paged: {stale}"

    def test_every_paged_operation_has_a_case(self) -> None:
        ops = operations(_static_api())
        paged_ops = {k for k, (i, a) in ops.items() if paged(i, a)}
        covered = {(c.service, c.operation) for c in CASES}
        assert not sorted(paged_ops - covered), f"add paging cases for {paged_ops - covered}"
        assert not sorted(covered - paged_ops), f"cases of unpaged ops: {covered - paged_ops}"

    async def test_pages_of_one_walk_the_whole_list(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        world = await make_world(tree, session_factory)
        two_of_each(tree, world)
        short, wrong = [], []
        for case in CASES:
            op = getattr(getattr(tree.api(case.who), case.service), case.operation)
            args = case.args(world)
            whole = op(**args, limit=1000)
            items = list(getattr(whole, case.items) or [])
            if whole.total != len(items) or whole.offset != 0:
                wrong.append(f"{case.operation}: total {whole.total} for {len(items)} items")
            if len(items) < 2 and (case.service, case.operation) not in MAY_BE_SHORT:
                short.append(f"{case.operation} ({len(items)})")
            walked = []
            for offset in range(len(items) + 1):
                page = op(**args, offset=offset, limit=1)
                got = list(getattr(page, case.items) or [])
                if page.total != whole.total or page.offset != offset or len(got) > 1:
                    wrong.append(f"{case.operation} offset {offset}: {page!r:.200}")
                walked += got
            if serialize_object(walked) != serialize_object(items):
                wrong.append(f"{case.operation}: pages of one differ from the whole list")
        assert not wrong, "\n".join(wrong)
        assert not short, f"the world has too few items to page: {short}"

    async def test_a_limit_outside_1_to_1000_is_refused_by_every_list(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        world = await make_world(tree, session_factory)
        two_of_each(tree, world)  # also makes the call shop whose lists are cases
        for case in CASES:
            op = getattr(getattr(tree.api(case.who), case.service), case.operation)
            for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
                with pytest.raises(errors.SchemaValidationError):
                    op(**case.args(world), **bad)
