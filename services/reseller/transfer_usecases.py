"""Accounts in and out of CSV and XLSX. No spyne here.

Import is all or nothing: every row is checked first (a bad row answers InvalidInput
naming its line, e.g. "line 5000, column 'billing_type': ..."), uniqueness is checked
inside the file and against the database, and only then are the accounts written with
bulk inserts in one transaction.

Logins: an imported account gets a login only where the file has `username` and
`password`. scrypt at the interactive cost (~50 ms) would make 10,000 rows take eight
minutes, so imported passwords are hashed with scrypt at N=2**8 (~0.7 ms, still salted
per password; `verify_password` reads the cost from the stored hash). Such a password
is meant as a first password: the operator should have it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import String, cast, insert, select, update

from db import ledger
from db.schema import Account, Login, RateSheet, fold_username
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from rating.money import to_money
from services.common.caller import Caller, require_role, visible_account
from services.common.exports import ExportFile, write_table
from services.common.passwords import hash_password
from services.reseller.accounts_usecases import KINDS
from services.reseller.tabular import read_table
from services.reseller.usecases import MIN_PASSWORD, _assignable_sheet

IMPORT_HASH_N = 2**8
COLUMNS = (
    "name",
    "role",
    "billing_type",
    "credit_limit",
    "initial_credit",
    "rate_sheet_id",
    "accountcode",
    "kind",
    "company_name",
    "max_concurrent_calls",
    "max_call_seconds",
    "sip_username",
    "username",
    "password",
)
EXPORT_COLUMNS = (
    "id",
    "parent_id",
    "name",
    "role",
    "billing_type",
    "balance",
    "credit_limit",
    "rate_sheet_id",
    "accountcode",
    "kind",
    "company_name",
    "max_concurrent_calls",
    "max_call_seconds",
    "sip_username",
    "pin",
    "status",
    "status_reason",
)
UNIQUE = ("accountcode", "sip_username", "username")


@dataclass
class _Row:
    line: int
    values: dict[str, object]
    credit: Decimal
    username: str
    password: str


def _bad(line: int, column: str, problem: str) -> InvalidInput:
    return InvalidInput(f"line {line}, column {column!r}: {problem}")


def _int_or_none(line: int, column: str, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise _bad(line, column, f"{text!r} is not a whole number")
    return int(text) or None


def _parse_row(line: int, cells: dict[str, str], sheets: dict[int, RateSheet | None]) -> _Row:
    name = cells.get("name", "")
    if not name or len(name) > 128:
        raise _bad(line, "name", "1 to 128 characters")
    role = cells.get("role") or "customer"
    if role not in ("customer", "reseller"):
        raise _bad(line, "role", "customer or reseller")
    billing = cells.get("billing_type") or "prepaid"
    if billing not in ("prepaid", "postpaid"):
        raise _bad(line, "billing_type", f"{billing!r}: prepaid or postpaid")
    kind = cells.get("kind") or "sip"
    if kind not in KINDS:
        raise _bad(line, "kind", f"one of {', '.join(KINDS)}")
    try:
        limit = to_money(cells.get("credit_limit") or "0", "credit_limit")
        credit = to_money(cells.get("initial_credit") or "0", "initial_credit")
    except InvalidInput as e:
        column, _, problem = e.message.partition(": ")
        raise _bad(line, column, problem) from None
    if limit < 0 or credit < 0:
        raise _bad(line, "credit_limit" if limit < 0 else "initial_credit", "must not be negative")
    if billing == "prepaid" and limit:
        raise _bad(line, "credit_limit", "only a postpaid account has a credit limit")
    sheet_id = _int_or_none(line, "rate_sheet_id", cells.get("rate_sheet_id", ""))
    if sheet_id is not None and sheets.get(sheet_id) is None:
        raise _bad(line, "rate_sheet_id", f"rate sheet {sheet_id} not found")
    username, password = cells.get("username", ""), cells.get("password", "")
    if bool(username) != bool(password):
        raise _bad(
            line, "password" if username else "username", "username and password go together"
        )
    if password and len(password) < MIN_PASSWORD:
        raise _bad(line, "password", f"at least {MIN_PASSWORD} characters")
    sheet = sheets.get(sheet_id) if sheet_id is not None else None
    values: dict[str, object] = {
        "name": name,
        "role": role,
        "billing_type": billing,
        "credit_limit": limit,
        "rate_sheet_id": sheet_id,
        "currency": sheet.currency if sheet else None,
        "accountcode": cells.get("accountcode") or None,
        "kind": kind,
        "company_name": cells.get("company_name", "")[:128],
        "max_concurrent_calls": _int_or_none(
            line, "max_concurrent_calls", cells.get("max_concurrent_calls", "")
        ),
        "max_call_seconds": _int_or_none(
            line, "max_call_seconds", cells.get("max_call_seconds", "")
        ),
        "sip_username": cells.get("sip_username") or None,
    }
    for column in ("accountcode", "sip_username"):
        text = values[column]
        if isinstance(text, str) and (len(text) > 80 or any(c.isspace() for c in text)):
            raise _bad(line, column, "up to 80 characters, no spaces")
    if len(username) > 80:
        raise _bad(line, "username", "up to 80 characters")
    return _Row(line, values, credit, username, password)


def _sheet_lookup(uow: UnitOfWork, caller: Caller) -> dict[int, RateSheet | None]:
    """The sheets the caller may assign, by id (a missing id means not assignable)."""
    found: dict[int, RateSheet | None] = {}
    for sheet in uow.session.scalars(select(RateSheet)):
        try:
            found[sheet.id] = _assignable_sheet(uow, caller, sheet.id)
        except NotFound:
            found[sheet.id] = None
    return found


def _check_unique(uow: UnitOfWork, rows: list[_Row]) -> None:
    columns = {
        "accountcode": Account.accountcode,
        "sip_username": Account.sip_username,
        "username": Login.username_key,  # usernames are unique case-insensitively
    }
    for column in UNIQUE:
        seen: dict[str, int] = {}
        for row in rows:
            value = fold_username(row.username) if column == "username" else row.values[column]
            if isinstance(value, str) and value:
                if value in seen:
                    raise _bad(row.line, column, f"{value!r} is also on line {seen[value]}")
                seen[value] = row.line
        names = list(seen)
        for start in range(0, len(names), 1000):
            taken = uow.session.scalars(
                select(columns[column]).where(columns[column].in_(names[start : start + 1000]))
            ).first()
            if taken is not None:
                raise AlreadyExists(f"line {seen[taken]}, column {column!r}: {taken!r} is taken")


def import_accounts(
    uow: UnitOfWork, caller: Caller, parent_id: int | None, fmt: str, data: bytes
) -> int:
    require_role(caller, "admin", "reseller")
    parent = visible_account(uow.session, caller, parent_id)
    if parent.role == "customer":
        raise InvalidInput("parent_id: a customer account cannot have accounts below it")
    sheets = _sheet_lookup(uow, caller)
    rows: list[_Row] = []
    for line, cells in read_table(fmt, data):
        if not rows:
            unknown = set(cells) - set(COLUMNS)
            if unknown:
                raise InvalidInput(f"line 1: unknown column {sorted(unknown)[0]!r}")
        rows.append(_parse_row(line, cells, sheets))
    if not rows:
        raise InvalidInput("the file has no accounts")
    _check_unique(uow, rows)
    _write(uow, caller, parent, rows)
    uow.commit()
    return len(rows)


def _write(uow: UnitOfWork, caller: Caller, parent: Account, rows: list[_Row]) -> None:
    session = uow.session
    now = datetime.now(UTC)
    records = [
        {
            **r.values,
            "currency": r.values["currency"] or parent.currency,
            "parent_id": parent.id,
            "path": "",
            "balance": Decimal(0),
            "status": "active",
            "status_reason": "",
            "created_at": now,
        }
        for r in rows
    ]
    ids = list(
        session.scalars(
            insert(Account).returning(Account.id, sort_by_parameter_order=True), records
        )
    )
    session.execute(
        update(Account)
        .where(Account.parent_id == parent.id, Account.path == "")
        .values(path=parent.path + cast(Account.id, String) + "/"),
        execution_options={"synchronize_session": False},
    )
    logins = [
        {
            "account_id": i,
            "username": r.username,
            "password_hash": hash_password(r.password, n=IMPORT_HASH_N),
            "created_at": now,
        }
        for i, r in zip(ids, rows, strict=True)
        if r.username
    ]
    if logins:
        session.execute(insert(Login), logins)
    credits = {i: r.credit for i, r in zip(ids, rows, strict=True) if r.credit > 0}
    ledger.post_many(
        session, credits, "payment", reference="initial credit (import)", login_id=caller.login_id
    )


def export_accounts(uow: UnitOfWork, caller: Caller, parent_id: int | None, fmt: str) -> ExportFile:
    """The caller's subtree (or `parent_id`'s), itself excluded, by id."""
    require_role(caller, "admin", "reseller")
    top = visible_account(uow.session, caller, parent_id)
    accounts = uow.session.scalars(
        select(Account)
        .where(Account.path.startswith(top.path), Account.id != top.id)
        .order_by(Account.id)
    )
    rows = [[getattr(a, c) for c in EXPORT_COLUMNS] for a in accounts]
    return write_table(fmt, "accounts", EXPORT_COLUMNS, rows)
