"""Calling-card PIN lots: generate, list, block/unblock, refill and export a lot as a
whole. No spyne here.

PINs come from `secrets` (the OS's cryptographic source) and are unique across the
whole system: candidates are drawn as a set, the ones already taken are found with
one query per chunk and redrawn, and the `uq_accounts_pin` constraint is the final
word (a concurrent generator that wins a race makes our insert fail; it is retried
from scratch in a savepoint). A lot is written with bulk inserts: one INSERT of the
accounts, one UPDATE for their paths, and the initial credit as one set-based
`ledger.post_where` (one UPDATE ... RETURNING + one bulk INSERT of ledger rows).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import String, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from db import ledger
from db.schema import Account, PinLot, RateSheet
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from rating.money import to_money
from services.common.caller import Caller, require_role, visible_account
from services.reseller.usecases import _assignable_sheet

MAX_COUNT = 100_000
MIN_LENGTH, MAX_LENGTH = 6, 20
# At most 1 in 1,000 of a length's PIN space may be handed out in one lot, so a PIN
# can't be guessed by trying and redrawing stays cheap.
SPARSENESS = 1000
CHUNK = 5000


@dataclass(frozen=True)
class LotSummary:
    lot: PinLot
    cards: int
    active: int
    balance: Decimal


def draw_pins(
    count: int, length: int, taken: Callable[[set[str]], set[str]], randbelow: Callable[[int], int]
) -> set[str]:
    """`count` distinct PINs of `length` digits, none of them in `taken(candidates)`."""
    pins: set[str] = set()
    space = 10**length
    while len(pins) < count:
        wanted = count - len(pins)
        fresh = {str(randbelow(space)).zfill(length) for _ in range(wanted)} - pins
        pins |= fresh - taken(fresh)
    return pins


def _taken_in_db(uow: UnitOfWork) -> Callable[[set[str]], set[str]]:
    def taken(candidates: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = list(candidates)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            found.update(uow.session.scalars(select(Account.pin).where(Account.pin.in_(chunk))))
        return found

    return taken


@dataclass(frozen=True)
class NewLot:
    count: int
    length: int
    initial_credit: object
    sheet_id: int | None
    name: str
    parent_id: int | None = None


def generate_pins(uow: UnitOfWork, caller: Caller, cmd: NewLot) -> LotSummary:
    require_role(caller, "admin", "reseller")
    session = uow.session
    parent = visible_account(session, caller, cmd.parent_id)
    if parent.role == "customer":
        raise InvalidInput("parent_id: a customer account cannot have accounts below it")
    _check_size(cmd.count, cmd.length)
    credit = to_money(cmd.initial_credit, "initial_credit")
    if credit < 0:
        raise InvalidInput("initial_credit: must not be negative")
    name = cmd.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("lot_name: 1 to 100 characters")
    sheet = _assignable_sheet(uow, caller, cmd.sheet_id)
    lot = PinLot(owner_id=parent.id, name=name)
    session.add(lot)
    session.flush()
    for attempt in range(3):
        try:
            with session.begin_nested():
                _insert_cards(uow, lot, parent, sheet, cmd.count, cmd.length)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if credit > 0:
        ledger.post_where(
            session,
            Account.lot_id == lot.id,
            "payment",
            credit,
            reference=f"initial credit, lot {lot.id}",
            login_id=caller.login_id,
        )
    uow.commit()
    return lot_summary(uow, caller, lot.id)


def _check_size(count: int, length: int) -> None:
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"count: 1 to {MAX_COUNT}")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidInput(f"length: {MIN_LENGTH} to {MAX_LENGTH} digits")
    if count * SPARSENESS > 10**length:
        raise InvalidInput(
            f"length: {count} PINs need at least {len(str(count * SPARSENESS - 1))} digits"
        )


def _insert_cards(
    uow: UnitOfWork, lot: PinLot, parent: Account, sheet: RateSheet | None, count: int, length: int
) -> None:
    # Sorted only to give the cards ids in PIN order; the PINs themselves are random.
    pins = sorted(draw_pins(count, length, _taken_in_db(uow), secrets.randbelow))
    now = datetime.now(UTC)
    currency = sheet.currency if sheet else parent.currency
    sheet_id = sheet.id if sheet else None
    rows = [
        {
            "parent_id": parent.id,
            "path": "",
            "role": "customer",
            "name": f"{lot.name} {n}",
            "billing_type": "prepaid",
            "balance": Decimal(0),
            "credit_limit": Decimal(0),
            "currency": currency,
            "rate_sheet_id": sheet_id,
            "status": "active",
            "status_reason": "",
            "kind": "card",
            "company_name": "",
            "pin": pin,
            "lot_id": lot.id,
            "created_at": now,
        }
        for n, pin in enumerate(pins, start=1)
    ]
    for start in range(0, len(rows), CHUNK):
        uow.session.execute(insert(Account), rows[start : start + CHUNK])
    # The path needs the new id: one set-based UPDATE for the whole lot.
    uow.session.execute(
        update(Account)
        .where(Account.lot_id == lot.id, Account.path == "")
        .values(path=parent.path + cast(Account.id, String) + "/"),
        execution_options={"synchronize_session": False},
    )


def _lot(uow: UnitOfWork, caller: Caller, lot_id: int) -> PinLot:
    lot = uow.session.get(PinLot, lot_id)
    if lot is not None:
        owner = uow.session.get(Account, lot.owner_id)
        if owner is not None and caller.owns(owner) and caller.role != "customer":
            return lot
    raise NotFound(f"lot {lot_id} not found")


def lot_summary(uow: UnitOfWork, caller: Caller, lot_id: int) -> LotSummary:
    lot = _lot(uow, caller, lot_id)
    cards, active, balance = uow.session.execute(
        select(
            func.count(),
            func.count().filter(Account.status == "active"),
            func.coalesce(func.sum(Account.balance), 0),
        ).where(Account.lot_id == lot.id)
    ).one()
    return LotSummary(lot, cards, active, Decimal(balance))


def list_lots(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[LotSummary], int]:
    require_role(caller, "admin", "reseller")
    where = PinLot.owner_id.in_(select(Account.id).where(Account.path.startswith(caller.path)))
    total = uow.session.execute(select(func.count()).select_from(PinLot).where(where)).scalar_one()
    ids = uow.session.scalars(
        select(PinLot.id).where(where).order_by(PinLot.id).offset(offset).limit(limit)
    ).all()
    return [lot_summary(uow, caller, i) for i in ids], total


def set_lot_status(uow: UnitOfWork, caller: Caller, lot_id: int, block: bool, reason: str) -> int:
    """Block (or unblock) every card of a lot that is not closed; returns how many."""
    require_role(caller, "admin", "reseller")
    lot = _lot(uow, caller, lot_id)
    if block and not reason.strip():
        raise InvalidInput("reason: say why")
    old, new = ("active", "blocked") if block else ("blocked", "active")
    result = uow.session.execute(
        update(Account)
        .where(Account.lot_id == lot.id, Account.status == old)
        .values(status=new, status_reason=reason.strip()[:255] if block else ""),
        execution_options={"synchronize_session": False},
    )
    uow.commit()
    return int(getattr(result, "rowcount", 0))


def refill_lot(uow: UnitOfWork, caller: Caller, lot_id: int, amount: object, reference: str) -> int:
    """A payment of `amount` to every card of the lot that is not closed."""
    require_role(caller, "admin", "reseller")
    lot = _lot(uow, caller, lot_id)
    value = to_money(amount, "amount")
    if value <= 0:
        raise InvalidInput("amount: a payment must be positive")
    count = ledger.post_where(
        uow.session,
        (Account.lot_id == lot.id) & (Account.status != "closed"),
        "payment",
        value,
        reference=reference.strip()[:255] or f"refill of lot {lot.id}",
        login_id=caller.login_id,
    )
    uow.commit()
    return count


def lot_cards(uow: UnitOfWork, caller: Caller, lot_id: int) -> tuple[PinLot, list[Account]]:
    lot = _lot(uow, caller, lot_id)
    cards = uow.session.scalars(
        select(Account).where(Account.lot_id == lot.id).order_by(Account.id)
    ).all()
    return lot, list(cards)
