"""The login throttle: failed logins are counted per username and per client address,
and past a limit the login answers `Client.TooManyAttempts` before any password is
checked, so guessing stops paying.

Every service call authenticates through `guarded_authenticate` (services/common/app.py),
so every operation, today's and the ones added later, is covered without code of its
own. Unknown usernames are counted like known ones (the throttle must not tell them
apart either).

Why nobody is locked out for ever: the counts are over a sliding window (`WINDOW`),
so a lock lifts by itself once the failures age out; and the per-username limit does
not apply from an address where that username logged in successfully in the last
`KNOWN_ADDRESS_DAYS` days, so an attacker elsewhere cannot lock the real user out of
its usual place. The per-address limit still stops one address guessing many names.

Recorded (table login_attempts): every failure, and a success the first time a login
is seen from an address in `SUCCESS_EVERY` (per process), not on every call: a desktop
tool authenticates several times a second. Both are written by `record` in a transaction
of their own after the call's, so a failed call's rollback never loses them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.orm import Session

from db.schema import LoginAttempt, fold_username, utcnow
from rating.errors import AuthenticationFailed, TooManyAttempts
from services.common.caller import Caller, authenticate
from services.common.caller_cache import callers, scope_of

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 10
MAX_FAILURES_PER_ADDRESS = 50
KNOWN_ADDRESS_DAYS = 30
SUCCESS_EVERY = 600.0  # seconds

_seen: dict[tuple[int, str], float] = {}
_seen_lock = threading.Lock()


def guarded_authenticate(
    session: Session,
    username: str | None,
    password: str | None,
    address: str,
    pending: list[LoginAttempt],
    now: datetime | None = None,
) -> Caller:
    """The caller, or AuthenticationFailed / TooManyAttempts. What should be recorded is
    appended to `pending`, for `record` once the call's own transaction is over (on
    SQLite that transaction holds the write lock)."""
    moment = now or utcnow()
    if not username or not password:
        return authenticate(session, username, password)  # raises: nothing to guess
    # A hit is this process's own full check, passed within the cache's TTL with this
    # very password: nothing to throttle, nothing new to record.
    scope = scope_of(session)
    cached = callers.get(scope, username, password)
    if cached is not None:
        return cached
    generation = callers.generation()
    key = fold_username(username)[:80]
    address = address[:64]
    check(session, key, address, moment)
    try:
        caller = authenticate(session, username, password)
    except AuthenticationFailed:
        callers.forget(scope, username)
        pending.append(LoginAttempt(username_key=key, address=address, success=False, at=moment))
        logger.info("failed login for %r from %s", username[:80], address)
        raise
    if _first_in_a_while(caller.login_id, address):
        pending.append(LoginAttempt(username_key=key, address=address, success=True, at=moment))
    callers.put(scope, username, password, caller, generation)
    return caller


def check(session: Session, key: str, address: str, now: datetime) -> None:
    """TooManyAttempts if the window holds too many failures for `key` or `address`."""
    for_name, for_address = failures(session, key, address, now)
    if for_address >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts("too many failed logins from this address; retry in 15 minutes")
    if for_name >= MAX_FAILURES_PER_USERNAME and not _known_address(session, key, address, now):
        raise TooManyAttempts("too many failed logins for this username; retry in 15 minutes")


def failures(session: Session, key: str, address: str, now: datetime) -> tuple[int, int]:
    """The failures in the window for `key` and for `address` (one query). The voucher
    throttle (services/vouchers/throttle.py) counts its own keys with it."""
    failed = and_(LoginAttempt.success.is_(False), LoginAttempt.at >= now - WINDOW)
    by_name = LoginAttempt.username_key == key
    by_address = LoginAttempt.address == address
    counts = session.execute(
        select(
            func.coalesce(func.sum(case((by_name, 1), else_=0)), 0).cast(Integer),
            func.coalesce(func.sum(case((by_address, 1), else_=0)), 0).cast(Integer),
        ).where(failed, or_(by_name, by_address))
    ).one()
    return int(counts[0]), int(counts[1])


def _known_address(session: Session, key: str, address: str, now: datetime) -> bool:
    since = now - timedelta(days=KNOWN_ADDRESS_DAYS)
    return (
        session.scalar(
            select(LoginAttempt.id)
            .where(
                LoginAttempt.username_key == key,
                LoginAttempt.address == address,
                LoginAttempt.success.is_(True),
                LoginAttempt.at >= since,
            )
            .limit(1)
        )
        is not None
    )


def _first_in_a_while(login_id: int, address: str) -> bool:
    now = time.monotonic()
    with _seen_lock:
        last = _seen.get((login_id, address))
        if last is not None and now - last < SUCCESS_EVERY:
            return False
        if len(_seen) > 100_000:
            _seen.clear()
        _seen[(login_id, address)] = now
    return True


def record(session_factory: Callable[[], Session], pending: list[LoginAttempt]) -> None:
    """Write the attempts `guarded_authenticate` collected, in a transaction of their own."""
    if not pending:
        return
    try:
        with session_factory() as s:
            s.add_all(pending)
            s.commit()
    except Exception:  # the answer to the caller stands; the record is best effort
        logger.exception("could not record %d login attempt(s)", len(pending))


def forget_successes() -> None:
    """Tests: start from an empty per-process memo of recorded successes (and no cached
    caller)."""
    with _seen_lock:
        _seen.clear()
    callers.clear()
