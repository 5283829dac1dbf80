"""Configuration Manager: runtime settings (admin logins only). See docs/settings.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound (no such
setting), Client.InvalidInput (a value of the wrong type or out of range),
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import ComplexModel, Integer, ServiceBase, Unicode, rpc

from services.common.app import request
from services.common.runtime_settings import SettingValue
from services.common.wire import Auth
from services.config import settings_usecases as uc
from services.config.models import TNS


class SettingInfo(ComplexModel):
    __namespace__ = TNS
    name = Unicode
    type = Unicode
    value = Integer  # an integer setting's value (nil for a text or boolean one)
    source = Unicode  # database (set by SetSetting) or environment (its fallback)
    description = Unicode
    text = Unicode  # the value as text, for every kind


class SettingList(ComplexModel):
    __namespace__ = TNS
    items = SettingInfo.customize(max_occurs="unbounded")
    # A second element, so zeep answers an object (it unwraps a lone repeated one).
    total = Integer


def _info(s: SettingValue) -> SettingInfo:
    return SettingInfo(
        name=s.name,
        type=s.kind,
        value=s.value if isinstance(s.value, int) else None,
        source=s.source,
        description=s.description,
        text=str(s.value),
    )


class SettingsService(ServiceBase):
    __in_header__ = Auth

    @rpc(_returns=SettingList)
    def GetSettings(ctx: Any) -> SettingList:
        """Every runtime setting with the value in force and where it comes from."""
        req = request(ctx)
        found = uc.get_settings(req.uow, req.caller, ctx.app.credit_policy)
        return SettingList(items=[_info(s) for s in found], total=len(found))

    @rpc(
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=64),
        Unicode(min_occurs=1, nillable=False, max_len=255),
        _returns=SettingInfo,
    )
    def SetSetting(ctx: Any, name: str, value: str) -> SettingInfo:
        """Set one runtime setting (its value as text, checked against its type and
        range); every worker uses it from its next request."""
        req = request(ctx)
        return _info(uc.set_setting(req.uow, req.caller, name, value, ctx.app.credit_policy))
