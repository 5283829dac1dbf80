"""`siptar init`: the operator of a production install, on an empty database.

Creates the root account (role admin: the operator, who pays nobody) with its name,
currency and time zone, and its first login. Nothing else: no customers, no rate
sheets, no routes (the demo's catch-all route would let any call out). The password is
the one given, or one generated here that the command prints once. Spyne-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.schema import Account, Login
from db.session import UnitOfWork
from rating.errors import InvalidInput
from services.common.demo import is_empty
from services.common.passwords import hash_password
from services.logins.usecases import check_new_password, check_username, generated_password

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Installed:
    account_id: int
    username: str
    password: str  # to print once; never logged
    generated: bool


def init_operator(
    uow: UnitOfWork,
    *,
    name: str,
    username: str,
    password: str | None,
    currency: str,
    timezone: str,
) -> Installed:
    if not is_empty(uow):
        raise InvalidInput("the database has accounts already: init goes into an empty one")
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("name: 1 to 128 characters")
    if not _CURRENCY.match(currency):
        raise InvalidInput("currency: three capital letters (ISO 4217), e.g. EUR")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"timezone: unknown time zone {timezone!r}") from None
    login_name = check_username(username)
    secret = check_new_password(password) if password is not None else generated_password()
    root = Account(parent_id=None, role="admin", name=name, currency=currency, timezone=timezone)
    uow.session.add(root)
    uow.session.flush()
    root.path = f"/{root.id}/"
    uow.session.add(
        Login(account_id=root.id, username=login_name, password_hash=hash_password(secret))
    )
    uow.commit()
    return Installed(root.id, login_name, secret, password is None)
