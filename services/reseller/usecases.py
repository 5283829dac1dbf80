"""Account use cases of the Reseller Manager. No spyne here.

A reseller sees and touches only its own subtree (docs/design.md): every lookup goes
through services.common.caller, which answers NotFound for anything outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db import ledger
from db.schema import Account, Login, RateSheet
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from rating.money import ZERO, to_money
from services.billing.alert_usecases import arm_default_alerts
from services.common.caller import Caller, require_role, visible_account
from services.common.passwords import hash_password
from services.currency.accounts import account_currency

MIN_PASSWORD = 8


@dataclass(frozen=True)
class NewAccount:
    name: str
    username: str
    password: str
    role: str = "customer"
    parent_id: int | None = None
    billing_type: str = "prepaid"
    credit_limit: object = ZERO
    initial_credit: object = ZERO
    rate_sheet_id: int | None = None
    accountcode: str | None = None
    kind: str = "sip"
    company_name: str = ""
    currency: str = ""  # empty: the sheet's, else the parent's


def create_account(uow: UnitOfWork, caller: Caller, cmd: NewAccount) -> tuple[Account, str]:
    require_role(caller, "admin", "reseller")
    session = uow.session
    parent = visible_account(session, caller, cmd.parent_id)
    if parent.role == "customer":
        raise InvalidInput("parent_id: a customer account cannot have accounts below it")
    credit_limit, initial_credit = _money_fields(cmd)
    sheet = _assignable_sheet(uow, caller, cmd.rate_sheet_id)
    fallback = sheet.currency if sheet else parent.currency
    currency = account_currency(session, cmd.currency) or fallback
    account = Account(
        parent_id=parent.id,
        role=_role(cmd.role),
        name=_name(cmd.name),
        billing_type=cmd.billing_type,
        credit_limit=credit_limit,
        currency=currency,
        rate_sheet_id=sheet.id if sheet else None,
        accountcode=(cmd.accountcode or "").strip() or None,
        kind=cmd.kind,
        company_name=cmd.company_name.strip(),
    )
    session.add(account)
    login = Login(
        account=account,
        username=_username(cmd.username),
        password_hash=_password_hash(cmd.password),
    )
    session.add(login)
    _flush_unique(uow)
    account.path = f"{parent.path}{account.id}/"
    if initial_credit > 0:
        ledger.post(
            session,
            account.id,
            "payment",
            initial_credit,
            reference="initial credit",
            login_id=caller.login_id,
        )
    arm_default_alerts(uow, account.id, initial_credit)  # the operator's default thresholds
    uow.commit()
    session.refresh(account)
    return account, login.username


def _money_fields(cmd: NewAccount) -> tuple[Decimal, Decimal]:
    if cmd.billing_type not in ("prepaid", "postpaid"):
        raise InvalidInput("billing_type: prepaid or postpaid")
    credit_limit = to_money(cmd.credit_limit, "credit_limit")
    initial_credit = to_money(cmd.initial_credit, "initial_credit")
    if credit_limit < 0:
        raise InvalidInput("credit_limit: must not be negative")
    if cmd.billing_type == "prepaid" and credit_limit != 0:
        raise InvalidInput("credit_limit: only a postpaid account has a credit limit")
    if initial_credit < 0:
        raise InvalidInput("initial_credit: must not be negative")
    return credit_limit, initial_credit


def _role(role: str) -> str:
    if role not in ("customer", "reseller"):
        raise InvalidInput("role: customer or reseller")
    return role


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("name: 1 to 128 characters")
    return name


def _username(username: str) -> str:
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise InvalidInput("username: 1 to 80 characters, no spaces")
    return username


def _password_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters")
    return hash_password(password)


def _assignable_sheet(uow: UnitOfWork, caller: Caller, sheet_id: int | None) -> RateSheet | None:
    """A reseller may give its accounts a sheet it owns, or the sheet it pays by; the
    admin any sheet. Anything else is NotFound, like a sheet that does not exist."""
    if sheet_id is None:
        return None
    sheet = uow.session.get(RateSheet, sheet_id)
    if sheet is None:
        raise NotFound(f"rate sheet {sheet_id} not found")
    if caller.is_admin or sheet.owner_id == caller.account_id:
        return sheet
    mine = uow.session.get(Account, caller.account_id)
    if mine is not None and mine.rate_sheet_id == sheet.id:
        return sheet
    raise NotFound(f"rate sheet {sheet_id} not found")


def _flush_unique(uow: UnitOfWork) -> None:
    try:
        uow.session.flush()
    except IntegrityError as e:
        text = str(e.orig).lower()
        what = "accountcode" if "accountcode" in text else "username"
        raise AlreadyExists(f"{what}: already in use") from None


def get_account(uow: UnitOfWork, caller: Caller, account_id: int | None) -> tuple[Account, str]:
    account = visible_account(uow.session, caller, account_id)
    return account, _login_name(uow, account.id)


def _login_name(uow: UnitOfWork, account_id: int) -> str:
    name = uow.session.execute(
        select(Login.username).where(Login.account_id == account_id).order_by(Login.id).limit(1)
    ).scalar_one_or_none()
    return name or ""


def list_accounts(
    uow: UnitOfWork,
    caller: Caller,
    *,
    parent_id: int | None,
    search: str,
    offset: int,
    limit: int,
) -> tuple[list[tuple[Account, str]], int]:
    """The caller's subtree (itself excluded), or the direct children of `parent_id`."""
    require_role(caller, "admin", "reseller")
    where = [Account.path.startswith(caller.path), Account.id != caller.account_id]
    if parent_id is not None:
        visible_account(uow.session, caller, parent_id)
        where.append(Account.parent_id == parent_id)
    if search:
        where.append(Account.name.icontains(search, autoescape=True))
    total = uow.session.execute(
        select(func.count()).select_from(Account).where(*where)
    ).scalar_one()
    first_login = (
        select(Login.username)
        .where(Login.account_id == Account.id)
        .order_by(Login.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = uow.session.execute(
        select(Account, first_login).where(*where).order_by(Account.id).offset(offset).limit(limit)
    ).all()
    return [(a, u or "") for a, u in rows], total
