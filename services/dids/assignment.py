"""DIDs in a reseller's hands: available numbers at the caller's price, assign within
the subtree (creates the DID's monthly subscription), release (ends it; back to the pool
after an optional quarantine), the caller's own price for the level below, and where an
inbound call goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select

from db.recurring_schema import CatalogService, Did, ServicePrice, Subscription
from db.schema import Account
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from services.common.caller import Caller, managed_account, require_role
from services.dids.inventory import check_number
from services.recurring import catalog
from services.recurring.subscriptions import end_subscription, start_subscription, utc_day

ZERO = Decimal(0)
DESTINATIONS = ("peer", "extension", "external")


@dataclass(frozen=True)
class PricedDid:
    did: Did
    price: ServicePrice | None  # what the caller's level below pays (its nearest seller)


def _free_now(now: datetime) -> object:
    return or_(Did.status == "free", (Did.status == "quarantine") & (Did.free_after <= now))


def list_available(
    uow: UnitOfWork, caller: Caller, prefix: str | None, now: datetime, offset: int, limit: int
) -> tuple[list[PricedDid], int]:
    require_role(caller, "admin", "reseller")
    where = [_free_now(now)]
    if prefix:
        where.append(Did.number.startswith(prefix.strip().lstrip("+")))
    total = uow.session.scalar(select(func.count()).select_from(Did).where(*where))  # type: ignore[arg-type]
    rows = uow.session.scalars(
        select(Did).where(*where).order_by(Did.number).offset(offset).limit(limit)  # type: ignore[arg-type]
    )
    out = []
    for did in rows:
        service = uow.session.get(CatalogService, did.service_id)
        assert service is not None
        out.append(PricedDid(did, catalog.price_for(uow, caller, service)))
    return out, int(total or 0)


def visible_did(uow: UnitOfWork, caller: Caller, did_id: int, now: datetime) -> Did:
    """A DID the caller may see: free (the pool is everybody's to buy from), or
    assigned within its subtree. Any other answers NotFound."""
    did = uow.session.get(Did, did_id)
    if did is None or did.status == "removed":
        raise NotFound(f"DID {did_id} not found")
    if did.account_id is not None and did.status == "assigned":
        account = uow.session.get(Account, did.account_id)
        if account is None or not account.path.startswith(caller.path):
            raise NotFound(f"DID {did_id} not found")
    elif not (did.status == "free" or (did.free_after is not None and did.free_after <= now)):
        raise NotFound(f"DID {did_id} not found")
    return did


def set_did_price(
    uow: UnitOfWork,
    caller: Caller,
    did_id: int,
    monthly_fee: Decimal,
    setup_fee: Decimal,
    inbound_price: Decimal,
    now: datetime,
) -> ServicePrice:
    did = visible_did(uow, caller, did_id, now)
    row = catalog.set_price(uow, caller, did.service_id, monthly_fee, setup_fee, inbound_price)
    uow.commit()
    return row


def assign_did(uow: UnitOfWork, caller: Caller, did_id: int, account_id: int, now: datetime) -> Did:
    """Assign a free DID to an account below the caller; its monthly fee starts today
    (billing day = today), charged by the recurring-charges job at every level."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    did = visible_did(uow, caller, did_id, now)
    if did.status == "assigned":
        raise InvalidInput(f"DID {did.number} is assigned already")
    service = uow.session.get(CatalogService, did.service_id)
    assert service is not None
    sub = start_subscription(uow.session, account, service, utc_day(now), did_id=did.id)
    did.status, did.account_id, did.subscription_id, did.free_after = (
        "assigned",
        account.id,
        sub.id,
        None,
    )
    did.destination_kind, did.destination = "", ""
    uow.commit()
    return did


def release_did(
    uow: UnitOfWork, caller: Caller, did_id: int, quarantine_days: int, now: datetime
) -> Did:
    """End the DID's subscription (the day of the release is the last one paid) and put
    the number back in the pool, after `quarantine_days` (0-365) if given."""
    require_role(caller, "admin", "reseller")
    if not 0 <= quarantine_days <= 365:
        raise InvalidInput("quarantine_days: 0 to 365")
    did = visible_did(uow, caller, did_id, now)
    if did.status != "assigned" or did.account_id is None:
        raise InvalidInput(f"DID {did.number} is not assigned")
    managed_account(uow.session, caller, did.account_id)
    if did.subscription_id is not None:
        sub = uow.session.get(Subscription, did.subscription_id)
        if sub is not None and sub.end is None:
            end_subscription(uow.session, sub, utc_day(now) + timedelta(days=1), now)
    did.account_id, did.subscription_id = None, None
    did.destination_kind, did.destination = "", ""
    if quarantine_days:
        did.status, did.free_after = "quarantine", now + timedelta(days=quarantine_days)
    else:
        did.status, did.free_after = "free", None
    uow.commit()
    return did


def set_destination(
    uow: UnitOfWork, caller: Caller, did_id: int, kind: str, destination: str, now: datetime
) -> Did:
    """Where calls to the DID go: `peer` (the SIP peer of the DID's account or of an
    account below it), `extension` (digits of the owner's PBX), or `external` (a number
    outside: an outbound call, rated and charged to the DID's owner as one)."""
    require_role(caller, "admin", "reseller")
    did = visible_did(uow, caller, did_id, now)
    if did.status != "assigned" or did.account_id is None:
        raise InvalidInput(f"DID {did.number} is not assigned")
    owner = uow.session.get(Account, did.account_id)
    assert owner is not None
    value = destination.strip()
    if kind == "peer":
        peer = uow.session.scalar(select(Account).where(Account.sip_username == value))
        if peer is None or not peer.path.startswith(owner.path):
            raise InvalidInput("destination: not a SIP peer of the DID's account")
    elif kind == "extension":
        if not value.isdigit() or len(value) > 20:
            raise InvalidInput("destination: an extension is 1 to 20 digits")
    elif kind == "external":
        value = check_number(value)
    else:
        raise InvalidInput(f"destination_kind: one of {', '.join(DESTINATIONS)}")
    did.destination_kind, did.destination = kind, value
    uow.commit()
    return did
