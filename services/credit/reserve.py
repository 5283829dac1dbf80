"""Authorize's reserve step: what every level holds for a call's first slice, the first
trunk's channel, and writing both (services/credit/authorize.py runs it last, under the
chain's locks).

- `price_hold`: each level's amount for the first slice at its own sheet (bundles'
  free part first), as reservation rows not yet written: the amounts the chain's
  rating priced (services/credit/chain_rating.py), priced here only for a chain with
  a bundle; no statement of its own but the bundles' and currencies' look-ups;
- `claim_and_hold`: the channel of the first trunk that has one free, and the rows
  written with the accounts' `reserved` and the trunk's `open_calls` (through
  services/credit/holds.py, their one writer). On PostgreSQL the ordinary call (no
  reservation expired in this transaction, no bundle to hold, a first trunk with a
  channel free) is one statement (`call_hold.hold_new_call`); anything else, and SQLite,
  where a statement costs no round trip, takes the plain statements.

Spyne-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.schema import Trunk
from rating.model import CallToRate
from services.bundles import credit as bundle_credit
from services.bundles.credit import FreePart
from services.bundles.holds import hold as hold_units
from services.credit.call_hold import hold_and_commit, hold_new_call
from services.credit.chain_rating import RatedChain
from services.credit.expiry import EXPIRY_MARGIN
from services.credit.holds import (
    add_open_calls,
    add_reserved,
    refresh_loaded,
    row_locks,
)
from services.credit.levels import ChainAccount
from services.credit.reservation_rows import insert_reservations
from services.credit.routing import TrunkChoice
from services.currency import credit as fx_credit


@dataclass(frozen=True)
class PricedHold:
    """A call's reservation rows, priced, not written: the customer's first."""

    rows: list[dict[str, object]]
    costs: list[Decimal]
    held: int  # the seconds held: the first slice, or more to cover a free part
    free: FreePart | None  # the bundles' part, whose units are held with the rows


def price_hold(
    session: Session,
    chain: Sequence[ChainAccount],
    number: str,
    rated: RatedChain,
    now: datetime,
    uniqueid: str,
    margin: timedelta = EXPIRY_MARGIN,  # issue 17: the expiry margin setting
    on_net: str | None = None,
) -> PricedHold:
    """One reservation per level, each holding the cost of the first slice at its own
    sheet: the costs of the chain's rating (services/credit/chain_rating.py), else (a
    level holds a bundle) priced here. `on_net`: the number as rated of an on-net call
    (its plans are `rated.plans`; no bundle covers it). The rows' `trunk_id` is left
    None."""
    most, held, costs = rated.seconds, rated.held, rated.costs
    # Bundles (docs/bundles.md): each level's free part held whole, in units; the first
    # stretch covers it, and each level's money holds only the paid rest.
    free = (
        None
        if on_net
        else bundle_credit.free_part(session, chain, CallToRate(number, now, most, True), held)
    )
    if free is not None:
        held, costs = free.stretch, None
    call = CallToRate(on_net or number, now, held, True)
    expires = now + timedelta(seconds=held) + margin
    rows: list[dict[str, object]] = []
    held_costs: list[Decimal] = []
    for level, account in enumerate(chain):
        plan = rated.plans[level]
        if costs is not None:
            cost = costs[level]
        else:
            cost = free.cost(account, plan, call) if free else plan.rate_call(call).cost
        # Currencies (docs/currencies.md): held in the account's currency.
        cost = fx_credit.held_in_account_currency(session, account, plan, cost, now)
        held_costs.append(cost)
        rows.append(
            {
                "account_id": account.id,
                "number": number,
                "amount": cost,
                "max_seconds": most,
                "reserved_seconds": held,
                "status": "open",
                "uniqueid": uniqueid[:64],
                "created_at": now,
                "expires_at": expires,
                "trunk_id": None,
            }
        )
    return PricedHold(rows, held_costs, held, free)


def write_hold(session: Session, hold: PricedHold, trunk_id: int | None) -> int:
    """The rows written (the customer's offering `trunk_id` first), the bundles' units
    held, the accounts' `reserved` added: the plain statements. Returns the customer's
    row id. The trunk's count is the caller's (`claim_and_hold`)."""
    rows = [dict(hold.rows[0], trunk_id=trunk_id), *hold.rows[1:]]
    customer_id = insert_reservations(session, rows)
    if hold.free is not None:
        hold_units(session, customer_id, hold.free.takes)  # the counters: after the accounts
    accounts = [int(str(row["account_id"])) for row in hold.rows]
    add_reserved(session, dict(zip(accounts, hold.costs, strict=True)))
    return customer_id


@dataclass(frozen=True)
class CommitWithHold:
    """Authorize's last statement may commit its transaction in the same round trip
    (call_hold.hold_and_commit): the rows' ids, taken by its lock statement, and whether the
    COMMIT waits for the disk."""

    ids: tuple[int, ...]
    wait_for_disk: bool


def claim_and_hold(
    session: Session,
    trunks: list[TrunkChoice],
    freed: Counter[int],
    hold: PricedHold,
    commit: CommitWithHold | None = None,
) -> tuple[list[TrunkChoice], int | None]:
    """The trunks the call may take, the first one's channel taken, and the call's hold
    written: (the trunks in dialling order, the customer's reservation id); ([], None)
    when no trunk has a channel free (nothing held, but what `freed` says applied).
    `commit`: on PostgreSQL's ordinary call, the transaction is committed with the hold
    (then call_hold.TrunkTaken when the first trunk filled meanwhile: nothing written)."""
    if trunks and not freed and hold.free is None and row_locks(session):
        # PostgreSQL's ordinary call: one statement (a full first trunk changes nothing).
        first = trunks[0].trunk_id
        if commit is not None and _commits_with_hold(session, hold, first, commit):
            return trunks, commit.ids[0]
        customer_id = hold_new_call(session, hold.rows, first)
        if customer_id is not None:
            return trunks, customer_id
    trunks, later = _claim_first_trunk(session, trunks, freed)
    if not trunks:
        return [], None
    customer_id = write_hold(session, hold, trunks[0].trunk_id)
    if later is not None:
        # Last, just before the commit: every call through the trunk waits on its row.
        add_open_calls(session, {later: 1})
    return trunks, customer_id


def _commits_with_hold(
    session: Session, hold: PricedHold, trunk_id: int, commit: CommitWithHold
) -> bool:
    if len(commit.ids) != len(hold.rows):  # one id per level, or the plain statement
        return False
    return hold_and_commit(
        session, hold.rows, trunk_id, commit.ids, wait_for_disk=commit.wait_for_disk
    )


def _claim_first_trunk(
    session: Session, trunks: list[TrunkChoice], freed: Counter[int]
) -> tuple[list[TrunkChoice], int | None]:
    """Take a channel of the first trunk that has one free, counted under the trunks'
    locks: two calls authorized at once can't both take a trunk's last channel. The
    trunks that may be taken (up to the first without a limit) and those whose calls
    expired in this transaction (`freed`, negative counts) are locked in one statement,
    by id (the one order, services/credit/holds.py), then changed in one more. The
    usual cases: nothing freed and a first trunk with a channel free is one UPDATE; a
    first trunk without a limit is counted later (the id returned), as the last
    statement before the commit, so that its row is locked as briefly as can be."""
    if trunks and not freed:
        if trunks[0].channel_limit is None:
            return trunks, trunks[0].trunk_id
        if _take_channel(session, trunks[0].trunk_id):
            return trunks, None
    wanted = set(freed)
    for choice in trunks:
        wanted.add(choice.trunk_id)
        if choice.channel_limit is None:
            break
    if not wanted:
        return trunks, None
    counts = dict(
        session.execute(
            select(Trunk.id, Trunk.open_calls)
            .where(Trunk.id.in_(sorted(wanted)))
            .order_by(Trunk.id)
            .with_for_update(key_share=True)
        ).all()
    )
    while trunks and (limit := trunks[0].channel_limit) is not None:
        first = trunks[0].trunk_id
        if counts.get(first, 0) + freed.get(first, 0) < limit:
            break
        trunks.pop(0)
    if trunks:
        freed[trunks[0].trunk_id] += 1
    add_open_calls(session, freed)
    return trunks, None


def _take_channel(session: Session, trunk_id: int) -> bool:
    """One more open call on the trunk if it has a channel free (its row locked by the
    UPDATE; a full trunk's row is left unlocked)."""
    taken = session.execute(
        update(Trunk)
        .where(
            Trunk.id == trunk_id,
            or_(Trunk.channel_limit.is_(None), Trunk.open_calls < Trunk.channel_limit),
        )
        .values(open_calls=Trunk.open_calls + 1)
        .returning(Trunk.id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        return False
    refresh_loaded(session, Trunk, [trunk_id], "open_calls")
    return True
