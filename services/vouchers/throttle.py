"""Wrong voucher guesses, counted per account and per caller (the client address on
SOAP, the caller ID on FastAGI), as the login throttle counts failed logins
(services/common/throttle.py): rows of `login_attempts` under keys of their own, over the
same sliding window, so the lock lifts by itself.

A guess is recorded in the redeeming transaction, which then commits the record alone
(nothing else has changed when a code is wrong) before the fault is raised.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.schema import LoginAttempt
from rating.errors import TooManyAttempts
from services.common.throttle import failures

MAX_WRONG_PER_ACCOUNT = 5
MAX_WRONG_PER_CALLER = 20


def keys(account_id: int, caller: str) -> tuple[str, str]:
    return f"voucher:{account_id}", f"voucher:{caller}"[:64]


def check(session: Session, account_id: int, caller: str, now: datetime) -> None:
    """TooManyAttempts when the window holds too many wrong codes for either key."""
    for_account, for_caller = failures(session, *keys(account_id, caller), now)
    if for_account >= MAX_WRONG_PER_ACCOUNT or for_caller >= MAX_WRONG_PER_CALLER:
        raise TooManyAttempts("too many wrong voucher codes; retry in 15 minutes")


def record_wrong(session: Session, account_id: int, caller: str, now: datetime) -> None:
    account_key, caller_key = keys(account_id, caller)
    session.add(LoginAttempt(username_key=account_key, address=caller_key, success=False, at=now))
