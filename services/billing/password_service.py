"""Billing Engine: a login changes its own password (every role: customers too).

Faults: Client.AuthenticationFailed, Client.AccessDenied (the current password is
wrong), Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ServiceBase, Unicode, rpc

from services.billing import models
from services.common.app import request
from services.common.wire import Auth
from services.logins.usecases import change_password

Password = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=256)


class PasswordService(ServiceBase):
    __in_header__ = Auth

    @rpc(Password, Password, _returns=models.PasswordChanged)
    def ChangePassword(ctx: Any, current: str, new: str) -> models.PasswordChanged:
        """Change the password of the login in the Auth header. `current` must be its
        password now; `new`: 8 to 256 printable characters, no spaces at either end.
        The next calls need the new password in the Auth header."""
        req = request(ctx)
        done = change_password(req.uow, req.caller, current, new)
        return models.PasswordChanged(
            login_id=done.login_id, username=done.username, account_id=done.account_id
        )
