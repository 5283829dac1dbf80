"""Who is calling, and what they may see: the access rules of every service.

Spyne-free, so the use cases can take a `Caller` from any edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.schema import Account, Login, fold_username
from rating.errors import AccessDenied, AuthenticationFailed, NotFound
from services.common.passwords import burn_password_check, verify_password

ROLES = ("admin", "reseller", "customer")


@dataclass(frozen=True)
class Caller:
    login_id: int
    username: str
    account_id: int
    role: str
    path: str  # the account's path in the tree, e.g. "/1/4/"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def owns(self, account: Account) -> bool:
        """The account is the caller's own or lies in its subtree."""
        return account.path.startswith(self.path)

    def is_above(self, account: Account) -> bool:
        """The account lies strictly below the caller: the caller manages it."""
        return account.path != self.path and account.path.startswith(self.path)


def authenticate(session: Session, username: str | None, password: str | None) -> Caller:
    """The caller behind a username and password (compared case-insensitively). The
    login throttle (services/common/throttle.py) runs around this."""
    # One message for every failure, so a caller can't probe which usernames exist.
    failure = AuthenticationFailed("wrong username or password")
    if not username or not password:
        raise AuthenticationFailed("the Auth header with username and password is required")
    row = session.execute(
        select(Login, Account)
        .join(Account, Login.account_id == Account.id)
        .where(Login.username_key == fold_username(username))
    ).first()
    if row is None:
        # The same scrypt work as for a known user: timing must not tell them apart.
        burn_password_check(password)
        raise failure
    login, account = row
    if not verify_password(password, login.password_hash):
        raise failure
    if account.status != "active":
        raise AuthenticationFailed(f"the account is {account.status}")
    return Caller(login.id, login.username, account.id, account.role, account.path)


def require_role(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise AccessDenied(f"this operation is for {' or '.join(roles)} logins")


def visible_account(session: Session, caller: Caller, account_id: int | None) -> Account:
    """The account, if the caller may see it (its own or its subtree's). An account
    outside the subtree answers NotFound, exactly like one that does not exist, so ids
    can't be probed."""
    target_id = caller.account_id if account_id is None else account_id
    account = session.get(Account, target_id)
    if account is None or not caller.owns(account):
        raise NotFound(f"account {target_id} not found")
    return account


def managed_account(session: Session, caller: Caller, account_id: int) -> Account:
    """An account strictly below the caller (one it may change, fund, or configure)."""
    account = visible_account(session, caller, account_id)
    if account.id == caller.account_id:
        raise AccessDenied("an account cannot do this to itself; its parent does")
    return account
