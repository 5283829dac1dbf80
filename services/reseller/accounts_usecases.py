"""Account management below the caller: update, block/unblock, close, caller IDs, the
SIP details Asterisk needs, and a reseller's branding. No spyne here.

Every target goes through `managed_account` (strictly below the caller) or
`visible_account` (the caller's own or below): outside the subtree is NotFound.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from db.paging import page_scalars
from db.schema import Account, AccountCallerId
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput
from rating.money import to_money
from services.common.caller import Caller, managed_account, require_role, visible_account
from services.reseller import invoice_brand
from services.reseller.invoice_brand import InvoiceBrand

KINDS = ("sip", "callshop", "card", "wholesale")
MAX_CALLERIDS = 100


@dataclass(frozen=True)
class AccountChanges:
    """What UpdateAccount may change; None leaves a field as it is."""

    name: str | None = None
    billing_type: str | None = None
    credit_limit: Decimal | None = None
    kind: str | None = None
    max_concurrent_calls: int | None = None
    max_call_seconds: int | None = None
    company_name: str | None = None


def update_account(
    uow: UnitOfWork, caller: Caller, account_id: int, changes: AccountChanges
) -> Account:
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    _refuse_closed(account)
    if changes.name is not None:
        name = changes.name.strip()
        if not name or len(name) > 128:
            raise InvalidInput("name: 1 to 128 characters")
        account.name = name
    _apply_billing(account, changes)
    if changes.kind is not None:
        if changes.kind not in KINDS:
            raise InvalidInput(f"kind: one of {', '.join(KINDS)}")
        account.kind = changes.kind
    for field in ("max_concurrent_calls", "max_call_seconds"):
        value = getattr(changes, field)
        if value is not None:
            if value < 0:
                raise InvalidInput(f"{field}: 0 (no limit) or more")
            setattr(account, field, value or None)
    if changes.company_name is not None:
        account.company_name = changes.company_name.strip()[:128]
    uow.commit()
    return account


def _apply_billing(account: Account, changes: AccountChanges) -> None:
    billing_type = changes.billing_type or account.billing_type
    if billing_type not in ("prepaid", "postpaid"):
        raise InvalidInput("billing_type: prepaid or postpaid")
    limit = account.credit_limit if changes.credit_limit is None else changes.credit_limit
    limit = to_money(limit, "credit_limit")
    if billing_type == "prepaid":
        if changes.credit_limit is not None and limit != 0:
            raise InvalidInput("credit_limit: only a postpaid account has a credit limit")
        limit = Decimal(0)
        if account.balance < 0:
            raise InvalidInput("billing_type: the balance is negative; settle it first")
    if limit < 0:
        raise InvalidInput("credit_limit: must not be negative")
    account.billing_type, account.credit_limit = billing_type, limit


def _refuse_closed(account: Account) -> None:
    if account.status == "closed":
        raise InvalidInput(f"account {account.id} is closed")


def set_status(
    uow: UnitOfWork, caller: Caller, account_id: int, status: str, reason: str
) -> Account:
    """Block (calls and logins refused), unblock, or close (final: nothing can reopen
    it; the balance and history stay)."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    _refuse_closed(account)
    reason = reason.strip()
    if status in ("blocked", "closed") and not reason:
        raise InvalidInput("reason: say why")
    if status == "active" and account.status != "blocked":
        raise InvalidInput(f"account {account.id} is not blocked")
    account.status, account.status_reason = status, reason[:255]
    uow.commit()
    return account


def list_callerids(
    uow: UnitOfWork, caller: Caller, account_id: int | None, offset: int, limit: int
) -> tuple[Account, list[str], int]:
    """The account and a page of its caller IDs, in order, with how many it has."""
    account = visible_account(uow.session, caller, account_id)
    query = (
        select(AccountCallerId.callerid)
        .where(AccountCallerId.account_id == account.id)
        .order_by(AccountCallerId.callerid)
    )
    ids, total = page_scalars(uow.session, query, offset, limit)
    return account, ids, total


def set_callerids(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    callerids: list[str],
    restrict_ani: bool | None,
) -> list[str]:
    """Replace the caller IDs (ANI) bound to an account. A caller ID identifies one
    account in the whole system: one bound elsewhere is AlreadyExists."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    _refuse_closed(account)
    wanted = sorted({_callerid(c) for c in callerids})
    if len(wanted) > MAX_CALLERIDS:
        raise InvalidInput(f"callerids: at most {MAX_CALLERIDS}")
    session = uow.session
    session.execute(delete(AccountCallerId).where(AccountCallerId.account_id == account.id))
    if wanted:
        try:
            session.execute(
                insert(AccountCallerId), [{"account_id": account.id, "callerid": c} for c in wanted]
            )
        except IntegrityError:
            raise AlreadyExists("callerids: one is bound to another account") from None
    if restrict_ani is not None:
        account.restrict_ani = restrict_ani
    uow.commit()
    return wanted


def _callerid(value: str) -> str:
    value = value.strip().lstrip("+")
    if not value.isdigit() or len(value) > 40:
        raise InvalidInput(f"callerids: {value!r} is not a number (digits, up to 40)")
    return value


@dataclass(frozen=True)
class TechDetails:
    sip_username: str | None = None
    sip_secret: str | None = None
    accountcode: str | None = None
    allowed_dnis: str | None = None


def get_tech(uow: UnitOfWork, caller: Caller, account_id: int | None) -> Account:
    return visible_account(uow.session, caller, account_id)


def set_tech(uow: UnitOfWork, caller: Caller, account_id: int, tech: TechDetails) -> Account:
    """The SIP peer name and secret (kept as its digest only), the CDR accountcode and
    the allowed access numbers. An empty string clears a unique field (and the secret:
    the account then leaves Asterisk's provisioning)."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    _refuse_closed(account)
    if tech.sip_username is not None:
        name = _token("sip_username", tech.sip_username)
        if name != account.sip_username and account.sip_md5_cred and tech.sip_secret is None:
            # The stored digest includes the name: it can't follow a rename.
            raise InvalidInput("sip_secret: a new sip_username needs its secret again")
        account.sip_username = name
    if tech.sip_secret is not None:
        account.sip_md5_cred = sip_digest(account, tech.sip_secret)
    if tech.accountcode is not None:
        account.accountcode = _token("accountcode", tech.accountcode)
    if tech.allowed_dnis is not None:
        numbers = [_callerid(n) for n in tech.allowed_dnis.split(",") if n.strip()]
        account.allowed_dnis = ",".join(numbers)[:255]
    try:
        uow.session.flush()
    except IntegrityError as e:
        what = "accountcode" if "accountcode" in str(e.orig).lower() else "sip_username"
        raise AlreadyExists(f"{what}: already in use") from None
    uow.commit()
    return account


MIN_SECRET = 8


def sip_digest(account: Account, secret: str) -> str:
    """The HA1 Asterisk's digest auth uses as `md5_cred`: md5(username:realm:secret).
    The secret itself is not kept (docs/asterisk/README.md, "Secrets"); "" clears it."""
    secret = secret.strip()
    if not secret:
        return ""
    if not MIN_SECRET <= len(secret) <= 80 or any(c.isspace() for c in secret):
        raise InvalidInput(f"sip_secret: {MIN_SECRET} to 80 characters, no spaces")
    if account.sip_username is None:
        raise InvalidInput("sip_secret: set a sip_username first (or in the same call)")
    text = f"{account.sip_username}:{account.sip_realm}:{secret}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _token(field: str, value: str) -> str | None:
    value = value.strip()
    if len(value) > 80 or any(c.isspace() or c in ",;\"'" for c in value):
        raise InvalidInput(f"{field}: up to 80 characters, no spaces or , ; quotes")
    return value or None


@dataclass(frozen=True)
class Branding:
    account_id: int  # the reseller whose brand it is (0: none above)
    company_name: str


def branding(uow: UnitOfWork, caller: Caller, account_id: int | None) -> Branding:
    """The brand an account's customers see: the company name of the nearest reseller
    at or above the account (white label), or of the operator."""
    current: Account | None = visible_account(uow.session, caller, account_id)
    while current is not None:
        if current.role != "customer" and current.company_name:
            return Branding(current.id, current.company_name)
        current = uow.session.get(Account, current.parent_id) if current.parent_id else None
    return Branding(0, "")


def set_branding(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int | None,
    company: str,
    brand: InvoiceBrand | None = None,
) -> Account:
    """A reseller names itself (its own account) or a reseller below it."""
    require_role(caller, "admin", "reseller")
    account = visible_account(uow.session, caller, account_id)
    if account.role == "customer":
        raise InvalidInput("account_id: branding is for reseller accounts")
    company = company.strip()
    if len(company) > 128:
        raise InvalidInput("company_name: up to 128 characters")
    account.company_name = company
    if brand is not None:
        invoice_brand.apply(uow.session, account.id, brand)
    uow.commit()
    return account


@dataclass(frozen=True)
class AccountFilter:
    status: str | None = None
    role: str | None = None
    kind: str | None = None
    billing_type: str | None = None
    lot_id: int | None = None
    search: str = ""  # in the name, accountcode, company name or PIN


def find_accounts(
    uow: UnitOfWork, caller: Caller, flt: AccountFilter, offset: int, limit: int
) -> tuple[list[Account], int]:
    """The caller's subtree (itself excluded) filtered by every field given, by id."""
    require_role(caller, "admin", "reseller")
    where = [Account.path.startswith(caller.path), Account.id != caller.account_id]
    for column, value in (
        (Account.status, flt.status),
        (Account.role, flt.role),
        (Account.kind, flt.kind),
        (Account.billing_type, flt.billing_type),
        (Account.lot_id, flt.lot_id),
    ):
        if value is not None:
            where.append(column == value)
    if flt.search:
        text = flt.search.strip()
        where.append(
            or_(
                Account.name.icontains(text, autoescape=True),
                Account.company_name.icontains(text, autoescape=True),
                Account.accountcode == text,
                Account.pin == text,
            )
        )
    total = uow.session.execute(
        select(func.count()).select_from(Account).where(*where)
    ).scalar_one()
    rows = uow.session.scalars(
        select(Account).where(*where).order_by(Account.id).offset(offset).limit(limit)
    ).all()
    return list(rows), total
