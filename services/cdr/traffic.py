"""Live calls and traffic figures, for the admin (everything) and resellers (their
subtree only). Spyne-free; the config and reseller services are the edges.

Live calls come from the `live_calls` table the AMI listener keeps. Traffic figures
come from the stored CDRs of a period:

- calls: CDRs; answered: disposition ANSWERED; ASR = answered / calls, in %;
- ACD: billed seconds per answered call; minutes: billed seconds / 60;
- PDD: seconds from the call's start to its answer, per answered call (Asterisk's CDR
  carries no ringing time: this is the post-dial delay including ringing);
- revenue: what the caller's direct children paid for these calls (their charges);
  cost: what the caller paid (a reseller: its own charges; the admin: the providers'
  charges, `charges.provider_id`); profit = revenue - cost.

Calls to DIDs (inbound: the dialled number is a DID of the inventory, or the call's
charges carry no rate sheet, services/dids/inbound.py) are counted apart, in each row's
`inbound` figures; on-net calls (between two accounts of this server, `cdrs.onnet_account_id`
set: services/onnet) in its `onnet` figures; the row's own figures are the outbound calls.
A live call is on-net when its destination channel is an account's SIP peer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from db.recurring_schema import Did
from db.schema import LIVE_CALL_STALE_AFTER_S, Account, Cdr, Charge, LiveCall, Trunk
from db.session import UnitOfWork
from rating.errors import InvalidInput
from services.common.caller import Caller, require_role

GROUPS = ("trunk", "account", "destination")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Count:
    id: int | None
    name: str
    calls: int


@dataclass
class LiveCalls:
    calls: list[tuple[LiveCall, str]]  # (call, account name)
    total: int
    by_account: list[Count]
    by_trunk: list[Count]
    by_reseller: list[Count]
    onnet: frozenset[str] = frozenset()  # the uniqueids of the on-net calls of all pages


def live_calls(uow: UnitOfWork, caller: Caller, offset: int, limit: int) -> LiveCalls:
    """Calls up now: the admin sees all, a reseller those of its subtree."""
    require_role(caller, "admin", "reseller")
    session = uow.session
    # Rows nobody refreshed lately are gone calls, even while no listener runs to delete them.
    fresh = datetime.now(UTC) - timedelta(seconds=LIVE_CALL_STALE_AFTER_S)
    query = (
        select(LiveCall, Account)
        .outerjoin(Account, LiveCall.account_id == Account.id)
        .where(LiveCall.seen_at >= fresh)
    )
    if not caller.is_admin:
        query = query.where(Account.path.startswith(caller.path))
    rows = session.execute(query.order_by(LiveCall.started_at, LiveCall.uniqueid)).all()
    accounts = _path_accounts(session, [a.path for _, a in rows if a is not None])
    trunks = {i: n for i, n in session.execute(select(Trunk.id, Trunk.name))}
    by_account: dict[int | None, int] = defaultdict(int)
    by_trunk: dict[int | None, int] = defaultdict(int)
    by_reseller: dict[int, int] = defaultdict(int)
    for call, account in rows:
        by_account[call.account_id] += 1
        by_trunk[call.trunk_id] += 1
        for ancestor in _ancestors(account, accounts):
            if ancestor.role == "reseller" and ancestor.path.startswith(caller.path):
                by_reseller[ancestor.id] += 1
    names = {a.id: a.name for a in accounts.values()}
    onnet = _onnet_calls(session, [c for c, _ in rows])
    return LiveCalls(
        calls=[(c, a.name if a else "") for c, a in rows[offset : offset + limit]],
        total=len(rows),
        by_account=[Count(i, names.get(i, "") if i else "", n) for i, n in by_account.items()],
        by_trunk=[Count(i, trunks.get(i, "") if i else "", n) for i, n in by_trunk.items()],
        by_reseller=[Count(i, names.get(i, ""), n) for i, n in by_reseller.items()],
        onnet=onnet,
    )


def _onnet_calls(session: Session, calls: list[LiveCall]) -> frozenset[str]:
    """The calls whose destination channel is an account's SIP peer (one query)."""
    peers = {c.uniqueid: _peer(c.dstchannel) for c in calls if c.trunk_id is None}
    wanted = {p for p in peers.values() if p}
    if not wanted:
        return frozenset()
    found = set(
        session.scalars(select(Account.sip_username).where(Account.sip_username.in_(wanted)))
    )
    return frozenset(u for u, p in peers.items() if p in found)


def _peer(channel: str) -> str:
    # PJSIP/1002-0000000a -> 1002; Local channels ring no peer directly.
    if not channel or channel.startswith("Local/") or "/" not in channel:
        return ""
    return channel.split("/", 1)[1].rsplit("-", 1)[0]


def _path_accounts(session: Session, paths: list[str]) -> dict[int, Account]:
    ids = {int(p) for path in paths for p in path.strip("/").split("/") if p}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}


def _ancestors(account: Account | None, accounts: dict[int, Account]) -> list[Account]:
    if account is None:
        return []
    ids = [int(p) for p in account.path.strip("/").split("/") if p]
    return [accounts[i] for i in ids[:-1] if i in accounts]


@dataclass
class Figures:
    calls: int = 0
    answered: int = 0
    billsec: int = 0
    pdd_seconds: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def asr(self) -> Decimal:
        return Decimal(100 * self.answered) / self.calls if self.calls else ZERO

    @property
    def acd(self) -> Decimal:
        return Decimal(self.billsec) / self.answered if self.answered else ZERO

    @property
    def pdd(self) -> Decimal:
        return Decimal(self.pdd_seconds) / self.answered if self.answered else ZERO

    @property
    def minutes(self) -> Decimal:
        return Decimal(self.billsec) / 60

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost


@dataclass
class TrafficRow(Figures):
    """One group: its outbound calls' figures, and `inbound`: its calls to DIDs."""

    key: str = ""
    name: str = ""
    inbound: Figures = field(default_factory=Figures)
    onnet: Figures = field(default_factory=Figures)


def traffic_stats(
    uow: UnitOfWork,
    caller: Caller,
    start: datetime | None,
    end: datetime | None,
    group_by: str,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[TrafficRow], int]:
    """Figures of the calls that started in [start, end), one row per group: a page of
    the groups (all of them without `limit`) and how many groups there are.

    The page is cut in SQL: the database lists and counts the period's groups, and only
    the calls of the page's groups are read and summed, so a page of a period with
    thousands of accounts reads those of its page only. Groups are in key order: trunk
    and account ids as numbers (calls without one first), destinations as text."""
    require_role(caller, "admin", "reseller")
    if start is None or end is None:
        raise InvalidInput("period: start and end are required")
    if group_by not in GROUPS:
        raise InvalidInput(f"group_by: one of {', '.join(GROUPS)}")
    if end <= start:
        raise InvalidInput("period: the end must be after the start")
    session = uow.session
    column = _GROUP_COLUMNS[group_by]
    keys = _period(select(column), caller, start, end).group_by(column)
    total = session.scalar(select(func.count()).select_from(keys.subquery()))
    ordered = keys.order_by(column.asc().nulls_first())
    page = list(session.scalars(ordered.offset(offset).limit(limit)))
    if not page:
        return [], int(total or 0)
    cdrs = (
        select(Cdr.id, Cdr.account_id, Cdr.trunk_id, Cdr.destination, Cdr.disposition)
        .add_columns(Cdr.billsec, Cdr.start_time, Cdr.answer_time)
        .add_columns(Did.id.is_not(None).label("to_did"), Cdr.onnet_account_id)
        .outerjoin(Did, Did.number == Cdr.dst)
    )
    present = [k for k in page if k is not None]
    in_page = (
        column.in_(present) if None not in page else or_(column.in_(present), column.is_(None))
    )
    rows = session.execute(_period(cdrs, caller, start, end).where(in_page)).all()
    groups = _grouped(session, caller, group_by, rows)
    return [groups[_key_of(k)] for k in page], int(total or 0)


# What a group is keyed by (Cdr columns); a TrafficRow's key is its text ("" for NULL).
_GROUP_COLUMNS: dict[str, Any] = {
    "trunk": Cdr.trunk_id,
    "account": Cdr.account_id,
    "destination": Cdr.destination,
}


def _period(query: Select[Any], caller: Caller, start: datetime, end: datetime) -> Select[Any]:
    """`query` over the CDRs of [start, end) that `caller` may see."""
    query = query.select_from(Cdr).join(Account, Cdr.account_id == Account.id)
    query = query.where(Cdr.start_time >= start, Cdr.start_time < end)
    if not caller.is_admin:
        query = query.where(Account.path.startswith(caller.path), Account.id != caller.account_id)
    return query


def _key_of(value: object) -> str:
    return "" if value is None else str(value)


def _grouped(
    session: Session, caller: Caller, group_by: str, rows: Sequence[Any]
) -> dict[str, TrafficRow]:
    """The figures of `rows` (calls) summed per group key."""
    money = _money_by_cdr(session, caller, [r.id for r in rows])
    names = _names(session, group_by, rows)
    groups: dict[str, TrafficRow] = {}
    for r in rows:
        key = _key_of(getattr(r, _GROUP_COLUMNS[group_by].key))
        g = groups.get(key) or groups.setdefault(key, TrafficRow(key=key, name=names.get(key, key)))
        revenue, cost, inbound = money.get(r.id, (ZERO, ZERO, False))
        if r.onnet_account_id is not None:
            figures = g.onnet
        else:
            figures = g.inbound if inbound or r.to_did else g
        figures.calls += 1
        if r.disposition == "ANSWERED" and r.answer_time is not None:
            figures.answered += 1
            figures.billsec += r.billsec
            figures.pdd_seconds += int((r.answer_time - r.start_time).total_seconds())
        figures.revenue += revenue
        figures.cost += cost
    return groups


def _names(session: Session, group_by: str, rows: Sequence[Any]) -> dict[str, str]:
    if group_by == "trunk":
        return {str(i): n for i, n in session.execute(select(Trunk.id, Trunk.name))}
    if group_by == "account":
        ids = {getattr(r, "account_id", None) for r in rows} - {None}
        found = session.execute(select(Account.id, Account.name).where(Account.id.in_(ids)))
        return {str(i): n for i, n in found}
    return {}


def _money_by_cdr(
    session: Session, caller: Caller, cdr_ids: list[int]
) -> dict[int, tuple[Decimal, Decimal, bool]]:
    """cdr id -> (what the caller's children paid, what the caller paid, whether it
    is a call to a DID: its charges carry no sheet)."""
    result: dict[int, tuple[Decimal, Decimal, bool]] = {}
    for start in range(0, len(cdr_ids), 1000):
        chunk = cdr_ids[start : start + 1000]
        charges = session.execute(
            select(Charge.cdr_id, Charge.account_id, Charge.provider_id, Charge.cost)
            .add_columns(func.coalesce(Account.parent_id, 0), Charge.sheet_id.is_(None))
            .outerjoin(Account, Charge.account_id == Account.id)
            .where(Charge.cdr_id.in_(chunk))
        ).all()
        for cdr_id, account_id, provider_id, cost, parent_id, no_sheet in charges:
            revenue, paid, inbound = result.get(cdr_id, (ZERO, ZERO, False))
            if account_id is not None and parent_id == caller.account_id:
                revenue += cost
            elif account_id == caller.account_id or (
                caller.is_admin and account_id is None and provider_id is not None
            ):
                paid += cost
            result[cdr_id] = (revenue, paid, inbound or bool(no_sheet))
    return result
