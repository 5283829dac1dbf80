"""Reseller Manager: what Asterisk says about the phones of your subtree.

Faults: Client.AuthenticationFailed, Client.NotFound (also outside your subtree),
Client.AccessDenied, Client.AsteriskUnavailable, Client.InvalidInput,
Client.AlreadyExists, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Array, Boolean, ComplexModel, Integer, ServiceBase, Unicode, rpc

from services.common.app import ami_target, request
from services.common.wire import Auth, UtcDateTime
from services.provisioning import asterisk, source_ips
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

    @rpc(Integer, _returns=Array(Unicode))
    def GetSourceIps(ctx: Any, account_id: int | None) -> list[str]:
        """The networks that identify an account of your subtree (your own when empty)
        without a SIP digest, in CIDR form."""
        req = request(ctx)
        return source_ips.source_ips(req.uow, req.caller, account_id)

    @rpc(
        Integer(min_occurs=1, nillable=False),
        Unicode(max_len=64).customize(max_occurs=100),
        _returns=Array(Unicode),
    )
    def SetSourceIps(ctx: Any, account_id: int, ips: list[str] | None) -> list[str]:
        """Replace the networks whose calls are this account's without a digest
        (IP-authenticated customers: a PBX or a gateway on a fixed address). Each is an
        address or a CIDR network with its host bits clear, /16 or narrower for IPv4,
        /32 or narrower for IPv6, at most 20; none may overlap another account's
        (Client.AlreadyExists). The account needs a sip_username (its endpoint's
        name). Asterisk matches them at once (ps_endpoint_id_ips); blocking or closing
        the account takes them out at once. An empty list clears them. Answers the
        networks as stored."""
        req = request(ctx)
        return source_ips.set_source_ips(req.uow, req.caller, account_id, ips or [])
