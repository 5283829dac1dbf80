"""GetTrunkStatus (admin): a trunk's live consumption, from what the AMI listener and
credit control already keep. No spyne here.

- calls up: its rows in `live_calls` (kept by the listener);
- channels held: its open first-choice reservations, what its channel limit counts;
- ASR and ACD over the last hour: the CDRs it carried that started in that hour;
- cost today: what the operator owes its provider for the calls it carried that
  started since 00:00 UTC today (the `charges` rows with a provider and no account).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from db.schema import Cdr, Charge, LiveCall, Trunk
from db.session import UnitOfWork
from rating.errors import NotFound
from services.common.caller import Caller, require_role
from services.credit.routing import open_channels, trunk_quality

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class TrunkStatus:
    trunk: Trunk
    calls_up: int
    channels_held: int
    calls_last_hour: int
    answered_last_hour: int
    asr: Decimal  # per cent
    acd: Decimal  # seconds
    cost_today: Decimal


def trunk_status(uow: UnitOfWork, caller: Caller, trunk_id: int, now: datetime) -> TrunkStatus:
    require_role(caller, "admin")
    session = uow.session
    trunk = session.get(Trunk, trunk_id)
    if trunk is None:
        raise NotFound(f"trunk {trunk_id} not found")
    up = session.scalar(select(func.count()).where(LiveCall.trunk_id == trunk.id))
    quality = trunk_quality(session, [trunk.id], now - WINDOW).get(trunk.id)
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    cost = session.scalar(
        select(func.coalesce(func.sum(Charge.cost), 0))
        .join(Cdr, Charge.cdr_id == Cdr.id)
        .where(
            Cdr.trunk_id == trunk.id,
            Cdr.start_time >= midnight,
            Charge.account_id.is_(None),
            Charge.provider_id.is_not(None),
        )
    )
    return TrunkStatus(
        trunk=trunk,
        calls_up=int(up or 0),
        channels_held=open_channels(session, [trunk.id]).get(trunk.id, 0),
        calls_last_hour=quality.calls if quality else 0,
        answered_last_hour=quality.answered if quality else 0,
        asr=quality.asr * 100 if quality else Decimal(0),
        acd=quality.acd if quality else Decimal(0),
        cost_today=Decimal(cost or 0),
    )
