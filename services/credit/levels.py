"""One level of a locked chain as Authorize reads it: the account row's fields that
Authorize and its helpers decide from, read as plain columns by the chain's lock
statement (services/credit/chain_lock.py), no ORM entity built.

Building `Account` entities (identity map, instance state, every column of the row)
cost about a tenth of a millisecond of Python per level, for rows that Authorize only
reads: its writes are statements (services/credit/holds.py), never changes to loaded
objects. `ChainAccount` is what the helpers shared with other writers (bundles,
currencies, on-net plans, the credit policy) ask of an account: `Level` and the ORM
`Account` both have it, so those helpers serve the listener's ORM accounts too.

An ORM `Account` loaded earlier in the same session is not refreshed by the lock (it
was, with populate_existing): the counters a statement changes are expired on such
objects by holds.refresh_loaded, and nothing of Authorize writes the other columns.
Spyne-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Protocol

from db.schema import Account
from services.credit.policy import HasOverrides


class ChainAccount(HasOverrides, Protocol):
    """What credit control reads of an account of the chain (with the credit policy's
    per-account overrides, `HasOverrides`)."""

    @property
    def id(self) -> int: ...
    @property
    def balance(self) -> Decimal: ...
    @property
    def credit_limit(self) -> Decimal: ...
    @property
    def billing_type(self) -> str: ...
    @property
    def reserved(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def rate_sheet_id(self) -> int | None: ...
    @property
    def max_call_seconds(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Level:
    """An account of the locked chain, as its lock statement read it."""

    id: int
    path: str
    status: str
    balance: Decimal
    credit_limit: Decimal
    billing_type: str
    reserved: Decimal
    currency: str
    rate_sheet_id: int | None
    max_call_seconds: int | None
    max_concurrent_calls: int | None
    credit_slice_seconds: int | None
    min_call_seconds: int | None
    restrict_ani: bool
    allowed_dnis: str


# The lock statement's columns, in `Level`'s order: derived from its fields, so the two
# cannot drift apart.
COLUMNS = tuple(getattr(Account, f.name) for f in fields(Level))
WIDTH = len(COLUMNS)


def level(row: Sequence[Any]) -> Level:
    """`Level` from the first WIDTH values of a lock statement's row."""
    return Level(*row[:WIDTH])
