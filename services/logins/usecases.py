"""Password changes and admin logins. Passwords are hashed with the one hashing function
(services/common/passwords.py) and never logged, echoed or stored in clear.

- `change_password`: any login, its own password; the current one must be given.
- `set_password`: a login of an account strictly below the caller (admin or reseller):
  a reseller resets its customers' passwords, never its own parent's or a sibling's.
- `add_admin_login`, `reset_password`: the command line (`siptar admin add|passwd`),
  run by whoever holds the database: no caller to check.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from db.schema import Account, Login, fold_username
from db.session import UnitOfWork
from rating.errors import AccessDenied, AlreadyExists, InvalidInput, NotFound
from services.common.caller import Caller, managed_account, require_role
from services.common.passwords import hash_password, verify_password

logger = logging.getLogger(__name__)

MIN_PASSWORD = 8
MAX_PASSWORD = 256


@dataclass(frozen=True)
class PasswordSet:
    login_id: int
    username: str
    account_id: int


def generated_password() -> str:
    """A password for a login nobody typed one for: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def check_new_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if password.strip() != password or not password.isprintable():
        raise InvalidInput("password: printable characters, no spaces at either end")
    return password


def change_password(uow: UnitOfWork, caller: Caller, current: str, new: str) -> PasswordSet:
    login = uow.session.get(Login, caller.login_id)
    if login is None:
        raise NotFound("login not found")
    if not verify_password(current, login.password_hash):
        raise AccessDenied("the current password is wrong")
    if new == current:
        raise InvalidInput("password: the new password is the current one")
    login.password_hash = hash_password(check_new_password(new))
    uow.commit()
    logger.info("login %s changed its password", login.username)
    return PasswordSet(login.id, login.username, login.account_id)


def set_password(uow: UnitOfWork, caller: Caller, username: str, new: str) -> PasswordSet:
    require_role(caller, "admin", "reseller")
    login = _login(uow, username)
    managed_account(uow.session, caller, login.account_id)  # below the caller, or refused
    login.password_hash = hash_password(check_new_password(new))
    uow.commit()
    logger.info("login %s: password set by %s", login.username, caller.username)
    return PasswordSet(login.id, login.username, login.account_id)


def reset_password(uow: UnitOfWork, username: str, new: str) -> PasswordSet:
    """`siptar admin passwd`: any login's password, from the command line."""
    login = _login(uow, username)
    login.password_hash = hash_password(check_new_password(new))
    uow.commit()
    logger.info("login %s: password set from the command line", login.username)
    return PasswordSet(login.id, login.username, login.account_id)


def add_admin_login(uow: UnitOfWork, username: str, password: str) -> PasswordSet:
    """`siptar admin add`: one more login of the operator (the root account)."""
    name = check_username(username)
    root = uow.session.scalars(select(Account).where(Account.parent_id.is_(None))).first()
    if root is None:
        raise NotFound("no operator yet: run `siptar init` first")
    if (
        uow.session.scalars(
            select(Login.id).where(Login.username_key == fold_username(name))
        ).first()
        is not None
    ):
        raise AlreadyExists(f"username: {name} is taken")
    login = Login(
        account_id=root.id, username=name, password_hash=hash_password(check_new_password(password))
    )
    uow.session.add(login)
    uow.session.flush()
    uow.commit()
    logger.info("admin login %s added", name)
    return PasswordSet(login.id, name, root.id)


def check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise InvalidInput("username: 1 to 80 characters, no spaces")
    return name


def _login(uow: UnitOfWork, username: str) -> Login:
    login = uow.session.scalars(
        select(Login).where(Login.username_key == fold_username(username.strip()))
    ).first()
    if login is None:
        raise NotFound(f"login {username.strip()} not found")
    return login
