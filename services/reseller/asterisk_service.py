"""Reseller Manager: what Asterisk says about the phones of your subtree.

Faults: Client.AuthenticationFailed, Client.NotFound (also outside your subtree),
Client.AsteriskUnavailable, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, ComplexModel, Integer, ServiceBase, Unicode, rpc

from services.common.app import ami_target, request
from services.common.wire import Auth, UtcDateTime
from services.provisioning import asterisk
from services.reseller.models import TNS


class SipContact(ComplexModel):
    __namespace__ = TNS
    aor = Unicode
    uri = Unicode
    user_agent = Unicode
    status = Unicode
    expires_at = UtcDateTime
    via_address = Unicode
    roundtrip_usec = Integer


class SipRegistrations(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    endpoint = Unicode
    provisioned = Boolean
    registered = Boolean
    contacts = SipContact.customize(max_occurs="unbounded")


class AsteriskStatusService(ServiceBase):
    __in_header__ = Auth

    @rpc(Integer, _returns=SipRegistrations)
    def GetSipRegistrations(ctx: Any, account_id: int | None) -> SipRegistrations:
        """Whether the SIP phone of an account of your subtree (your own when empty) is
        registered, as Asterisk reports it now (AMI PJSIPShowEndpoint): its contacts
        (one per AOR: max_contacts is 1), each with its URI, user agent, status and
        expiry. `provisioned` is false when Asterisk does not know the endpoint (no SIP
        name or secret, or the account or one above it is not active)."""
        req = request(ctx)
        r = asterisk.sip_registrations(req.uow, req.caller, ami_target(ctx), account_id)
        contacts = [
            SipContact(
                aor=c.aor,
                uri=c.uri,
                user_agent=c.user_agent,
                status=c.status,
                expires_at=c.expires_at,
                via_address=c.via_address,
                roundtrip_usec=c.roundtrip_usec,
            )
            for c in r.contacts
        ]
        return SipRegistrations(
            account_id=r.account_id,
            endpoint=r.endpoint,
            provisioned=r.provisioned,
            registered=bool(contacts),
            contacts=contacts,
        )
