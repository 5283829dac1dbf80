"""Where an inbound call to a DID goes, for the switch: the FastAGI `did` lookup that the
sample dialplan's [siptar-from-trunks] asks (ami_listener/fastagi.py), instead of a
hand-written mapping per number. No spyne here.

The DIDs, their owners and destinations are services/dids/ (assignment.py sets them);
this module only reads them, and answers plain values the edge turns into channel
variables. Billing the call is the CDR's business (services/dids/inbound.py).

The contract (docs/asterisk/README.md, "DIDs in"):

    SIPTAR_DID_FOUND        1: the call goes somewhere; 0: refuse it
    SIPTAR_DID_REASON       OK, NotADid, NotAssigned, Suspended, OwnerInactive,
                            NoDestination, Error
    SIPTAR_DID_KIND         peer, extension or external
    SIPTAR_DID_DEST         the SIP peer's name, the extension's digits, or the number
    SIPTAR_DID_ACCOUNT      the DID owner's account id
    SIPTAR_DID_ACCOUNTCODE  the owner's accountcode (authorizes an external forward)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.recurring_schema import Did, Subscription
from db.schema import Account
from rating import normalise_number
from rating.errors import BillingError
from services.recurring.levels import path_ids


@dataclass(frozen=True)
class DidRoute:
    reason: str
    kind: str = ""
    destination: str = ""
    account_id: int | None = None
    accountcode: str = ""

    @property
    def found(self) -> bool:
        return self.reason == "OK"

    def variables(self) -> list[tuple[str, str]]:
        return [
            ("SIPTAR_DID_FOUND", "1" if self.found else "0"),
            ("SIPTAR_DID_REASON", self.reason),
            ("SIPTAR_DID_KIND", self.kind),
            ("SIPTAR_DID_DEST", self.destination),
            ("SIPTAR_DID_ACCOUNT", "" if self.account_id is None else str(self.account_id)),
            ("SIPTAR_DID_ACCOUNTCODE", self.accountcode),
        ]


def route_did(session: Session, number: str) -> DidRoute:
    try:
        digits = normalise_number(number)
    except BillingError:
        return DidRoute("NotADid")
    did = session.scalars(select(Did).where(Did.number == digits)).first()
    if did is None or did.status == "removed":
        return DidRoute("NotADid")
    if did.status != "assigned" or did.account_id is None:
        return DidRoute("NotAssigned")
    sub = session.get(Subscription, did.subscription_id) if did.subscription_id else None
    if sub is not None and sub.status == "suspended":
        return DidRoute("Suspended", account_id=did.account_id)
    owner = session.get(Account, did.account_id)
    if owner is None or not _active_with_parents(session, owner):
        return DidRoute("OwnerInactive", account_id=did.account_id)
    if did.destination_kind not in ("peer", "extension", "external") or not did.destination:
        return DidRoute("NoDestination", account_id=owner.id)
    if did.destination_kind == "peer":
        peer = session.scalars(
            select(Account).where(Account.sip_username == did.destination)
        ).first()
        # The peer may have been blocked (or renamed) since the destination was set.
        if peer is None or not _active_with_parents(session, peer):
            return DidRoute("NoDestination", account_id=owner.id)
    return DidRoute(
        "OK",
        kind=did.destination_kind,
        destination=did.destination,
        account_id=owner.id,
        accountcode=owner.accountcode or "",
    )


def _active_with_parents(session: Session, account: Account) -> bool:
    ids = path_ids(account.path) or [account.id]
    statuses = session.scalars(select(Account.status).where(Account.id.in_(ids))).all()
    return bool(statuses) and all(s == "active" for s in statuses)
