"""The DID inventory (admin): create, import from CSV (all or nothing), list, get,
update, remove. A DID's rent is a service of its own (kind 'did'), whose provider cost
is the DID's monthly cost and whose admin price is what the level below pays."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError

from db.recurring_schema import CatalogService, Did, ServicePrice, Subscription
from db.schema import Provider
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from services.common.caller import Caller, require_role
from services.recurring.catalog import check_amount

ZERO = Decimal(0)
STATUSES = ("free", "assigned", "quarantine")


@dataclass(frozen=True)
class NewDid:
    number: str
    provider_id: int
    setup_cost: Decimal = ZERO
    monthly_cost: Decimal = ZERO
    inbound_cost: Decimal = ZERO
    setup_fee: Decimal = ZERO
    monthly_fee: Decimal = ZERO
    inbound_price: Decimal = ZERO


AMOUNTS = [f.name for f in fields(NewDid)][2:]


def check_number(number: str) -> str:
    digits = number.strip().lstrip("+")
    if not digits.isdigit() or not 3 <= len(digits) <= 32:
        raise InvalidInput("number: 3 to 32 digits (an optional leading + is dropped)")
    return digits


def _add(uow: UnitOfWork, admin_id: int, new: NewDid) -> Did:
    number = check_number(new.number)
    if uow.session.get(Provider, new.provider_id) is None:
        raise NotFound(f"provider {new.provider_id} not found")
    for name in AMOUNTS:
        check_amount(name, getattr(new, name))
    if uow.session.scalar(select(exists().where(Did.number == number))):
        raise AlreadyExists(f"DID {number} exists already")
    service = CatalogService(
        owner_id=admin_id,
        name=f"DID {number}",
        kind="did",
        period="monthly",
        unpaid_policy="suspend",
        provider_id=new.provider_id,
        cost_price=new.monthly_cost,
        cost_setup=new.setup_cost,
    )
    uow.session.add(service)
    uow.session.flush()
    uow.session.add(
        ServicePrice(
            service_id=service.id,
            seller_id=admin_id,
            price=new.monthly_fee,
            setup_fee=new.setup_fee,
            inbound_price=new.inbound_price,
        )
    )
    did = Did(
        number=number,
        provider_id=new.provider_id,
        service_id=service.id,
        inbound_cost=new.inbound_cost,
    )
    uow.session.add(did)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"DID {number} exists already") from None
    return did


def create_did(uow: UnitOfWork, caller: Caller, new: NewDid) -> Did:
    require_role(caller, "admin")
    did = _add(uow, caller.account_id, new)
    uow.commit()
    return did


def import_dids(uow: UnitOfWork, caller: Caller, text: str) -> int:
    """CSV with a header: number, provider_id, then any of the amounts (setup_cost,
    monthly_cost, inbound_cost, setup_fee, monthly_fee, inbound_price). All or nothing:
    the first bad line is named and nothing is stored."""
    require_role(caller, "admin")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = {"number", "provider_id"} - set(header)
    unknown = set(header) - {"number", "provider_id", *AMOUNTS}
    if missing or unknown:
        raise InvalidInput(
            f"line 1: the header needs number and provider_id, and may have {', '.join(AMOUNTS)}"
        )
    count = 0
    for row in reader:
        line = reader.line_num
        try:
            new = NewDid(
                number=row["number"] or "",
                provider_id=int(row["provider_id"] or ""),
                **{k: Decimal(row[k] or "0") for k in AMOUNTS if k in row},
            )
            _add(uow, caller.account_id, new)
        except (ValueError, InvalidOperation) as e:
            raise InvalidInput(f"line {line}: {e}") from None
        except (InvalidInput, NotFound, AlreadyExists) as e:
            raise InvalidInput(f"line {line}: {e.message}") from None
        count += 1
    if count == 0:
        raise InvalidInput("no DID in the file")
    uow.commit()
    return count


def get_did(uow: UnitOfWork, caller: Caller, did_id: int) -> Did:
    require_role(caller, "admin")
    did = uow.session.get(Did, did_id)
    if did is None or did.status == "removed":
        raise NotFound(f"DID {did_id} not found")
    return did


def list_dids(
    uow: UnitOfWork,
    caller: Caller,
    status: str | None,
    prefix: str | None,
    provider_id: int | None,
    offset: int,
    limit: int,
) -> tuple[list[Did], int]:
    require_role(caller, "admin")
    where = [Did.status != "removed"]
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"status: one of {', '.join(STATUSES)}")
        where.append(Did.status == status)
    if prefix:
        where.append(Did.number.startswith(check_number(prefix) if len(prefix) > 2 else prefix))
    if provider_id is not None:
        where.append(Did.provider_id == provider_id)
    total = uow.session.scalar(select(func.count()).select_from(Did).where(*where))
    rows = uow.session.scalars(
        select(Did).where(*where).order_by(Did.number).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


def admin_price(uow: UnitOfWork, did: Did) -> ServicePrice:
    service = uow.session.get(CatalogService, did.service_id)
    assert service is not None
    row = uow.session.get(ServicePrice, (service.id, service.owner_id))
    assert row is not None
    return row


def update_did(
    uow: UnitOfWork,
    caller: Caller,
    did_id: int,
    changes: dict[str, Decimal],
    provider_id: int | None = None,
) -> Did:
    """Change the costs, the admin's prices and the provider. A new monthly price or
    cost, or a new provider, applies to periods charged from now on and to inbound
    calls rated from now on; periods and calls charged already keep theirs (their rows
    name the provider they were charged for)."""
    did = get_did(uow, caller, did_id)
    for name, value in changes.items():
        if name not in AMOUNTS:
            raise InvalidInput(f"{name}: not a DID amount")
        check_amount(name, value)
    service = uow.session.get(CatalogService, did.service_id)
    assert service is not None
    if provider_id is not None:
        # The DID's rent service carries the provider too: the recurring job charges
        # the provider level from it (services/recurring/levels.py).
        did.provider_id = service.provider_id = _usable_provider(uow, provider_id)
    price = admin_price(uow, did)
    targets = {
        "setup_cost": (service, "cost_setup"),
        "monthly_cost": (service, "cost_price"),
        "inbound_cost": (did, "inbound_cost"),
        "setup_fee": (price, "setup_fee"),
        "monthly_fee": (price, "price"),
        "inbound_price": (price, "inbound_price"),
    }
    for name, value in changes.items():
        target, attr = targets[name]
        setattr(target, attr, value)
    uow.commit()
    return did


def _usable_provider(uow: UnitOfWork, provider_id: int) -> int:
    provider = uow.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(f"provider {provider_id} not found")
    if provider.status == "retired":
        raise InvalidInput(f"provider {provider_id} is retired")
    return provider.id


def remove_did(uow: UnitOfWork, caller: Caller, did_id: int) -> None:
    """Only a free DID. One that was ever assigned keeps its row (its subscriptions and
    charges refer to it), marked removed."""
    did = get_did(uow, caller, did_id)
    if did.status != "free":
        raise InvalidInput(f"DID {did.number} is {did.status}: release it first")
    used = uow.session.scalar(select(exists().where(Subscription.service_id == did.service_id)))
    if used:
        did.status = "removed"
        service = uow.session.get(CatalogService, did.service_id)
        assert service is not None
        service.active = False
    else:
        service_id = did.service_id
        uow.session.delete(did)
        uow.session.flush()
        uow.session.execute(delete(ServicePrice).where(ServicePrice.service_id == service_id))
        uow.session.execute(delete(CatalogService).where(CatalogService.id == service_id))
    uow.commit()
