"""Voucher use cases: create a lot, list, block, export, redeem. Spyne-free.

Who may do what: an admin or a reseller makes lots; its vouchers refill accounts of its
subtree only. It lists, blocks and exports the lots of its subtree (its own and its
sub-resellers'). Redeeming is done by the account itself (SOAP billing, FastAGI).

Single use without a race: the redemption is one conditional
`UPDATE vouchers SET used_at = ... WHERE id = ... AND used_at IS NULL AND status =
'active' AND (not expired)`; whoever's update changes the row posts the ledger row
(kind `voucher`) in the same transaction; everybody else changes nothing and is told
why (used, blocked, expired).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from db import ledger
from db.price_schema import Voucher, VoucherLot
from db.schema import Account, utcnow
from db.session import UnitOfWork
from rating.errors import (
    InvalidInput,
    NotFound,
    VoucherBlocked,
    VoucherExpired,
    VoucherNotValidHere,
    VoucherUnknown,
    VoucherUsed,
)
from rating.money import quantize, to_money
from services.common.caller import Caller, require_role
from services.common.exports import ExportFile, write_table
from services.vouchers import codes, throttle

logger = logging.getLogger(__name__)

MAX_BATCH = 10_000
NEW_FILE_COLUMNS = ("code", "value", "currency", "expires_at", "lot")
LIST_COLUMNS = (
    "id",
    "lot_id",
    "lot",
    "hint",
    "value",
    "currency",
    "expires_at",
    "status",
    "used_at",
    "used_by",
)


@dataclass(frozen=True)
class NewLot:
    lot_id: int
    name: str
    count: int
    file: ExportFile  # the only place the codes ever appear


@dataclass(frozen=True)
class Redeemed:
    voucher_id: int
    account_id: int
    amount: Decimal
    currency: str
    balance: Decimal


def create_vouchers(
    uow: UnitOfWork,
    caller: Caller,
    key: bytes,
    count: int,
    value: object,
    currency: str,
    expires: datetime | None,
    lot_name: str,
    fmt: str = "csv",
) -> NewLot:
    """A lot of `count` new vouchers of `value` each; answers the codes once, as a file."""
    require_role(caller, "admin", "reseller")
    if not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise InvalidInput(f"count: 1 to {MAX_BATCH}")
    amount = to_money(value, "value")
    if amount <= 0:
        raise InvalidInput("value: must be above 0")
    currency = (currency or "").strip().upper()
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise InvalidInput("currency: three letters, e.g. USD")
    name = (lot_name or "").strip()
    if not 1 <= len(name) <= 128:
        raise InvalidInput("lot: 1 to 128 characters")
    now = utcnow()
    if expires is not None and expires <= now:
        raise InvalidInput("expires: must be in the future")
    session = uow.session
    lot = VoucherLot(owner_id=caller.account_id, name=name)
    session.add(lot)
    session.flush()
    fresh = _fresh_codes(session, key, count)
    session.add_all(
        Voucher(
            lot_id=lot.id,
            code_hash=codes.code_hash(key, code),
            hint=codes.hint(code),
            value=amount,
            currency=currency,
            expires_at=expires,
            status="active",
            created_at=now,
        )
        for code in fresh
    )
    session.flush()
    shown = quantize(amount)
    rows = (
        [codes.grouped(code), shown, currency, expires.isoformat() if expires else "", name]
        for code in fresh
    )
    file = write_table(fmt, f"vouchers-{lot.id}", NEW_FILE_COLUMNS, rows)
    uow.commit()
    logger.info("voucher lot %d: %d vouchers by account %d", lot.id, count, caller.account_id)
    return NewLot(lot.id, name, count, file)


def _fresh_codes(session: Session, key: bytes, count: int) -> list[str]:
    """`count` new codes, none already stored. 10^18 codes make a clash all but
    impossible; should one happen, the code is drawn again (and the unique index on the
    hash is the last guard against two lots made at the same instant)."""
    chosen: dict[str, str] = {}
    while len(chosen) < count:
        for code in (codes.new_code() for _ in range(count - len(chosen))):
            chosen[codes.code_hash(key, code)] = code
        hashes = list(chosen)
        for start in range(0, len(hashes), 500):
            taken = session.scalars(
                select(Voucher.code_hash).where(Voucher.code_hash.in_(hashes[start : start + 500]))
            ).all()
            for digest in taken:
                del chosen[digest]
    return list(chosen.values())


def _visible_lots(caller: Caller) -> ColumnElement[bool]:
    owners = select(Account.id).where(Account.path.startswith(caller.path, autoescape=True))
    return VoucherLot.owner_id.in_(owners)


def list_vouchers(
    uow: UnitOfWork,
    caller: Caller,
    lot_id: int | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[tuple[Voucher, VoucherLot]], int]:
    """Vouchers of the lots of the caller's subtree, by id. `status`: active, blocked,
    used, expired (as of now)."""
    require_role(caller, "admin", "reseller")
    where = [_visible_lots(caller)]
    if lot_id is not None:
        where.append(VoucherLot.id == lot_id)
    if status:
        where.append(_status_filter(status))
    base = select(Voucher, VoucherLot).join(VoucherLot, VoucherLot.id == Voucher.lot_id)
    total = uow.session.execute(
        select(func.count()).select_from(base.where(*where).subquery())
    ).scalar_one()
    rows = uow.session.execute(
        base.where(*where).order_by(Voucher.id).offset(offset).limit(limit)
    ).all()
    return [(v, lot) for v, lot in rows], total


def _status_filter(status: str) -> ColumnElement[bool]:
    now = utcnow()
    unused = and_(Voucher.used_at.is_(None), Voucher.status == "active")
    fresh = or_(Voucher.expires_at.is_(None), Voucher.expires_at > now)
    filters = {
        "active": and_(unused, fresh),
        "blocked": and_(Voucher.used_at.is_(None), Voucher.status == "blocked"),
        "used": Voucher.used_at.is_not(None),
        "expired": and_(unused, Voucher.expires_at <= now),
    }
    if status not in filters:
        raise InvalidInput(f"status: one of {', '.join(filters)}")
    return filters[status]


def state(voucher: Voucher, now: datetime) -> str:
    if voucher.used_at is not None:
        return "used"
    if voucher.status == "blocked":
        return "blocked"
    if voucher.expires_at is not None and voucher.expires_at <= now:
        return "expired"
    return "active"


def block_vouchers(
    uow: UnitOfWork, caller: Caller, lot_id: int | None, voucher_ids: Iterable[int]
) -> int:
    """Block the unused vouchers given (by id, or a whole lot) of the caller's subtree;
    answers how many were blocked. An id outside the subtree is NotFound."""
    require_role(caller, "admin", "reseller")
    ids = sorted(set(voucher_ids))
    if lot_id is None and not ids:
        raise InvalidInput("give lot_id or voucher_ids")
    if len(ids) > 1000:
        raise InvalidInput("voucher_ids: at most 1000")
    session = uow.session
    visible = select(VoucherLot.id).where(_visible_lots(caller))
    if lot_id is not None and session.scalar(visible.where(VoucherLot.id == lot_id)) is None:
        raise NotFound(f"voucher lot {lot_id} not found")
    where: list[ColumnElement[bool]] = [Voucher.lot_id.in_(visible), Voucher.used_at.is_(None)]
    if ids:
        found = session.scalar(
            select(func.count()).where(Voucher.id.in_(ids), Voucher.lot_id.in_(visible))
        )
        if found != len(ids):
            raise NotFound("a voucher of voucher_ids was not found")
        where.append(Voucher.id.in_(ids))
    if lot_id is not None:
        where.append(Voucher.lot_id == lot_id)
    result = session.execute(
        update(Voucher).where(*where, Voucher.status == "active").values(status="blocked")
    )
    uow.commit()
    return cast(CursorResult[Any], result).rowcount


def export_vouchers(uow: UnitOfWork, caller: Caller, lot_id: int, fmt: str) -> ExportFile:
    """A lot's vouchers with their state, as CSV or XLSX: hints, never codes."""
    require_role(caller, "admin", "reseller")
    visible = select(VoucherLot).where(_visible_lots(caller), VoucherLot.id == lot_id)
    lot = uow.session.scalars(visible).one_or_none()
    if lot is None:
        raise NotFound(f"voucher lot {lot_id} not found")
    vouchers = uow.session.scalars(
        select(Voucher).where(Voucher.lot_id == lot_id).order_by(Voucher.id)
    ).all()
    now = utcnow()
    rows = (list(row_of(v, lot, now)) for v in vouchers)
    return write_table(fmt, f"voucher-lot-{lot.id}", LIST_COLUMNS, rows)


def row_of(v: Voucher, lot: VoucherLot, now: datetime) -> tuple[object, ...]:
    return (
        v.id,
        lot.id,
        lot.name,
        v.hint,
        quantize(v.value),
        v.currency,
        v.expires_at.isoformat() if v.expires_at else "",
        state(v, now),
        v.used_at.isoformat() if v.used_at else "",
        v.used_by or "",
    )


def redeem(uow: UnitOfWork, key: bytes, account_id: int, code: object, caller: str) -> Redeemed:
    """Put the value of the voucher `code` on the account `account_id` (already
    authenticated by the edge); `caller` is who typed it (an address or a caller ID),
    for the throttle. Faults: TooManyAttempts, VoucherUnknown, VoucherNotValidHere,
    VoucherUsed, VoucherBlocked, VoucherExpired, InvalidInput."""
    session = uow.session
    now = utcnow()
    throttle.check(session, account_id, caller, now)
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    digits = codes.normalise(code)
    row = session.execute(
        select(Voucher, Account.path)
        .join(VoucherLot, VoucherLot.id == Voucher.lot_id)
        .join(Account, Account.id == VoucherLot.owner_id)
        .where(Voucher.code_hash == codes.code_hash(key, digits))
    ).one_or_none()
    if row is None or not (account.path.startswith(row[1]) and account.path != row[1]):
        throttle.record_wrong(session, account_id, caller, now)
        uow.commit()  # the guess is all this transaction holds
        if row is None:
            raise VoucherUnknown("no voucher has this code")
        raise VoucherNotValidHere("this voucher was issued by another reseller")
    voucher = row[0]
    if voucher.currency != account.currency:
        raise InvalidInput(
            f"the voucher is in {voucher.currency}, the account in {account.currency}"
        )
    claimed = session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.used_at.is_(None),
            Voucher.status == "active",
            or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
        )
        .values(used_at=now, used_by=account_id)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], claimed).rowcount != 1:
        session.refresh(voucher)
        raise _refusal(state(voucher, now))
    entry = ledger.post(
        session, account_id, "voucher", voucher.value, reference=f"voucher {voucher.id}"
    )
    uow.commit()
    return Redeemed(voucher.id, account_id, voucher.value, voucher.currency, entry.balance_after)


def _refusal(why: str) -> Exception:
    if why == "used":
        return VoucherUsed("this voucher was redeemed already")
    if why == "blocked":
        return VoucherBlocked("this voucher is blocked")
    return VoucherExpired("this voucher has expired")
