"""The SipTar client library: the four services through zeep.

    from client import SiptarClient
    api = SiptarClient("http://127.0.0.1:8080", "admin", "admin")
    api.billing.GetBalance()
    api.billing.QuoteCall(number="34911234567", duration=60)

Each attribute (billing, config, reseller, cdr) calls the operations of one service
with the Auth header added; faults come back as the typed exceptions of client.errors.
Imports nothing from the server side.
"""

from __future__ import annotations

from client.connection import ServiceProxy, SiptarClient
from client.errors import SiptarError

__all__ = ["ServiceProxy", "SiptarClient", "SiptarError"]
