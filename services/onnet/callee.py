"""Who an on-net call rings: the number dialled is another account's SIP peer, or a DID
assigned to an account of this server (docs/onnet_callback.md).

    peer (Account.sip_username == number)          -> PJSIP/<peer>
    DID, destination `peer` (or none: the owner's)  -> PJSIP/<peer>
    DID, destination `extension`                    -> Local/<extension>@siptar-pbx
    DID, destination `external`, or not assigned    -> not on-net (routed as any number)

One indexed statement answers the common case (no such peer nor DID): Authorize runs it
for every call.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from db.recurring_schema import Did, Subscription
from db.schema import Account

# The dialplan context of a DID's `extension` destination (docs/dialplan.md).
PBX_CONTEXT = "siptar-pbx"


@dataclass(frozen=True)
class Callee:
    account_id: int
    dial_string: str  # what the dialplan dials instead of a trunk
    via: str  # "peer" or "did": how the number was recognised


def find_callee(session: Session, number: str) -> Callee | None:
    """The account of this server that `number` rings, or None (an ordinary call)."""
    peers = select(Account.id, Account.sip_username, literal("peer")).where(
        Account.sip_username == number
    )
    dids = select(Did.id, Did.number, literal("did")).where(
        Did.number == number, Did.status == "assigned"
    )
    found: list[Any] = list(session.execute(union_all(peers, dids)).all())
    return _first(session, found)


def find_callees(session: Session, numbers: Collection[str]) -> dict[str, Callee | None]:
    """`find_callee` for many numbers (the listener's batch of CDRs): one statement."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    peers = select(Account.id, Account.sip_username, literal("peer")).where(
        Account.sip_username.in_(wanted)
    )
    dids = select(Did.id, Did.number, literal("did")).where(
        Did.number.in_(wanted), Did.status == "assigned"
    )
    rows: list[Any] = list(session.execute(union_all(peers, dids)).all())
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row[1], []).append(row)
    return {n: _first(session, found.get(n, [])) for n in wanted}


def _first(session: Session, found: list[Any]) -> Callee | None:
    """The callee of a number's peer and DID rows."""
    # The peer first, should a DID carry the same digits as a peer's name.
    for row_id, name, via in sorted(found, key=lambda r: r[2] != "peer"):
        if via == "peer":
            return Callee(int(row_id), f"PJSIP/{name}", "peer")
        callee = _did_callee(session, int(row_id))
        if callee is not None:
            return callee
    return None


def _did_callee(session: Session, did_id: int) -> Callee | None:
    did = session.get(Did, did_id)
    if did is None or did.account_id is None:
        return None
    sub = session.get(Subscription, did.subscription_id) if did.subscription_id else None
    if sub is not None and sub.status == "suspended":
        return None  # refused as an inbound call too (FastAGI `inbound`): not routed here
    kind, value = did.destination_kind, did.destination
    if not kind:
        owner = session.get(Account, did.account_id)
        kind, value = ("peer", owner.sip_username) if owner and owner.sip_username else ("", "")
    if kind == "peer" and value:
        return Callee(did.account_id, f"PJSIP/{value}", "did")
    if kind == "extension" and value:
        return Callee(did.account_id, f"Local/{value}@{PBX_CONTEXT}", "did")
    return None  # external (the owner's own outbound leg) or no destination
