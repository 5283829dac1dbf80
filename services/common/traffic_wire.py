"""Wire types of live calls and traffic figures, built once per service namespace
(the config service for the admin, the reseller service for resellers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyne import Boolean, ComplexModel, Integer, Unicode

from services.cdr.traffic import Count, Figures, LiveCalls, TrafficRow
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
        onnet=Boolean,  # between two accounts of this server (docs/onnet_callback.md)
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
        onnet_calls=Integer,  # of all the pages
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
        # Calls to DIDs, then on-net calls, apart; the fields above are the outbound calls'.
        **_figure_fields("inbound"),
        **_figure_fields("onnet"),
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
                onnet=c.uniqueid in live.onnet,
            )
            for c, name in live.calls
        ],
        total=live.total,
        offset=offset,
        by_account=counts(live.by_account),
        by_trunk=counts(live.by_trunk),
        by_reseller=counts(live.by_reseller),
        onnet_calls=len(live.onnet),
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
                **_figure_values("inbound", r.inbound),
                **_figure_values("onnet", r.onnet),
            )
            for r in rows
        ],
    )


def _figure_fields(prefix: str) -> dict[str, Any]:
    """The wire fields of a kind of calls counted apart (`inbound_calls`, ...)."""
    kinds = {"calls": Integer, "answered": Integer, "minutes": Ratio}
    kinds |= {"revenue": Money, "cost": Money, "profit": Money}
    return {f"{prefix}_{name}": kind for name, kind in kinds.items()}


def _figure_values(prefix: str, f: Figures) -> dict[str, Any]:
    values = {"calls": f.calls, "answered": f.answered, "minutes": money(f.minutes)}
    values |= {"revenue": money(f.revenue), "cost": money(f.cost), "profit": money(f.profit)}
    return {f"{prefix}_{name}": value for name, value in values.items()}
