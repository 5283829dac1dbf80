"""Reseller Manager: set the password of a login below you (admin and reseller logins).

Faults: Client.AuthenticationFailed, Client.AccessDenied (your own login: use
ChangePassword), Client.NotFound (also logins outside your subtree),
Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase, Unicode, rpc

from services.common.app import request
from services.common.wire import Auth
from services.logins.usecases import set_password
from services.reseller import models


class ResellerPasswordService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=80),
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=256),
        _returns=models.PasswordSet,
    )
    def SetPassword(ctx: Any, username: str, password: str) -> models.PasswordSet:
        """Set the password of `username`, a login of an account strictly below yours
        (a reseller: its own subtree only). `password`: 8 to 256 printable characters,
        no spaces at either end. A login outside your subtree is NotFound, like one that
        does not exist."""
        req = request(ctx)
        done = set_password(req.uow, req.caller, username, password)
        return models.PasswordSet(
            login_id=done.login_id, username=done.username, account_id=done.account_id
        )
