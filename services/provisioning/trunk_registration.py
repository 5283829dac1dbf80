"""Outbound registration of a trunk to a provider that needs one (Asterisk's
`registration`, ps_registrations; the trunk's outbound auth in ps_auths). No spyne here;
the SOAP edge is services/config/asterisk_service.py.

The secret is write-only, like a phone's: only md5(username:realm:secret) is kept, the
`md5_cred` Asterisk answers the provider's digest challenge with (its outbound
authenticator hands it to PJSIP as a hashed credential). That digest is only right for
the realm the provider's challenge names, so the realm is part of the registration
(the provider's documentation or its 401 says it); a wrong realm shows as a rejected
registration in Asterisk (`pjsip show registrations`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from db.provisioning_schema import TrunkRegistration
from db.schema import Trunk
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from services.common.caller import Caller, require_role

_SERVER_URI = re.compile(r"^sips?:[A-Za-z0-9.\-]+(:[0-9]{1,5})?(;[A-Za-z0-9=\-_.]+)*$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.+\-]{1,40}$")
_REALM = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")
MIN_SECRET, MAX_SECRET = 1, 80  # the provider chose it, not us
EXPIRATION = (60, 86400)


@dataclass(frozen=True)
class RegistrationInput:
    server_uri: str  # "" removes the registration
    username: str = ""
    secret: str | None = None  # None: keep the stored digest
    realm: str = ""
    contact_user: str = ""
    expiration: int | None = None


def registration(uow: UnitOfWork, caller: Caller, trunk_id: int) -> TrunkRegistration | None:
    require_role(caller, "admin")
    _trunk(uow.session, trunk_id)
    return uow.session.get(TrunkRegistration, trunk_id)


def set_registration(
    uow: UnitOfWork, caller: Caller, trunk_id: int, reg: RegistrationInput, now: datetime
) -> TrunkRegistration | None:
    """Create, change or (server_uri "") remove the trunk's registration. A new
    username or realm needs the secret again: the digest is made of all three."""
    require_role(caller, "admin")
    session = uow.session
    _trunk(session, trunk_id)
    row = session.get(TrunkRegistration, trunk_id)
    if not reg.server_uri.strip():
        if row is not None:
            session.delete(row)
        uow.commit()
        return None
    server_uri, username, realm = _checked(reg)
    rehash = row is None or (username, realm) != (row.username, row.realm)
    if rehash and reg.secret is None:
        raise InvalidInput("secret: a new registration, username or realm needs the secret")
    if row is None:
        row = TrunkRegistration(trunk_id=trunk_id)
        session.add(row)
    row.server_uri, row.username, row.realm = server_uri, username, realm
    row.contact_user = _contact_user(reg.contact_user)
    row.expiration = _expiration(reg.expiration, row.expiration)
    if reg.secret is not None:
        row.md5_cred = _digest(username, realm, reg.secret)
    row.updated_at = now.astimezone(UTC)
    session.flush()
    uow.commit()
    return row


def _trunk(session: Session, trunk_id: int) -> Trunk:
    trunk = session.get(Trunk, trunk_id)
    if trunk is None:
        raise NotFound(f"trunk {trunk_id} not found")
    return trunk


def _checked(reg: RegistrationInput) -> tuple[str, str, str]:
    server_uri, username, realm = reg.server_uri.strip(), reg.username.strip(), reg.realm.strip()
    if len(server_uri) > 255 or not _SERVER_URI.match(server_uri):
        raise InvalidInput("server_uri: a SIP URI of the provider, e.g. sip:sip.example.net")
    if not _TOKEN.match(username):
        raise InvalidInput("username: 1 to 40 letters, digits or _ . + -")
    if not _REALM.match(realm):
        raise InvalidInput("realm: the realm of the provider's challenge (no spaces)")
    return server_uri, username, realm


def _contact_user(value: str) -> str:
    value = value.strip()
    if value and not _TOKEN.match(value):
        raise InvalidInput("contact_user: 1 to 40 letters, digits or _ . + -")
    return value


def _expiration(value: int | None, current: int | None) -> int:
    if value is None:
        return current or 3600
    low, high = EXPIRATION
    if not low <= value <= high:
        raise InvalidInput(f"expiration: {low} to {high} seconds")
    return value


def _digest(username: str, realm: str, secret: str) -> str:
    secret = secret.strip()
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or any(c.isspace() for c in secret):
        raise InvalidInput(f"secret: {MIN_SECRET} to {MAX_SECRET} characters, no spaces")
    text = f"{username}:{realm}:{secret}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
