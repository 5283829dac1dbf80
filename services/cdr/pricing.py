"""What a CDR costs at every level of the account tree, and the rows that record it.

Shared by the single-CDR path (services/cdr/usecases.store_cdr, with ORM objects), the
listener's batch path (services/cdr/batches, with plain rows: ORM objects cost more
than rating the call) and re-rating. Spyne-free.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from db.ledger import Posting
from db.rates import plans
from db.schema import Account
from db.session import UnitOfWork
from rating import RatingPlan, normalise_number
from rating.errors import BillingError
from rating.model import CallCost, CallToRate
from rating.money import ZERO
from services.bundles import cdr as bundle_cdr
from services.cdr.commands import CdrRecord
from services.credit import cdr_batch, settlement
from services.currency.amounts import SheetAmount, fx_columns


class Unratable(Exception):
    """Why a CDR can't be rated; stored as its `unrated_reason`. `account_id`: the
    account it bills, when that much was found."""

    def __init__(self, reason: str, account_id: int | None = None) -> None:
        super().__init__(reason)
        self.account_id = account_id


@dataclass(frozen=True)
class LevelCharge:
    account: Account
    level: int
    sheet_id: int | None  # None: a DID's inbound price (services/dids/inbound.py)
    cost: CallCost
    # Set on the operator's cost of an inbound DID call: the row has no account (and
    # `account` is the DID's owner, for reference only) and no ledger row.
    provider_id: int | None = None
    # Currencies (services/currency/charges.py): `cost` is in the account's currency;
    # set when the sheet's was another, and the amount in the operator's currency.
    sheet_amount: SheetAmount | None = None
    operator_cost: Decimal | None = None
    # What this level's bundles covered (services/bundles/cdr.py): (counter id, bundle
    # name, units) each, and the seconds from the start that were free; `cost` is then
    # the paid rest only.
    bundles: tuple[tuple[int, str, int], ...] = ()
    free_seconds: int = 0


@dataclass(frozen=True)
class Priced:
    account_id: int
    levels: list[LevelCharge]  # empty for an unanswered call: nothing to charge
    # An on-net call (services/onnet/pricing.py): the account it rang (cdrs.onnet_account_id).
    onnet_account_id: int | None = None


def price_call(uow: UnitOfWork, record: CdrRecord, cdr_id: int | None = None) -> Priced:
    """The cost of the call at every level: the customer, then each reseller above
    it, each at its own sheet. Raises Unratable if any level can't be priced.
    A call to a DID is priced by services/dids/inbound.py instead. `cdr_id`: the CDR
    being rated (its bundle units are consumed under it); None prices only."""
    from services.currency.charges import convert_levels  # it builds on this module's types
    from services.dids import inbound  # it builds on this module's types
    from services.onnet.pricing import price_onnet  # so does this one

    # On-net (docs/onnet_callback.md): between two accounts of this server, before DIDs.
    if (on_net := price_onnet(uow, record)) is not None:
        # Each level in its account's currency too (docs/currencies.md).
        start = record.answer or record.start
        levels = convert_levels(uow.session, on_net.levels, start, on_net.account_id)
        return replace(on_net, levels=levels)
    did_call = inbound.price_inbound(uow, record, cdr_id)
    if did_call is not None:
        return did_call
    account = _account_by_code(uow, record.accountcode) if record.accountcode else None
    if account is None:
        # SettleCall's named account, or the account whose reservation this channel holds.
        account = settlement.find_account(uow.session, record)
    if account is None:
        raise Unratable(f"no account with accountcode {record.accountcode!r}")
    if not record.answered or record.billsec <= 0:
        return Priced(account.id, [])
    try:
        number = normalise_number(record.dst)
    except BillingError:
        raise Unratable(f"destination {record.dst!r} is not a dialled number", account.id) from None
    call = CallToRate(
        number=number, start=record.answer or record.start, billsec=record.billsec, answered=True
    )
    chain = _chain(uow, account)
    levels = [_price_one(uow, acc, level, call, account.id) for level, acc in chain]
    # Bundles (docs/bundles.md): a level's free units taken off its charge, and consumed.
    levels = bundle_cdr.split_levels(uow.session, levels, call, _plans(uow), record, cdr_id)
    # Each level in its account's currency at the call's start (docs/currencies.md).
    levels = convert_levels(uow.session, levels, call.start, account.id)
    return Priced(account.id, levels)


def cdr_values(record: CdrRecord, sequence: int, fingerprint: str) -> dict[str, object]:
    """The CDR's columns as Asterisk reported it (pricing adds the rest)."""
    r = record
    return {
        "uniqueid": r.uniqueid,
        "sequence": sequence,
        "linkedid": r.linkedid,
        "accountcode": r.accountcode,
        "src": r.src,
        "dst": r.dst,
        "dcontext": r.dcontext,
        "callerid": r.callerid,
        "channel": r.channel,
        "dstchannel": r.dstchannel,
        "lastapp": r.lastapp,
        "lastdata": r.lastdata[:255],
        "start_time": r.start,
        "answer_time": r.answer,
        "end_time": r.end,
        "duration": r.duration,
        "billsec": r.billsec,
        "disposition": r.disposition,
        "amaflags": r.amaflags,
        "userfield": r.userfield[:255],
        "peeraccount": r.peeraccount,
        "extra": json.dumps(dict(r.extra), sort_keys=True),
        "source": r.source,
        "fingerprint": fingerprint,
        "onnet_account_id": None,  # set by pricing for an on-net call
    }


def rated_columns(levels: list[LevelCharge], now: datetime) -> dict[str, object]:
    """The CDR's columns once rated (but its account): the customer's (level 0) figures."""
    columns: dict[str, object] = {
        "status": "rated",
        "unrated_reason": "",
        "rated_at": now,
        "prefix": "",
        "destination": "",
        "billed_seconds": 0,
        "cost": ZERO,
        "exact_cost": ZERO,
    }
    if levels:
        customer = levels[0].cost
        columns.update(
            prefix=customer.prefix,
            destination=customer.destination[:128],
            billed_seconds=customer.billed_seconds,
            cost=customer.cost,
            exact_cost=customer.exact_cost,
        )
    return columns


def unrated_columns(why: Unratable) -> dict[str, object]:
    """The CDR's columns when it can't be rated: stored with the reason, charged nothing."""
    return {
        "account_id": why.account_id,
        "status": "unrated",
        "unrated_reason": str(why)[:255],
        "rated_at": None,
        "prefix": "",
        "destination": "",
        "billed_seconds": 0,
        "cost": ZERO,
        "exact_cost": ZERO,
    }


def charge_rows(cdr_id: int, levels: list[LevelCharge]) -> list[dict[str, object]]:
    """One `charges` row per level (the same keys as buy_cost.BuyCost.row)."""
    return [
        {
            "cdr_id": cdr_id,
            "level": lc.level,
            "account_id": None if lc.provider_id else lc.account.id,
            "provider_id": lc.provider_id,
            "sheet_id": lc.sheet_id,
            "prefix": lc.cost.prefix,
            "billed_seconds": lc.cost.billed_seconds,
            "exact_cost": lc.cost.exact_cost,
            "cost": lc.cost.cost,
            **fx_columns(lc.sheet_amount, lc.operator_cost),
        }
        for lc in levels
    ]


def postings(cdr_id: int, dst: str, levels: list[LevelCharge]) -> list[Posting]:
    """The ledger's side: every level pays its cost (nothing for a free call)."""
    return [
        Posting(lc.account.id, "call", -lc.cost.cost, f"call to {dst}", cdr_id)
        for lc in levels
        if lc.cost.cost and lc.provider_id is None
    ] + bundle_cdr.postings(cdr_id, levels)


def account_by_code(uow: UnitOfWork, accountcode: str) -> Account | None:
    return _account_by_code(uow, accountcode)


def _account_by_code(uow: UnitOfWork, accountcode: str) -> Account | None:
    return cdr_batch.remembered(
        uow.session,
        ("account", accountcode),
        lambda: uow.session.execute(
            select(Account).where(Account.accountcode == accountcode)
        ).scalar_one_or_none(),
    )


def _account_by_id(uow: UnitOfWork, account_id: int) -> Account | None:
    # Remembered: the session's identity map holds objects weakly, so a parent account
    # nobody references would be loaded again for every call of the batch.
    return cdr_batch.remembered(
        uow.session, ("account_id", account_id), lambda: uow.session.get(Account, account_id)
    )


def plan_of(uow: UnitOfWork, sheet_id: int) -> RatingPlan:
    """A sheet's plan, loaded once per batch."""
    return _plan(uow, sheet_id)


def chain_of(uow: UnitOfWork, account: Account) -> list[tuple[int, Account]]:
    """The account and every reseller above it, by level."""
    return _chain(uow, account)


def _plans(uow: UnitOfWork) -> Callable[[LevelCharge], RatingPlan | None]:
    """The plan each level pays by: its sheet's."""
    return lambda lc: _plan(uow, lc.sheet_id) if lc.sheet_id is not None else None


def _plan(uow: UnitOfWork, sheet_id: int) -> RatingPlan:
    return cdr_batch.remembered(
        uow.session, ("plan", sheet_id), lambda: plans.plan(uow.session, sheet_id)
    )


def _chain(uow: UnitOfWork, account: Account) -> list[tuple[int, Account]]:
    """The account and every reseller above it (the admin pays nobody), by level."""
    chain: list[Account] = []
    current: Account | None = account
    while current is not None and current.role != "admin":
        chain.append(current)
        current = _account_by_id(uow, current.parent_id) if current.parent_id else None
    return list(enumerate(chain))


def _price_one(
    uow: UnitOfWork, account: Account, level: int, call: CallToRate, billed: int
) -> LevelCharge:
    if account.rate_sheet_id is None:
        raise Unratable(f"account {account.id} ({account.name}) has no rate sheet", billed)
    plan = _plan(uow, account.rate_sheet_id)
    try:
        cost = plan.rate_call(call)
    except BillingError as e:
        raise Unratable(f"account {account.id} ({account.name}): {e.message}", billed) from None
    return LevelCharge(account, level, account.rate_sheet_id, cost)
