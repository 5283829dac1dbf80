"""Which trunk carried a CDR's call (what `cdrs.trunk_id` records and the operator's
buy cost is priced at: services/credit/settlement.py), and which trunk a channel names
(a call in or out over a trunk is not on-net: services/onnet/pricing.py).

In this order: the CDR's `Trunk` field (cdr_manager mapping `siptar_trunk => Trunk`, or
SettleCall's trunk_id), else the destination channel (`PJSIP/carrier1-00000002` is
trunk `carrier1`, or the trunk whose dial string ends in `@carrier1`; a Local channel's
dialplan context), else the trunk the call's reservation was made for (Master.csv
carries no Trunk field; Local channels name no trunk). The one-CDR path asks the
database (`_find_trunk`); a listener's batch loads its trunks at once
(services/cdr/prefetch.py) and matches them with `match_trunk`, the same rule, so
both find the same trunk. Each answer is remembered for the batch (cdr_batch).

Spyne-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.schema import Trunk
from services.cdr.commands import CdrRecord
from services.credit.cdr_batch import held_for, remembered

TRUNK_FIELD = "Trunk"
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/(?P<peer>.+?)-[0-9a-fA-F;.]+$")


def find_trunk(session: Session, record: CdrRecord) -> Trunk | None:
    name, peer = trunk_key(record)
    return remembered(session, ("trunk", name, peer), lambda: _find_trunk(session, name, peer))


def trunk_key(record: CdrRecord) -> tuple[str, str]:
    """What names the trunk of a CDR: its Trunk field, and the destination channel's peer."""
    name = record.extra.get(TRUNK_FIELD, "").strip()
    match = _CHANNEL.match(record.dstchannel.strip())
    peer = match.group("peer") if match is not None else ""
    if record.dstchannel.startswith("Local/") and "@" in peer:
        # `Local/34911234567@pstn-sim-0000001b;1`: the dialplan context is the trunk.
        peer = peer.rsplit("@", 1)[1]
    return name, peer


def channel_peer(channel: str) -> str | None:
    """The peer a channel names (`PJSIP/carrier1-00000002`: `carrier1`), if any."""
    match = _CHANNEL.match(channel.strip())
    return match.group("peer") if match is not None else None


def trunk_of_channel(session: Session, channel: str) -> Trunk | None:
    """The trunk a channel's peer names (`PJSIP/carrier1-00000002`: the trunk `carrier1`,
    or the one whose dial string ends in `@carrier1`), if any."""
    peer = channel_peer(channel)
    if peer is None:
        return None
    return remembered(session, ("trunk", "", peer), lambda: _find_trunk(session, "", peer))


def match_trunk(trunks: Iterable[Trunk], name: str, peer: str) -> Trunk | None:
    """`_find_trunk`'s rule over trunks already loaded (a batch's, services/cdr/prefetch.py):
    the trunk named `name`, else the first by id named `peer` or dialled `...@peer`."""
    if name:
        named = [t for t in trunks if t.name == name]
        if named:
            return min(named, key=lambda t: t.id)
    if not peer:
        return None
    found = [t for t in trunks if t.name == peer or t.dial_string.endswith(f"@{peer}")]
    return min(found, key=lambda t: t.id) if found else None


def reserved_trunk(session: Session, uniqueid: str) -> Trunk | None:
    """The trunk the call's reservation was made for: what a CDR without a Trunk field
    and without a trunk's channel name (Master.csv; Local-channel trunks) was carried
    by. The first trunk offered; a call that failed over is charged as if on it."""
    held = held_for(session, uniqueid) if uniqueid else None
    if held is None or held.trunk_id is None:
        return None
    trunk_id = held.trunk_id
    return remembered(session, ("trunk id", trunk_id), lambda: session.get(Trunk, trunk_id))


def _find_trunk(session: Session, name: str, peer: str) -> Trunk | None:
    if name:
        found = session.scalars(select(Trunk).where(Trunk.name == name)).first()
        if found is not None:
            return found
    if not peer:
        return None
    # LIKE is only a filter: `autoescape` keeps a peer's `_` and `%` literal, and the exact
    # rule is `match_trunk`'s (SQLite's LIKE ignores case), the batch path's own.
    candidates = session.scalars(
        select(Trunk)
        .where(or_(Trunk.name == peer, Trunk.dial_string.endswith(f"@{peer}", autoescape=True)))
        .order_by(Trunk.id)
    )
    return match_trunk(candidates, "", peer)
