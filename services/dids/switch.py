"""Where an inbound call to a DID goes, asked by the switch before it answers the call.

The dialplan asks (FastAGI `inbound`, docs/dialplan.md) with the dialled number; the
answer is refused, with a stable reason, for a number that is not an assigned DID
(free, in quarantine, removed, unknown), for a DID whose subscription is suspended for
an unpaid fee, and for a DID whose owner (or a reseller above it) is blocked or closed:
the same rules the CDR path applies (services/dids/inbound.py) so a refused call is
never charged and a charged call was never refused. An allowed call carries the DID's
destination:

- `peer`: the SIP peer to ring (`PJSIP/<peer>`); refused with NoDestination when no
  account has that SIP name any more (renamed) or it, or a reseller above it, is not
  active;
- `extension`: digits the dialplan sends to the owner's PBX context;
- `external`: a number outside. It is dialled through a Local channel into the
  `siptar-did-external` context, which runs the ordinary Authorize as the DID's owner:
  the outbound leg is an outbound call of the owner, reserved, rated and charged like
  any other (its own CDR, with the owner's accountcode), while the inbound leg is billed
  as an inbound DID call. Nothing here rates or reserves money.

A DID with no destination set rings its owner's own SIP peer, if it has one.
Spyne-free.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import select

from db.recurring_schema import Did, Subscription
from db.schema import Account, Login
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import BillingError

EXTERNAL_CONTEXT = "siptar-did-external"


class DidReason(StrEnum):
    OK = "OK"
    INVALID_NUMBER = "InvalidNumber"
    UNKNOWN_DID = "UnknownDid"  # not in the inventory, or removed from it
    NOT_ASSIGNED = "DidNotAssigned"  # free
    QUARANTINE = "DidInQuarantine"
    SUSPENDED = "DidSuspended"  # its fee is unpaid
    ACCOUNT_BLOCKED = "AccountBlocked"  # the owner or a reseller above it
    NO_DESTINATION = "NoDestination"


@dataclass(frozen=True)
class InboundRoute:
    allowed: bool
    reason: DidReason
    number: str = ""
    did_id: int | None = None
    account_id: int | None = None  # the DID's owner
    kind: str = ""  # peer, extension or external
    destination: str = ""
    dial_string: str = ""  # what to Dial for peer and external; empty for extension
    # For `external`: how the Authorize of the outbound leg names the owner (its SIP
    # peer, accountcode or login username) and the accountcode its CDR carries.
    account: str = ""
    accountcode: str = ""
    detail: str = ""


def route_inbound(uow: UnitOfWork, dialled: str) -> InboundRoute:
    """The answer for a call to `dialled`; reads only (nothing to commit)."""
    try:
        number = normalise_number(dialled)
    except BillingError:
        return InboundRoute(False, DidReason.INVALID_NUMBER, dialled.strip()[:32])
    session = uow.session
    did = session.scalars(select(Did).where(Did.number == number)).first()
    if did is None or did.status == "removed":
        return InboundRoute(False, DidReason.UNKNOWN_DID, number)
    if did.status == "quarantine":
        return _refused(did, DidReason.QUARANTINE, "the DID is in quarantine, not assigned")
    if did.status != "assigned" or did.account_id is None:
        return _refused(did, DidReason.NOT_ASSIGNED, f"the DID is {did.status}, not assigned")
    sub = session.get(Subscription, did.subscription_id) if did.subscription_id else None
    if sub is not None and sub.status == "suspended":
        return _refused(did, DidReason.SUSPENDED, "suspended: its monthly fee is unpaid")
    owner = session.get(Account, did.account_id)
    assert owner is not None
    if not _chain_active(uow, owner):
        return _refused(did, DidReason.ACCOUNT_BLOCKED, "the owner's account is not active")
    return _destination(uow, did, owner)


def _refused(did: Did, reason: DidReason, why: str) -> InboundRoute:
    return InboundRoute(False, reason, did.number, did.id, did.account_id, detail=why)


def _chain_active(uow: UnitOfWork, owner: Account) -> bool:
    # Every account of the owner's path but the admin (the root), as Authorize checks.
    ids = [int(i) for i in owner.path.strip("/").split("/") if i][1:]
    statuses = uow.session.scalars(select(Account.status).where(Account.id.in_(ids))).all()
    return all(s == "active" for s in statuses)


def _destination(uow: UnitOfWork, did: Did, owner: Account) -> InboundRoute:
    kind, value = did.destination_kind, did.destination
    if not kind and owner.sip_username:
        kind, value = "peer", owner.sip_username
    if kind == "peer":
        peer = uow.session.scalars(select(Account).where(Account.sip_username == value)).first()
        # The peer may have been blocked, closed or renamed since the destination was set.
        if peer is None or peer.status != "active" or not _chain_active(uow, peer):
            why = f"the peer {value} is gone or not active (it or a reseller above it)"
            return _refused(did, DidReason.NO_DESTINATION, why)
        return _allowed(did, kind, value, f"PJSIP/{value}")
    if kind == "extension":
        return _allowed(did, kind, value, "")
    if kind == "external":
        name = _authorize_name(uow, owner)
        if not name:
            why = "an external destination needs an owner with a SIP peer, accountcode or login"
            return _refused(did, DidReason.NO_DESTINATION, why)
        route = _allowed(did, kind, value, f"Local/{value}@{EXTERNAL_CONTEXT}")
        return replace(route, account=name, accountcode=owner.accountcode or "")
    return _refused(did, DidReason.NO_DESTINATION, "no destination set (SetDidDestination)")


def _allowed(did: Did, kind: str, value: str, dial: str) -> InboundRoute:
    return InboundRoute(True, DidReason.OK, did.number, did.id, did.account_id, kind, value, dial)


def _authorize_name(uow: UnitOfWork, owner: Account) -> str:
    """A name Authorize identifies the owner by (services/credit/authorize.identify)."""
    if owner.sip_username or owner.accountcode:
        return owner.sip_username or owner.accountcode or ""
    login = uow.session.scalars(
        select(Login.username).where(Login.account_id == owner.id).order_by(Login.id)
    ).first()
    return login or ""
