"""A short-lived, per-process cache of who a username and password are.

Without it every SOAP call loads the login and its account with the ORM and counts the
throttle's failures (two statements and ~2 ms of a ~19 ms call) although the password
check itself is already cached (services/common/passwords.py). A hit needs the same
username and the same password (compared as a keyed digest; the password itself is
never stored) within `TTL` seconds of a full check that passed.

Invalidation: any change of what a `Caller` is made of (a login's password, username or
account; an account's status, role, path or parent) made through this process clears
the whole cache when it is set and again after its commit (a call that read the old row
between the two would otherwise put it back). Bulk UPDATEs and DELETEs of accounts or
logins clear it too. Another process (the other gunicorn workers, `siptar admin
passwd`) is not told: there a change takes effect within `TTL` seconds. That is why
`TTL` is short; money is not at stake in that window, since Authorize re-reads every
account's status under its row lock.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from db.schema import Account, Login, fold_username
from services.common.caller import Caller

TTL = 5.0  # seconds
_MAX_ENTRIES = 10_000
_CHANGED = "siptar_caller_changed"
_WATCHED = (
    Login.password_hash,
    Login.username,
    Login.username_key,
    Login.account_id,
    Account.status,
    Account.role,
    Account.path,
    Account.parent_id,
)


class CallerCache:
    """Entries by (database, folded username): the digest of the password last verified
    for it, the Caller and when the entry expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: dict[tuple[str, str], tuple[bytes, Caller, float]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self.clock = clock

    def _digest(self, password: str) -> bytes:
        return hmac.digest(self._key, password.encode(), "sha256")

    def get(self, scope: str, username: str, password: str) -> Caller | None:
        with self._lock:
            found = self._entries.get((scope, fold_username(username)))
        if found is None:
            return None
        digest, caller, expires = found
        if self.clock() >= expires or not hmac.compare_digest(digest, self._digest(password)):
            return None
        return caller

    def generation(self) -> int:
        """Taken before a full check; `put` drops its result if a change came since."""
        with self._lock:
            return self._generation

    def put(
        self, scope: str, username: str, password: str, caller: Caller, generation: int
    ) -> None:
        entry = (self._digest(password), caller, self.clock() + TTL)
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[(scope, fold_username(username))] = entry

    def forget(self, scope: str, username: str) -> None:
        """A failed login for `username`: its next success goes through the throttle."""
        with self._lock:
            self._entries.pop((scope, fold_username(username)), None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


def scope_of(session: Session) -> str:
    """Which database: one process may serve several (the tests do), where the same
    username is another login."""
    bind = session.get_bind()
    return str(bind.engine.url)


callers = CallerCache()


def _on_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    callers.clear()
    session = Session.object_session(target)
    if session is not None:
        session.info[_CHANGED] = True


def _on_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in (Account, Login):
        callers.clear()
        state.session.info[_CHANGED] = True


def _on_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if any(isinstance(o, (Account, Login)) for o in session.deleted):
        callers.clear()
        session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        callers.clear()


def _install() -> None:
    for attribute in _WATCHED:
        event.listen(attribute, "set", _on_set)
    event.listen(Session, "do_orm_execute", _on_bulk)
    event.listen(Session, "before_flush", _on_flush)
    event.listen(Session, "after_commit", _after_commit)


_install()
