"""Wire types of live calls and traffic figures, built once per service namespace
(the config service for the admin, the reseller service for resellers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyne import ComplexModel, Integer, Unicode

from services.cdr.traffic import Count, LiveCalls, TrafficRow
from services.common.wire import Money, UtcDateTime, money, utc

Ratio = Money  # exact decimals; ASR in %, ACD and PDD in seconds, minutes


@dataclass(frozen=True)
class TrafficTypes:
    LiveCallInfo: Any
    LiveCount: Any
    LiveCallPage: Any
    TrafficRowInfo: Any
    TrafficStats: Any


def make_types(tns: str) -> TrafficTypes:
    def model(type_name: str, /, **fields: Any) -> Any:
        return type(type_name, (ComplexModel,), {"__namespace__": tns, **fields})

    info = model(
        "LiveCallInfo",
        uniqueid=Unicode,
        linkedid=Unicode,
        channel=Unicode,
        dstchannel=Unicode,
        account_id=Integer,
        account_name=Unicode,
        accountcode=Unicode,
        trunk_id=Integer,
        number=Unicode,
        state=Unicode,
        started_at=UtcDateTime,
        answered_at=UtcDateTime,
    )
    count = model("LiveCount", id=Integer, name=Unicode, calls=Integer)
    page = model(
        "LiveCallPage",
        items=info.customize(max_occurs="unbounded"),
        total=Integer,
        offset=Integer,
        by_account=count.customize(max_occurs="unbounded"),
        by_trunk=count.customize(max_occurs="unbounded"),
        by_reseller=count.customize(max_occurs="unbounded"),
    )
    row = model(
        "TrafficRowInfo",
        key=Unicode,
        name=Unicode,
        calls=Integer,
        answered=Integer,
        asr=Ratio,
        acd=Ratio,
        pdd=Ratio,
        minutes=Ratio,
        revenue=Money,
        cost=Money,
        profit=Money,
        # Calls to DIDs, apart; the fields above are the outbound calls'.
        inbound_calls=Integer,
        inbound_answered=Integer,
        inbound_minutes=Ratio,
        inbound_revenue=Money,
        inbound_cost=Money,
        inbound_profit=Money,
    )
    stats = model(
        "TrafficStats",
        group_by=Unicode,
        items=row.customize(max_occurs="unbounded"),
        total=Integer,
        offset=Integer,
    )
    return TrafficTypes(info, count, page, row, stats)


def live_page(types: TrafficTypes, live: LiveCalls, offset: int) -> Any:
    def counts(items: list[Count]) -> list[Any]:
        return [types.LiveCount(id=c.id, name=c.name, calls=c.calls) for c in items]

    return types.LiveCallPage(
        items=[
            types.LiveCallInfo(
                uniqueid=c.uniqueid,
                linkedid=c.linkedid,
                channel=c.channel,
                dstchannel=c.dstchannel,
                account_id=c.account_id,
                account_name=name,
                accountcode=c.accountcode,
                trunk_id=c.trunk_id,
                number=c.number,
                state=c.state,
                started_at=utc(c.started_at),
                answered_at=utc(c.answered_at),
            )
            for c, name in live.calls
        ],
        total=live.total,
        offset=offset,
        by_account=counts(live.by_account),
        by_trunk=counts(live.by_trunk),
        by_reseller=counts(live.by_reseller),
    )


def traffic(
    types: TrafficTypes, group_by: str, rows: list[TrafficRow], total: int, offset: int
) -> Any:
    """A page of the groups, as services/cdr/traffic.traffic_stats cut it."""
    return types.TrafficStats(
        group_by=group_by,
        total=total,
        offset=offset,
        items=[
            types.TrafficRowInfo(
                key=r.key,
                name=r.name,
                calls=r.calls,
                answered=r.answered,
                asr=money(r.asr),
                acd=money(r.acd),
                pdd=money(r.pdd),
                minutes=money(r.minutes),
                revenue=money(r.revenue),
                cost=money(r.cost),
                profit=money(r.profit),
                inbound_calls=r.inbound.calls,
                inbound_answered=r.inbound.answered,
                inbound_minutes=money(r.inbound.minutes),
                inbound_revenue=money(r.inbound.revenue),
                inbound_cost=money(r.inbound.cost),
                inbound_profit=money(r.inbound.profit),
            )
            for r in rows
        ],
    )
