"""Who pays what for one subscription: one line per level of the account tree.

Level 0 is the subscriber, 1.. each reseller above it, up to (not including) the
service's owner, who sells it and pays nothing for it. Each level pays the price of its
nearest seller above it that set one (`service_prices`): a reseller who set no price
of its own passes on what it pays, never 0.00. The operator's cost (a DID's provider
rent) is the level above the last account, for the admin's services only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from db.recurring_schema import CatalogService, ServicePrice

ZERO = Decimal(0)


@dataclass(frozen=True)
class LevelPrice:
    level: int
    account_id: int | None  # None: the provider's cost
    provider_id: int | None
    price: Decimal
    setup_fee: Decimal
    inbound_price: Decimal = ZERO  # a DID's, per minute


def path_ids(path: str) -> list[int]:
    """ "/1/4/9/" -> [1, 4, 9] (root first)."""
    return [int(p) for p in path.strip("/").split("/") if p]


def level_prices(
    account_path: str, service: CatalogService, prices: Mapping[int, ServicePrice]
) -> list[LevelPrice]:
    """`prices`: this service's price rows by seller id."""
    chain = path_ids(account_path)  # root ... subscriber
    if service.owner_id not in chain[:-1]:
        return []  # not sold to this account (the use cases refuse such subscriptions)
    owner_at = chain.index(service.owner_id)
    payers = list(reversed(chain[owner_at + 1 :]))  # subscriber first
    lines: list[LevelPrice] = []
    for level, payer in enumerate(payers):
        above = chain[owner_at : chain.index(payer)]  # owner ... payer's parent
        seller = next((prices[s] for s in reversed(above) if s in prices), None)
        price = seller.price if seller else ZERO
        setup = seller.setup_fee if seller else ZERO
        inbound = seller.inbound_price if seller else ZERO
        lines.append(LevelPrice(level, payer, None, price, setup, inbound))
    if service.provider_id is not None and owner_at == 0:
        lines.append(
            LevelPrice(
                len(payers), None, service.provider_id, service.cost_price, service.cost_setup
            )
        )
    return lines
