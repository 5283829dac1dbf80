"""Configuration Manager: the Asterisk switch (admin logins).

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.AsteriskUnavailable,
Client.NotFound, Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spyne import Boolean, ComplexModel, Integer, ServiceBase, Unicode, rpc

from db.provisioning_schema import TrunkRegistration
from services.common.app import ami_target, request
from services.common.wire import Auth
from services.config.models import TNS
from services.provisioning import asterisk
from services.provisioning import trunk_registration as registrations


class TrunkRegistrationIn(ComplexModel):
    __namespace__ = TNS
    server_uri = Unicode(max_len=255)  # "" removes the registration
    username = Unicode(max_len=40)
    secret = Unicode(max_len=80)  # write-only; left out: keep the stored digest
    realm = Unicode(max_len=255)
    contact_user = Unicode(max_len=40)
    expiration = Integer


class TrunkRegistrationOut(ComplexModel):
    __namespace__ = TNS
    trunk_id = Integer
    registered = Boolean  # false: the trunk has no registration
    server_uri = Unicode
    username = Unicode
    realm = Unicode
    contact_user = Unicode
    expiration = Integer
    secret_set = Boolean


def _out(trunk_id: int, row: TrunkRegistration | None) -> TrunkRegistrationOut:
    if row is None:
        return TrunkRegistrationOut(trunk_id=trunk_id, registered=False, secret_set=False)
    return TrunkRegistrationOut(
        trunk_id=trunk_id,
        registered=True,
        server_uri=row.server_uri,
        username=row.username,
        realm=row.realm,
        contact_user=row.contact_user,
        expiration=row.expiration,
        secret_set=bool(row.md5_cred),
    )


class AsteriskService(ServiceBase):
    __in_header__ = Auth

    @rpc(_returns=Unicode)
    def ReloadAsterisk(ctx: Any) -> str:
        """Reload Asterisk's PJSIP module over AMI (`Reload`, `Module: res_pjsip.so`),
        so that it sees provisioning changes it caches: a pjsip.conf include written by
        `siptar asterisk export-pjsip`, or a sorcery memory cache over the realtime
        views (without one, realtime changes apply at once). Answers Asterisk's text;
        Client.AsteriskUnavailable when Asterisk can't be reached or refuses."""
        req = request(ctx)
        return asterisk.reload_asterisk(req.uow, req.caller, ami_target(ctx))

    @rpc(Integer(min_occurs=1, nillable=False), _returns=TrunkRegistrationOut)
    def GetTrunkRegistration(ctx: Any, trunk_id: int) -> TrunkRegistrationOut:
        """The trunk's outbound registration to its provider (never its secret:
        `secret_set` only). Client.NotFound for an unknown trunk."""
        req = request(ctx)
        return _out(trunk_id, registrations.registration(req.uow, req.caller, trunk_id))

    @rpc(
        Integer(min_occurs=1, nillable=False),
        TrunkRegistrationIn.customize(min_occurs=1, nillable=False),
        _returns=TrunkRegistrationOut,
    )
    def SetTrunkRegistration(
        ctx: Any, trunk_id: int, registration: TrunkRegistrationIn
    ) -> TrunkRegistrationOut:
        """Make the trunk register to its provider (Asterisk's ps_registrations, with
        `line` so the provider's calls are the trunk's): `server_uri`
        (sip:registrar[:port]), `username`, `secret` and the `realm` of the provider's
        challenge. The secret is write-only, kept as md5(username:realm:secret) only;
        a new registration, username or realm needs it. `contact_user`: the user part
        the provider calls (default: username); `expiration`: 60 to 86400 s (3600).
        An empty `server_uri` removes the registration. Client.InvalidInput on a bad
        field, Client.NotFound for an unknown trunk."""
        req = request(ctx)
        reg = registration
        row = registrations.set_registration(
            req.uow,
            req.caller,
            trunk_id,
            registrations.RegistrationInput(
                server_uri=reg.server_uri or "",
                username=reg.username or "",
                secret=reg.secret,
                realm=reg.realm or "",
                contact_user=reg.contact_user or "",
                expiration=reg.expiration,
            ),
            datetime.now(UTC),
        )
        return _out(trunk_id, row)
