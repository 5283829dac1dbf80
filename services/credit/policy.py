"""How much credit control holds and how short a call may be: the one place that reads
the global settings (SIPTAR_CREDIT_SLICE_SECONDS, SIPTAR_MIN_CALL_SECONDS) and each
account's overrides (`accounts.credit_slice_seconds`, `accounts.min_call_seconds`).

A later issue moves the global settings into a database table: only `from_settings`
and the callers that build a policy change then. Spyne-free, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from rating.model import Rate

# A call shorter than this is refused when the rate bills per second (or in blocks
# shorter than this): a call the credit can keep up for a second or two costs the
# operator the carrier's connect and the customer a call cut at once.
DEFAULT_MIN_CALL_SECONDS = 30
DEFAULT_SLICE_SECONDS = 300
# The longest call of an account without its own max_call_seconds.
DEFAULT_MAX_CALL_SECONDS = 3 * 3600
DEFAULT_EXPIRY_MARGIN_SECONDS = 600
# The longest margin the setting allows: the listener's queries of reservations that may
# be due look this far ahead, since each reservation keeps the margin it was made with.
MAX_EXPIRY_MARGIN_SECONDS = 3600


class HasOverrides(Protocol):
    @property
    def credit_slice_seconds(self) -> int | None: ...
    @property
    def min_call_seconds(self) -> int | None: ...


@dataclass(frozen=True)
class CreditPolicy:
    # The first slice Authorize reserves and each extension adds; 0 = the whole call
    # (no extension: for a switch without an AMI listener).
    slice_seconds: int = DEFAULT_SLICE_SECONDS
    # The shortest call the credit must pay for; 0 = automatic (the rate's first block,
    # and at least DEFAULT_MIN_CALL_SECONDS).
    min_call_seconds: int = 0
    # The longest call Authorize allows an account without its own max_call_seconds
    # (a runtime setting, credit.max_call_seconds; no environment variable).
    max_call_seconds: int = DEFAULT_MAX_CALL_SECONDS
    # How long after its reserved seconds run out a reservation no CDR settled expires
    # (ring time plus the CDR's delay); a runtime setting, credit.expiry_margin_seconds.
    expiry_margin_seconds: int = DEFAULT_EXPIRY_MARGIN_SECONDS
    # Whether Authorize's COMMIT waits for the disk (PostgreSQL); False: a crash of the
    # database server may lose the last holds, never money (docs/credit_control.md,
    # "Holds that need not wait for the disk"); a runtime setting, credit.durable_holds.
    durable_holds: bool = False

    @property
    def expiry_margin(self) -> timedelta:
        return timedelta(seconds=self.expiry_margin_seconds)

    @classmethod
    def from_settings(cls, settings: object) -> CreditPolicy:
        return cls(
            slice_seconds=int(getattr(settings, "credit_slice_seconds", DEFAULT_SLICE_SECONDS)),
            min_call_seconds=int(getattr(settings, "min_call_seconds", 0)),
        )

    def at(self, _session: object, _stamp: int | None) -> CreditPolicy:
        """A fixed policy is its own source (`PolicySource`)."""
        return self

    def slice_for(self, account: HasOverrides) -> int:
        """The slice of this account's calls (0: the whole call)."""
        own = account.credit_slice_seconds
        return own if own is not None else self.slice_seconds

    def min_call_for(self, account: HasOverrides, rate: Rate) -> int:
        """The shortest call `account` must be able to pay for at `rate`."""
        own = account.min_call_seconds
        if own is not None:
            return own
        if self.min_call_seconds:
            return self.min_call_seconds
        return max(first_block(rate), DEFAULT_MIN_CALL_SECONDS)


DEFAULT_POLICY = CreditPolicy()


class PolicySource(Protocol):
    """Where Authorize gets its policy once the chain is locked: a `CreditPolicy` as it
    is, or the runtime settings over one (services/common/runtime_settings.py
    `RuntimePolicy`). `stamp` is the settings' version read with the chain's lock (None:
    not read), so that a policy cached at that version costs no statement."""

    def at(self, session: Any, stamp: int | None) -> CreditPolicy: ...


def first_block(rate: Rate) -> int:
    """The seconds a rate bills as its first block (its first tier's increment)."""
    if rate.tiers:
        return rate.tiers[0].increment
    return rate.initial_increment


def first_slice(max_seconds: int, slice_seconds: int) -> int:
    """What Authorize reserves of a call allowed `max_seconds`."""
    if slice_seconds <= 0:
        return max_seconds
    return min(max_seconds, slice_seconds)


def extend_ahead(slice_seconds: int) -> int:
    """How long before its reserved seconds run out a live call's slice is extended:
    half a slice, between 5 s and a minute (the listener checks twice a second, and
    the database may be slow for a moment)."""
    return min(60, max(5, slice_seconds // 2))


def extension_target(reserved: int, elapsed: int, max_seconds: int, slice_seconds: int) -> int:
    """The reserved seconds a live call's reservation is extended to: one more slice
    past what is reserved (or elapsed, if the call ran past it), never past max_seconds."""
    return min(max_seconds, max(reserved, elapsed) + slice_seconds)
