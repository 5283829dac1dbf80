"""What a batch of CDRs looks up, looked up for the whole batch at once.

Rating a CDR needs its account and the resellers above it, each one's compiled plan,
the trunk that carried the call and its provider (the buy cost), whether the number
is a DID or (a call that used no trunk) another account's peer, and whether any level
of the chain holds a bundle. Looked up one CDR at a
time, even remembered per batch (cdr_batch.remembered), that is a statement per
distinct accountcode, parent, sheet, trunk, provider and number: ~20 of the ~30
statements of a 200-CDR batch, each costing more client time (SQLAlchemy) than the
database spends on it. Here each kind is one statement for the batch, its answers
handed to the same memo (cdr_batch.remember), so pricing code is unchanged and a CDR
this did not foresee (a DID owner's chain, a SettleCall's named account) is looked up
as before.

Nothing is cached past the batch's transaction: accounts, trunks and DIDs are read
as they are in it, so a change committed by another process is seen by the next batch.
Spyne-free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.bundle_schema import AccountBundle
from db.rates import plans
from db.recurring_schema import Did
from db.schema import Account, Provider, Trunk
from rating import normalise_number
from rating.errors import BillingError
from services.bundles.holds import (
    ANY_BUNDLES,
    BUNDLED,
    HELD_KEY,
    USED_KEY,
    any_bundles,
    holds_of_calls,
)
from services.cdr.commands import CdrRecord
from services.credit import cdr_batch, trunk_match
from services.onnet.callee import find_callees


def prefetch(session: Session, records: Sequence[CdrRecord], cdr_ids: Iterable[int]) -> None:
    """Fill the batch's memo (inside cdr_batch.batch) for these records."""
    accounts = _accounts(session, {r.accountcode for r in records if r.accountcode})
    trunks = _trunks(session, records)
    sheets = {a.rate_sheet_id for a in accounts if a.rate_sheet_id is not None}
    sheets |= _providers(session, trunks)
    cdr_batch.remember(
        session, {("plan", i): plan for i, plan in plans.plans(session, sheets).items()}
    )
    _dids(session, records)
    _callees(session, records)
    _bundles(session, records, [a.id for a in accounts], cdr_ids)


def _accounts(session: Session, codes: set[str]) -> list[Account]:
    """The accounts of these accountcodes and every account above them: two statements."""
    if not codes:
        return []
    found = list(session.scalars(select(Account).where(Account.accountcode.in_(sorted(codes)))))
    known = {a.id for a in found}
    above = {int(i) for a in found for i in a.path.strip("/").split("/") if i} - known
    if above:
        found += session.scalars(select(Account).where(Account.id.in_(sorted(above))))
    by_code = {a.accountcode: a for a in found if a.accountcode}
    memo: dict[tuple[object, ...], object] = {("account", c): by_code.get(c) for c in codes}
    memo.update({("account_id", a.id): a for a in found})
    cdr_batch.remember(session, memo)
    return found


def _trunks(session: Session, records: Sequence[CdrRecord]) -> list[Trunk]:
    """The trunks the batch's CDRs name (by their Trunk field, destination channel,
    calling channel, or reservation): one statement, matched by trunk_match's rule."""
    keys = {trunk_match.trunk_key(r) for r in records}
    keys |= {("", peer) for r in records if (peer := trunk_match.channel_peer(r.channel))}
    held = {h.trunk_id for r in records if (h := cdr_batch.held_for(session, r.uniqueid))}
    ids = sorted(i for i in held if i is not None)
    names = sorted({n for n, _ in keys if n} | {p for _, p in keys if p})
    peers = sorted({p for _, p in keys if p})
    if not names and not ids:
        return []
    found = list(
        session.scalars(
            select(Trunk).where(
                or_(
                    Trunk.id.in_(ids),
                    Trunk.name.in_(names),
                    *(Trunk.dial_string.endswith(f"@{p}", autoescape=True) for p in peers),
                )
            )
        )
    )
    memo: dict[tuple[object, ...], object] = {
        ("trunk", name, peer): trunk_match.match_trunk(found, name, peer) for name, peer in keys
    }
    memo.update({("trunk id", t.id): t for t in found})
    cdr_batch.remember(session, memo)
    return found


def _providers(session: Session, trunks: list[Trunk]) -> set[int]:
    """The trunks' providers (one statement); their buy sheets."""
    ids = sorted({t.provider_id for t in trunks})
    if not ids:
        return set()
    found = list(session.scalars(select(Provider).where(Provider.id.in_(ids))))
    cdr_batch.remember(session, {("provider", p.id): p for p in found})
    return {p.buy_sheet_id for p in found if p.buy_sheet_id is not None}


def _dids(session: Session, records: Sequence[CdrRecord]) -> None:
    """Which of the numbers dialled are DIDs (services/dids/inbound.py): one statement."""
    numbers = set()
    for r in records:
        try:
            numbers.add(normalise_number(r.dst))
        except BillingError:
            continue
    if not numbers:
        return
    found = {d.number: d for d in session.scalars(select(Did).where(Did.number.in_(numbers)))}
    cdr_batch.remember(session, {("did", n): found.get(n) for n in numbers})


def _callees(session: Session, records: Sequence[CdrRecord]) -> None:
    """Who the on-net candidates ring (services/onnet/pricing.py: calls neither out nor
    in over a trunk): one statement for all their numbers, after `_trunks`."""
    numbers = set()
    for r in records:
        if not r.dstchannel or trunk_match.find_trunk(session, r) is not None:
            continue
        if trunk_match.trunk_of_channel(session, r.channel) is not None:
            continue
        try:
            numbers.add(normalise_number(r.dst))
        except BillingError:
            continue
    found = find_callees(session, numbers)
    cdr_batch.remember(session, {("onnet callee", n): c for n, c in found.items()})


def _bundles(
    session: Session, records: Sequence[CdrRecord], account_ids: list[int], cdr_ids: Iterable[int]
) -> None:
    """Which of the batch's accounts hold a bundle (none at all: the one statement that
    says so), what the batch's calls hold of them, and that its new CDRs consumed
    nothing yet."""
    any_ = any_bundles(session)
    memo: dict[tuple[object, ...], object] = {ANY_BUNDLES: any_}
    if any_:
        bundled = set(
            session.scalars(
                select(AccountBundle.account_id)
                .where(AccountBundle.account_id.in_(sorted(set(account_ids))))
                .distinct()
            )
        )
        memo[BUNDLED] = (frozenset(account_ids), frozenset(bundled))
        memo.update({(USED_KEY, i): {} for i in cdr_ids})
        if bundled:
            memo.update(_holds(session, records))
    cdr_batch.remember(session, memo)


def _holds(session: Session, records: Sequence[CdrRecord]) -> dict[tuple[object, ...], object]:
    """(HELD_KEY, reservation id) -> counter id -> units, for every call of the batch."""
    calls = sorted(
        {h.id for r in records if r.uniqueid and (h := cdr_batch.held_for(session, r.uniqueid))}
    )
    found = holds_of_calls(session, calls)
    return {(HELD_KEY, i): found.get(i, {}) for i in calls}
