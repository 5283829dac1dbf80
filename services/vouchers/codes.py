"""Voucher codes: how they are made, read and stored.

A code is CODE_DIGITS decimal digits from the `secrets` module (a calling-card IVR can
only take digits), so codes are neither sequential nor guessable from each other. The
database holds HMAC-SHA256(key, code) only: `key` is SIPTAR_VOUCHER_KEY, kept outside
the database, so a leaked table gives neither the codes nor a cheap way to test guesses
offline. With no key set the hash is still keyed (by ""), and 10^18 possible codes keep
an offline search expensive; production sets the key (docs/vouchers.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from rating.errors import InvalidInput

CODE_DIGITS = 18
HINT_DIGITS = 4
_PUNCTUATION = str.maketrans("", "", " -.")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise(code: object) -> str:
    """The digits of a code as a person types it (spaces and dashes allowed)."""
    text = code.translate(_PUNCTUATION) if isinstance(code, str) else ""
    if not (len(text) == CODE_DIGITS and text.isascii() and text.isdigit()):
        raise InvalidInput(f"code: {CODE_DIGITS} digits")
    return text


def code_hash(key: bytes, code: str) -> str:
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def hint(code: str) -> str:
    return code[-HINT_DIGITS:]


def grouped(code: str) -> str:
    """The code as printed on a card: groups of six digits."""
    return "-".join(code[i : i + 6] for i in range(0, len(code), 6))
