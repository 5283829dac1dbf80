"""Typed exceptions for the server's faults.

The server answers `soap11env:Client.<Code>`; zeep keeps the prefix in `Fault.code`,
so the part after the colon is looked up here.
"""

from __future__ import annotations


class SiptarError(Exception):
    """A fault from the server. `code` is the stable code, e.g. "Client.NotFound"."""

    code = "Server"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ServerError(SiptarError):
    code = "Server"


class ClientError(SiptarError):
    code = "Client"


class InvalidInput(ClientError):
    code = "Client.InvalidInput"


class NoRateForDestination(ClientError):
    code = "Client.NoRateForDestination"


class InsufficientCredit(ClientError):
    code = "Client.InsufficientCredit"


class NotFound(ClientError):
    code = "Client.NotFound"


class AccessDenied(ClientError):
    code = "Client.AccessDenied"


class AuthenticationFailed(ClientError):
    code = "Client.AuthenticationFailed"


class AlreadyExists(ClientError):
    code = "Client.AlreadyExists"


class BelowCost(ClientError):
    code = "Client.BelowCost"


class TooManyAttempts(ClientError):
    code = "Client.TooManyAttempts"


class SchemaValidationError(ClientError):
    code = "Client.SchemaValidationError"


class XMLSyntaxError(ClientError):
    code = "Client.XMLSyntaxError"


class AsteriskUnavailable(ClientError):
    code = "Client.AsteriskUnavailable"


class VoucherUnknown(ClientError):
    code = "Client.VoucherUnknown"


class VoucherUsed(ClientError):
    code = "Client.VoucherUsed"


class VoucherExpired(ClientError):
    code = "Client.VoucherExpired"


class VoucherBlocked(ClientError):
    code = "Client.VoucherBlocked"


class VoucherNotValidHere(ClientError):
    code = "Client.VoucherNotValidHere"


class CallbackRefused(ClientError):
    code = "Client.CallbackRefused"


class NoExchangeRate(ClientError):
    code = "Client.NoExchangeRate"


_BY_CODE: dict[str, type[SiptarError]] = {
    cls.code: cls
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
        AsteriskUnavailable,
        VoucherUnknown,
        VoucherUsed,
        VoucherExpired,
        VoucherBlocked,
        VoucherNotValidHere,
        CallbackRefused,
        NoExchangeRate,
        SchemaValidationError,
        XMLSyntaxError,
        ServerError,
    )
}


def error_for(code: str | None, message: str) -> SiptarError:
    """The exception for a fault code as zeep reports it (`soap11env:Client.X`)."""
    bare = (code or "Server").rpartition(":")[2]
    cls = _BY_CODE.get(bare)
    if cls is None:
        cls = ClientError if bare.startswith("Client") else ServerError
    return cls(message, bare)
