"""ReloadAsterisk and GetSipRegistrations: what the SOAP services ask Asterisk over AMI.
No spyne here.

Each opens its own short AMI connection (ami_listener/actions.py) and closes it: a
gunicorn worker holds no AMI connection between requests. The database transaction is
ended before Asterisk is asked, so a slow Asterisk never holds a lock (SQLite takes the
write lock at BEGIN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ami_listener.actions import AmiTarget, AmiUnavailable, send_actions
from db.session import UnitOfWork
from rating.errors import AsteriskUnavailable
from services.common.caller import Caller, require_role, visible_account

# What makes Asterisk see a provisioning change: new realtime rows are read at once, but
# pjsip.conf includes (export-pjsip) and any sorcery cache need the module reloaded.
RELOAD = {"Action": "Reload", "Module": "res_pjsip.so"}


def reload_asterisk(uow: UnitOfWork, caller: Caller, target: AmiTarget | None) -> str:
    """Reload res_pjsip (admin); Asterisk's answer text."""
    require_role(caller, "admin")
    uow.rollback()
    (reply,) = _ask(target, [RELOAD])
    first = _first(reply)
    if str(first.get("Response", "")).lower() != "success":
        raise AsteriskUnavailable(f"Asterisk refused the reload: {first.get('Message', '')}")
    return str(first.get("Message", "") or "reloaded")


@dataclass(frozen=True)
class Registration:
    """One contact of the account's endpoint (AMI ContactStatusDetail)."""

    aor: str
    uri: str
    user_agent: str
    status: str  # Reachable, Unreachable, NonQualified, Unknown, ...
    expires_at: datetime | None  # when the registration runs out
    via_address: str
    roundtrip_usec: int | None


@dataclass(frozen=True)
class Registrations:
    account_id: int
    endpoint: str | None  # the account's sip_username; None: it has none
    provisioned: bool  # Asterisk knows the endpoint
    contacts: list[Registration]


def sip_registrations(
    uow: UnitOfWork, caller: Caller, target: AmiTarget | None, account_id: int | None
) -> Registrations:
    """Whether the phone of an account of the caller's subtree (or its own) is
    registered, as Asterisk reports it now (PJSIPShowEndpoint)."""
    account = visible_account(uow.session, caller, account_id)
    found, endpoint = account.id, account.sip_username
    uow.rollback()
    if endpoint is None:
        return Registrations(found, None, False, [])
    (reply,) = _ask(target, [{"Action": "PJSIPShowEndpoint", "Endpoint": endpoint}])
    messages = reply if isinstance(reply, list) else [reply]
    first = _first(messages)
    if str(first.get("Response", "")).lower() != "success":
        # "Unable to retrieve endpoint ...": not provisioned (blocked, no secret, ...).
        if "unable to retrieve endpoint" in str(first.get("Message", "")).lower():
            return Registrations(found, endpoint, False, [])
        raise AsteriskUnavailable(f"Asterisk answered: {first.get('Message', '')}")
    contacts = [
        _contact(m) for m in messages if str(m.get("Event", "")).lower() == "contactstatusdetail"
    ]
    return Registrations(found, endpoint, True, contacts)


def _contact(m: Mapping[str, Any]) -> Registration:
    return Registration(
        aor=str(m.get("AOR", "")),
        uri=str(m.get("URI", "")),
        user_agent=str(m.get("UserAgent", "")),
        status=str(m.get("Status", "")),
        expires_at=_epoch(m.get("RegExpire")),
        via_address=str(m.get("ViaAddress", "")),
        roundtrip_usec=_int(m.get("RoundtripUsec")),
    )


def _epoch(value: object) -> datetime | None:
    seconds = _int(value)  # AMI: absolute, in seconds since 1970
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _ask(target: AmiTarget | None, actions: list[dict[str, str]]) -> list[Any]:
    if target is None:
        raise AsteriskUnavailable("no Asterisk Manager Interface is configured")
    try:
        return send_actions(target, actions)
    except AmiUnavailable as e:
        raise AsteriskUnavailable(str(e)) from None


def _first(reply: Any) -> Mapping[str, Any]:
    if isinstance(reply, list):
        reply = reply[0] if reply else {}
    return reply if hasattr(reply, "get") else {}
