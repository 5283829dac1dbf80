"""The operator's runtime settings: what the admin may change without a restart
(`GetSettings`/`SetSetting`, config), kept in the `settings` table and read by every
worker through a per-process cache checked against the `settings` version stamp
(db/config_versions.py): one small SELECT per request, a reload only after a change.

A setting without a row falls back to its environment variable (the CLI flag, then
SIPTAR_<NAME>, as before this table existed), then to its default: the environment
stays the bootstrap. What must be known before the database (its URL, the bind
address, secrets) is never here. See docs/settings.md. Spyne-free.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import config_versions
from db.config_schema import Setting
from rating.errors import InvalidInput, NotFound
from services.common import text_settings
from services.credit.policy import DEFAULT_POLICY, CreditPolicy


@dataclass(frozen=True)
class Spec:
    name: str
    # "integer" (low..high), "text" (checked by `check`) or "boolean" (text: true or
    # false); the wire carries text
    kind: str
    low: int
    high: int
    # The value when neither a row nor the environment says: from the env-built base.
    fallback: Callable[[CreditPolicy], int | str]
    description: str
    check: Callable[[str], str] | None = None  # a text setting's check and normal form

    def parse(self, text: str) -> int | str:
        if self.check is not None:
            return self.check(text)
        raw = text.strip()
        if not raw.isdigit() or not self.low <= int(raw) <= self.high:
            raise InvalidInput(f"{self.name}: a whole number from {self.low} to {self.high}")
        return int(raw)


def _text(name: str, default: str, check: Callable[[str], str], description: str) -> Spec:
    return Spec(name, "text", 0, 0, lambda _base: default, description, check)


def _boolean(name: str, fallback: Callable[[CreditPolicy], bool], description: str) -> Spec:
    """A setting that is true or false, kept and shown as the text `true` or `false`."""

    def check(text: str) -> str:
        value = text.strip().lower()
        if value not in ("true", "false"):
            raise InvalidInput(f"{name}: true or false")
        return value

    return Spec(name, "boolean", 0, 0, lambda base: str(fallback(base)).lower(), description, check)


SPECS = {
    s.name: s
    for s in (
        Spec(
            "credit.slice_seconds",
            "integer",
            0,
            86400,
            lambda base: base.slice_seconds,
            "seconds of a call's money Authorize reserves and the listener extends "
            "(0: the whole call); env SIPTAR_CREDIT_SLICE_SECONDS",
        ),
        Spec(
            "credit.min_call_seconds",
            "integer",
            0,
            86400,
            lambda base: base.min_call_seconds,
            "the shortest call the credit must pay for (0: the rate's first block, at "
            "least 30 s); env SIPTAR_MIN_CALL_SECONDS",
        ),
        Spec(
            "credit.max_call_seconds",
            "integer",
            1,
            86400,
            lambda base: base.max_call_seconds,
            "the longest call Authorize allows an account without its own "
            "max_call_seconds; default 10800 (3 h)",
        ),
        Spec(
            "credit.expiry_margin_seconds",
            "integer",
            60,
            3600,
            lambda base: base.expiry_margin_seconds,
            "how long after its reserved seconds run out a reservation no CDR settled "
            "expires (ring time plus the CDR's delay); default 600",
        ),
        _boolean(
            "credit.durable_holds",
            lambda base: base.durable_holds,
            "whether Authorize's commit waits for the disk (PostgreSQL); false: a crash "
            "of the database server may lose the holds of the last moment, never money; "
            "default false",
        ),
        _text(
            "invoice.number_format",
            text_settings.DEFAULT_NUMBER_FORMAT,
            text_settings.number_format,
            "the number of an invoice or credit note from then on: a format with "
            "{year} and {number} (the issuer's gapless counter of the year)",
        ),
        _text(
            "alerts.default_thresholds",
            "",
            text_settings.thresholds,
            "the low-balance thresholds every account created from then on starts "
            "with, comma-separated (e.g. 10,5; empty: none); SetBalanceAlerts changes them",
        ),
        _text(
            "company.name",
            "",
            text_settings.bounded_text("company.name", 128),
            "the operator's company name on its invoices when its account has none",
        ),
        _text(
            "company.address",
            "",
            text_settings.bounded_text("company.address", 255),
            "the operator's address on its invoices when its billing profile has none",
        ),
    )
}


@dataclass(frozen=True)
class SettingValue:
    name: str
    kind: str
    value: int | str
    source: str  # "database" or "environment" (which includes the built-in default)
    description: str


class SettingsCache:
    """The stored settings of each database, valid while its stamp is unchanged."""

    def __init__(self) -> None:
        self._stored: dict[str, tuple[int, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def stored(self, session: Session, version: int | None = None) -> dict[str, str]:
        """`version`: the stamp if the caller read it already (Authorize's lock)."""
        if version is None:
            version = config_versions.current(session, config_versions.SETTINGS)
        key = database_key(session)
        with self._lock:
            cached = self._stored.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = {str(n): str(v) for n, v in session.execute(select(Setting.name, Setting.value))}
        with self._lock:
            self._stored[key] = (version, rows)
        return rows


CACHE = SettingsCache()


def database_key(session: Session) -> str:
    """Which database a session's is: one process may serve several (the tests do)."""
    engine = session.get_bind().engine
    key = _KEYS.get(engine)
    if key is None:
        key = _KEYS.setdefault(engine, engine.url.render_as_string(hide_password=True))
    return key


# Rendering an engine's URL costs more than the rest of a cached look-up.
_KEYS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def current(session: Session, base: CreditPolicy) -> list[SettingValue]:
    """Every setting with the value in force and where it comes from."""
    return _values(CACHE.stored(session), base)


def _values(stored: dict[str, str], base: CreditPolicy) -> list[SettingValue]:
    found = []
    for spec in SPECS.values():
        if spec.name in stored:
            value, source = spec.parse(stored[spec.name]), "database"
        else:
            value, source = spec.fallback(base), "environment"
        found.append(SettingValue(spec.name, spec.kind, value, source, spec.description))
    return found


def credit_policy(session: Session, base: CreditPolicy) -> CreditPolicy:
    """The credit policy in force: the stored settings over `base` (the environment's)."""
    return RuntimePolicy(base).at(session, None)


@dataclass(frozen=True)
class RuntimePolicy:
    """The credit policy in force as Authorize asks for it (services/credit/policy.py
    `PolicySource`): once its chain is locked, with the settings' stamp that its lock
    statement read, so that a SOAP or FastAGI Authorize sends no statement for it. Built
    once per stamp of each database and `base`."""

    base: CreditPolicy

    def at(self, session: Session, stamp: int | None) -> CreditPolicy:
        if stamp is None:
            stamp = config_versions.current(session, config_versions.SETTINGS)
        key = (database_key(session), self.base)
        built = _POLICIES.get(key)
        if built is not None and built[0] == stamp:
            return built[1]
        values = {s.name: s.value for s in _values(CACHE.stored(session, stamp), self.base)}
        policy = CreditPolicy(
            slice_seconds=int(values["credit.slice_seconds"]),
            min_call_seconds=int(values["credit.min_call_seconds"]),
            max_call_seconds=int(values["credit.max_call_seconds"]),
            expiry_margin_seconds=int(values["credit.expiry_margin_seconds"]),
            durable_holds=values["credit.durable_holds"] == "true",
        )
        _POLICIES[key] = (stamp, policy)  # a dict's item assignment: atomic under the GIL
        return policy


_POLICIES: dict[tuple[str, CreditPolicy], tuple[int, CreditPolicy]] = {}


def text(session: Session, name: str) -> str:
    """A text setting in force (the stored one, else its default): cached like the rest."""
    spec = SPECS[name]
    stored = CACHE.stored(session)
    if name in stored:
        return str(spec.parse(stored[name]))
    return str(spec.fallback(DEFAULT_POLICY))


def store(session: Session, name: str, text: str) -> Any:
    """Validate and store one setting (the caller commits); bumps the stamp."""
    spec = SPECS.get(name)
    if spec is None:
        raise NotFound(f"setting {name!r} not found; the settings are {', '.join(SPECS)}")
    value = str(spec.parse(text))
    row = session.get(Setting, name, with_for_update=True)
    if row is None:
        session.add(Setting(name=name, value=value))
    else:
        row.value = value
    session.flush()
    config_versions.bump(session, config_versions.SETTINGS)
    return value
