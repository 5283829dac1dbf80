"""Inbound calls to DIDs, billed to the DID's owner and every level above it.

A CDR whose dialled number is a DID of the inventory is an inbound call. If the DID is
assigned (and its subscription not suspended for an unpaid fee), each level pays its
own `inbound_price` (its nearest seller's, as for the monthly fee:
services/recurring/levels.py) per minute in 60/60 blocks, rated by the pure engine; the
provider's `inbound_cost` is the operator's cost row one level above the last account.
A call to a free, quarantined or suspended DID is stored unrated with the reason.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from db.recurring_schema import CatalogService, Did, ServicePrice, Subscription
from db.schema import Account
from db.session import UnitOfWork
from rating import RatingPlan, normalise_number
from rating.compile import compile_sheet
from rating.errors import BillingError
from rating.model import CallToRate, Rate, RateSheet
from services.bundles import cdr as bundle_cdr
from services.cdr.commands import CdrRecord
from services.cdr.pricing import LevelCharge, Priced, Unratable
from services.credit.cdr_batch import remembered
from services.recurring.levels import level_prices


def _did(uow: UnitOfWork, number: str) -> Did | None:
    session = uow.session
    return remembered(
        session,
        ("did", number),
        lambda: session.scalars(select(Did).where(Did.number == number)).first(),
    )


def price_inbound(uow: UnitOfWork, record: CdrRecord, cdr_id: int | None = None) -> Priced | None:
    """The call's price at every level if it is a call to a DID, else None. `cdr_id`:
    the CDR being rated (an `inbound` bundle's units are consumed under it)."""
    try:
        number = normalise_number(record.dst)
    except BillingError:
        return None
    did = _did(uow, number)
    if did is None or did.status == "removed":
        return None
    session = uow.session
    if did.status != "assigned" or did.account_id is None:
        raise Unratable(f"call to DID {number}: the DID is {did.status}, not assigned")
    sub = session.get(Subscription, did.subscription_id) if did.subscription_id else None
    if sub is not None and sub.status == "suspended":
        raise Unratable(f"call to DID {number}: suspended (unpaid fee)", did.account_id)
    owner = session.get(Account, did.account_id)
    service = session.get(CatalogService, did.service_id)
    assert owner is not None and service is not None
    if not record.answered or record.billsec <= 0:
        return Priced(owner.id, [])
    prices = {
        p.seller_id: p
        for p in session.scalars(select(ServicePrice).where(ServicePrice.service_id == service.id))
    }
    call = CallToRate(number, record.answer or record.start, record.billsec, True)
    levels = []
    plans: dict[int, RatingPlan] = {}
    for line in level_prices(owner.path, service, prices):
        price = line.inbound_price if line.account_id is not None else did.inbound_cost
        account = session.get(Account, line.account_id) if line.account_id else owner
        assert account is not None
        plans[line.level] = _per_minute(number, price)
        cost = plans[line.level].rate_call(call)
        levels.append(LevelCharge(account, line.level, None, cost, line.provider_id))
    # Bundles that cover inbound calls (docs/bundles.md): taken off the level's price.
    levels = bundle_cdr.split_levels(
        session, levels, call, lambda lc: plans.get(lc.level), record, cdr_id, inbound=True
    )
    return Priced(owner.id, levels)


def _per_minute(number: str, price: Decimal) -> RatingPlan:
    # 60/60: every started minute billed whole, 4 decimals half up (a sheet's defaults).
    sheet = RateSheet(
        name=f"DID {number} inbound",
        rates=(
            Rate(
                prefix=number,
                destination=f"DID {number}",
                price=price,
                initial_increment=60,
                increment=60,
            ),
        ),
    )
    return compile_sheet(sheet)
