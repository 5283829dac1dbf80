"""Domain errors with stable codes.

Every error the caller can fix has a `code`; the SOAP edge turns it into the fault
`Client.<code>` (services/common/faults.py is the one translation point). Use cases and
the engine raise these and never build faults themselves. The codes are part of the
public contract: never rename one.
"""

from __future__ import annotations


class BillingError(Exception):
    """Base of every error the caller can fix."""

    code = "BillingError"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidInput(BillingError):
    """The request is malformed or a value is out of range."""

    code = "InvalidInput"


class InvalidRateRow(InvalidInput):
    """A row of a rate deck is wrong; `line` is 1-based and counts the header."""

    code = "InvalidInput"

    def __init__(self, line: int, column: str, problem: str) -> None:
        self.line = line
        self.column = column
        self.problem = problem
        super().__init__(f"line {line}, column {column!r}: {problem}")


class NoRateForDestination(BillingError):
    """No rate of the sheet matches the dialled number at that time."""

    code = "NoRateForDestination"


class InsufficientCredit(BillingError):
    """The account's available credit cannot pay for this."""

    code = "InsufficientCredit"


class NotFound(BillingError):
    """The object does not exist, or is not visible to the caller."""

    code = "NotFound"


class AccessDenied(BillingError):
    """The caller may not do this."""

    code = "AccessDenied"


class AuthenticationFailed(BillingError):
    """Missing or wrong credentials."""

    code = "AuthenticationFailed"


class AlreadyExists(BillingError):
    """An object with the same unique name already exists."""

    code = "AlreadyExists"


class BelowCost(BillingError):
    """A sell price would be below what the reseller itself pays for that prefix."""

    code = "BelowCost"


class TooManyAttempts(BillingError):
    """Too many failed logins for this username or from this address: wait and retry."""

    code = "TooManyAttempts"


class AsteriskUnavailable(BillingError):
    """The Asterisk Manager Interface did not answer, refused the login, or refused
    the action; nothing was changed on the switch. Retry later, or check the AMI
    settings (SIPTAR_AMI_*) and the manager user's permissions."""

    code = "AsteriskUnavailable"


class VoucherUnknown(BillingError):
    """No voucher has this code (a wrong guess: counted by the voucher throttle)."""

    code = "VoucherUnknown"


class VoucherUsed(BillingError):
    """The voucher was redeemed already (each is single use)."""

    code = "VoucherUsed"


class VoucherExpired(BillingError):
    """The voucher's expiry date has passed."""

    code = "VoucherExpired"


class VoucherBlocked(BillingError):
    """The voucher (or its lot) was blocked by whoever issued it."""

    code = "VoucherBlocked"


class VoucherNotValidHere(BillingError):
    """The voucher was issued by another reseller: it refills only that reseller's
    subtree (counted as a wrong guess)."""

    code = "VoucherNotValidHere"


class CallbackRefused(BillingError):
    """RequestCallback: Authorize refused a leg for a reason the caller can act on that has
    no fault of its own (NoRoute, AccountBlocked, ConcurrentCallLimit, ...); the reason
    code leads the message."""

    code = "CallbackRefused"


class NoExchangeRate(BillingError):
    """No exchange rate between the two currencies is in force at that moment
    (rating/fx.py; docs/currencies.md)."""

    code = "NoExchangeRate"


# The registry of codes, documented in docs/faults.md and the services' docstrings.
ERROR_CODES = sorted(
    {
        cls.code
        for cls in (
            InvalidInput,
            NoRateForDestination,
            InsufficientCredit,
            NotFound,
            AccessDenied,
            AuthenticationFailed,
            AlreadyExists,
            BelowCost,
            TooManyAttempts,
            CallbackRefused,
            AsteriskUnavailable,
            VoucherUnknown,
            VoucherUsed,
            VoucherExpired,
            VoucherBlocked,
            VoucherNotValidHere,
            NoExchangeRate,
        )
    }
)
