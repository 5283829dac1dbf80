"""Password hashing with scrypt from the standard library.

A hash costs ~50 ms on purpose, too slow to check on every SOAP call (a desktop
tool calls several times a second), so a verified password is remembered per process
as a keyed digest, bound to the stored hash: changing the password drops the entry.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading

_N, _R, _P = 2**14, 8, 1
_PROCESS_KEY = secrets.token_bytes(32)
# stored hash -> keyed digest of the password last verified against it
_verified: dict[str, bytes] = {}
_lock = threading.Lock()
_MAX_CACHED = 10_000


def hash_password(password: str, *, n: int = _N) -> str:
    """A salted scrypt hash; the cost `n` is stored in it. Only bulk imports pass a
    lower `n` (docs/accounts.md)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    key = hmac.digest(_PROCESS_KEY, password.encode(), "sha256")
    with _lock:
        remembered = _verified.get(stored)
    if remembered is not None and hmac.compare_digest(remembered, key):
        return True
    if not _check(password, stored):
        return False
    with _lock:
        if len(_verified) >= _MAX_CACHED:
            _verified.clear()
        _verified[stored] = key
    return True


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Do the work of checking `password` against a hash of the default cost, for a
    username that does not exist (so that it answers as slowly as a wrong password)."""
    _check(password, _dummy_hash())


def _check(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))
