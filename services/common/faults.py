"""The one translation point from domain errors to SOAP faults.

`Client.<Code>`: the caller can fix it (codes from rating/errors.py, plus spyne's own
`Client.SchemaValidationError` for a body that breaks the WSDL's schema and
`Client.XMLSyntaxError` for malformed XML). `Server`: ours to fix; the text never
carries internals.
"""

from __future__ import annotations

from spyne.model.fault import Fault

from rating.errors import BillingError

SERVER_FAULT_TEXT = "Internal Error"


def client_fault(code: str, message: str) -> Fault:
    return Fault(faultcode=f"Client.{code}", faultstring=message)


def server_fault() -> Fault:
    return Fault(faultcode="Server", faultstring=SERVER_FAULT_TEXT)


def to_fault(error: BillingError) -> Fault:
    return client_fault(error.code, error.message)
