"""GetSettings / SetSetting (admin): the runtime settings of
services/common/runtime_settings.py. No spyne here."""

from __future__ import annotations

from db.session import UnitOfWork
from services.common import runtime_settings
from services.common.caller import Caller, require_role
from services.common.runtime_settings import SettingValue
from services.credit.policy import CreditPolicy


def get_settings(uow: UnitOfWork, caller: Caller, base: CreditPolicy) -> list[SettingValue]:
    require_role(caller, "admin")
    return runtime_settings.current(uow.session, base)


def set_setting(
    uow: UnitOfWork, caller: Caller, name: str, value: str, base: CreditPolicy
) -> SettingValue:
    require_role(caller, "admin")
    runtime_settings.store(uow.session, name.strip(), value)
    uow.commit()
    (found,) = [s for s in runtime_settings.current(uow.session, base) if s.name == name.strip()]
    return found
