"""What the shop's walk-in customers pay: calls priced at the shop's sell sheet.

The shop itself is charged at its own rate sheet by the ordinary CDR path (its ledger
rows); nothing here touches a balance. Sell prices are computed from the CDRs when
asked and fixed on the session when it is closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.callshop_schema import Booth
from db.rates import plans
from db.schema import Cdr
from rating import RatingPlan, normalise_number
from rating.errors import BillingError
from rating.model import CallToRate
from rating.money import ZERO
from services.callshop.shops import peer_of


@dataclass(frozen=True)
class SoldCall:
    cdr_id: int
    number: str
    destination: str
    start: datetime
    billsec: int
    billed_seconds: int
    price: Decimal  # at the sell sheet
    cost: Decimal  # what the shop was charged (its level-0 charge)
    priced: bool  # False: the sell sheet has no rate for it (price 0, shown as such)


def sell_price(
    plan: RatingPlan, number: str, start: datetime, billsec: int
) -> tuple[Decimal, int, str, bool]:
    """(price, billed seconds, destination, priced) of `billsec` answered seconds."""
    try:
        cost = plan.rate_call(CallToRate(normalise_number(number), start, billsec, True))
    except BillingError:
        return ZERO, 0, "", False
    return cost.cost, cost.billed_seconds, cost.destination, True


def booth_cdrs(session: Session, booth: Booth, start: datetime, end: datetime | None) -> list[Cdr]:
    """The shop's CDRs of calls made from the booth's peer that started in
    [start, end) (end None: up to now), oldest first."""
    query = select(Cdr).where(
        Cdr.account_id == booth.shop_id,
        Cdr.channel.like(f"%/{booth.sip_peer}-%"),
        Cdr.start_time >= start,
    )
    if end is not None:
        query = query.where(Cdr.start_time < end)
    rows = session.scalars(query.order_by(Cdr.start_time, Cdr.id)).all()
    # LIKE's match is wider than the peer (another peer ending in this name): check.
    return [c for c in rows if peer_of(c.channel) == booth.sip_peer]


# The columns a sold call needs: what the board loads for every booth in one query.
CDR_COLUMNS = (
    Cdr.id,
    Cdr.channel,
    Cdr.dst,
    Cdr.destination,
    Cdr.start_time,
    Cdr.answer_time,
    Cdr.billsec,
    Cdr.disposition,
    Cdr.cost,
)


def shop_cdrs_since(session: Session, shop_id: int, start: datetime) -> dict[str, list[Any]]:
    """The shop's CDRs that started at `start` or later, by the SIP peer of their
    channel, oldest first: one query for a whole board."""
    rows = session.execute(
        select(*CDR_COLUMNS)
        .where(Cdr.account_id == shop_id, Cdr.start_time >= start)
        .order_by(Cdr.start_time, Cdr.id)
    ).all()
    by_peer: dict[str, list[Any]] = {}
    for row in rows:
        by_peer.setdefault(peer_of(row.channel), []).append(row)
    return by_peer


def sold_calls(session: Session, sheet_id: int, cdrs: Sequence[Any]) -> list[SoldCall]:
    """The answered calls among `cdrs` (CDRs or rows of CDR_COLUMNS), each at the sell
    sheet."""
    return priced_calls(plans.plan(session, sheet_id), cdrs)


# A stored CDR's sell price, by (sheet, sheet version, CDR id): a CDR never changes and
# a changed sheet has a new version, so an entry never goes wrong. The board prices
# every session's calls on every poll; this makes that a lookup. Bounded: cleared whole
# when full (it refills in one poll).
_PRICED: dict[tuple[int, int, int], tuple[Decimal, int, str, bool]] = {}
_PRICED_MAX = 200_000


def priced_calls(plan: RatingPlan, cdrs: Sequence[Any]) -> list[SoldCall]:
    out = []
    sheet = plan.sheet
    for c in cdrs:
        if c.billsec <= 0 or c.disposition != "ANSWERED":
            continue
        key = (sheet.id or 0, sheet.version, c.id)
        found = _PRICED.get(key)
        if found is None:
            moment = c.answer_time or c.start_time
            found = sell_price(plan, c.dst, moment, c.billsec)
            if len(_PRICED) >= _PRICED_MAX:
                _PRICED.clear()
            _PRICED[key] = found
        price, billed, destination, priced = found
        out.append(
            SoldCall(
                c.id,
                c.dst,
                destination or c.destination,
                c.start_time,
                c.billsec,
                billed,
                price,
                c.cost,
                priced,
            )
        )
    return out
