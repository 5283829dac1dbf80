"""Configuration Manager: the Asterisk switch (admin logins).

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.AsteriskUnavailable,
Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase, Unicode, rpc

from services.common.app import ami_target, request
from services.common.wire import Auth
from services.provisioning import asterisk


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
