"""Runtime settings (docs/settings.md): GetSettings/SetSetting over SOAP, typed and
validated with stable faults, used by Authorize from the next request; the
environment stays the fallback; each process's cache follows the version stamp."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from client import errors
from db import config_versions
from db.config_schema import Setting
from db.mail_schema import BalanceAlert
from db.schema import Reservation
from db.session import UnitOfWork
from services.common import runtime_settings
from services.common.runtime_settings import SettingsCache
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.policy import CreditPolicy

pytestmark = pytest.mark.usefixtures("demo")
SPAIN = {"number": "34911234567", "account": "acct1003"}


@pytest.fixture
def api(client_for: Callable[[str, str], Any]) -> Any:
    return client_for("admin", "admin")


def settings(api: Any) -> dict[str, tuple[int, str]]:
    return {s.name: (s.value, s.source) for s in api.config.GetSettings().items}


def test_a_new_slice_is_what_the_next_authorize_reserves(api: Any) -> None:
    # The test server's policy is the environment's default: a 300 s slice.
    assert settings(api)["credit.slice_seconds"] == (300, "environment")
    assert api.billing.Authorize(call=SPAIN).reserved_seconds == 300
    changed = api.config.SetSetting(name="credit.slice_seconds", value="60")
    assert (changed.value, changed.source) == (60, "database")
    assert api.billing.Authorize(call=SPAIN).reserved_seconds == 60
    assert settings(api)["credit.slice_seconds"] == (60, "database")


def test_a_minimum_call_above_what_the_credit_pays_refuses_the_call(api: Any) -> None:
    alice = {"number": "34911234567", "account": "acct1001"}
    # 0.01 left buys 33 s of Spain at 0.018/min; the automatic minimum is 30 s.
    api.billing.AddAdjustment(account_id=3, amount=Decimal("-9.99"), reference="test")
    assert api.billing.Authorize(call=alice).allowed
    api.config.SetSetting(name="credit.min_call_seconds", value="60")
    a = api.billing.Authorize(call=alice)
    assert (a.allowed, a.reason) == (False, "InsufficientCredit")
    assert a.detail.endswith("the minimum call is 60 s")


@pytest.mark.parametrize(
    ("name", "value", "fault"),
    [
        ("credit.slice_seconds", "-1", errors.InvalidInput),
        ("credit.slice_seconds", "86401", errors.InvalidInput),
        ("credit.slice_seconds", "1.5", errors.InvalidInput),
        ("credit.slice_seconds", "ten", errors.InvalidInput),
        ("credit.durable_holds", "yes", errors.InvalidInput),
        ("credit.durable_holds", "1", errors.InvalidInput),
        ("credit.nothing", "1", errors.NotFound),
    ],
)
def test_a_bad_setting_faults_and_changes_nothing(
    api: Any, session_factory: Callable[[], Session], name: str, value: str, fault: type
) -> None:
    with pytest.raises(fault):
        api.config.SetSetting(name=name, value=value)
    with session_factory() as s:
        assert s.scalars(select(Setting)).all() == []


def test_only_the_admin_reads_or_sets(client_for: Callable[[str, str], Any]) -> None:
    reseller = client_for("reseller", "reseller")
    with pytest.raises(errors.AccessDenied):
        reseller.config.GetSettings()
    with pytest.raises(errors.AccessDenied):
        reseller.config.SetSetting(name="credit.slice_seconds", value="1")


def test_a_cache_reloads_after_a_change_made_elsewhere(
    uow: Callable[[], UnitOfWork], session_factory: Callable[[], Session]
) -> None:
    # Two caches stand for two workers: one sets, the other sees it at its next read.
    base = CreditPolicy(slice_seconds=300)
    worker = SettingsCache()
    with session_factory() as s:
        assert worker.stored(s) == {}
    with uow() as u:
        runtime_settings.store(u.session, "credit.slice_seconds", "45")
        u.commit()
    with session_factory() as s:
        assert worker.stored(s) == {"credit.slice_seconds": "45"}
        assert runtime_settings.credit_policy(s, base).slice_seconds == 45


def test_a_new_default_max_call_length_is_what_the_next_authorize_allows(api: Any) -> None:
    # Carol (postpaid, 50.00 at 0.02/min) could pay for 41 h: the 3 h default caps it.
    assert settings(api)["credit.max_call_seconds"] == (10800, "environment")
    assert api.billing.Authorize(call=SPAIN).max_seconds == 10800
    api.config.SetSetting(name="credit.max_call_seconds", value="600")
    assert api.billing.Authorize(call=SPAIN).max_seconds == 600
    with pytest.raises(errors.InvalidInput):
        api.config.SetSetting(name="credit.max_call_seconds", value="0")
    assert settings(api)["credit.max_call_seconds"] == (600, "database")


def _alerts(session_factory: Callable[[], Session], account_id: int) -> list[tuple[str, bool]]:
    with session_factory() as s:
        found = s.scalars(
            select(BalanceAlert)
            .where(BalanceAlert.account_id == account_id)
            .order_by(BalanceAlert.threshold.desc())
        )
        return [(format(a.threshold.normalize(), "f"), a.armed) for a in found]


def test_accounts_created_after_a_default_threshold_is_set_start_with_it(
    api: Any, session_factory: Callable[[], Session]
) -> None:
    def new(name: str) -> int:
        account = {"name": name, "username": name, "password": "pw-" + name * 2}
        return int(api.reseller.CreateAccount(account=account | {"initial_credit": 8}).id)

    before = new("early")
    for bad in ("ten", "1,2,3,4,5,6", "-1"):
        with pytest.raises(errors.InvalidInput):
            api.config.SetSetting(name="alerts.default_thresholds", value=bad)
    shown = api.config.SetSetting(name="alerts.default_thresholds", value=" 5.50, 10 ")
    assert (shown.value, shown.text) == (None, "10,5.5")
    after = new("later")
    assert _alerts(session_factory, before) == []
    # A balance of 8: below 10 (disarmed: no mail until it has been back above), above 5.5.
    assert _alerts(session_factory, after) == [("10", False), ("5.5", True)]


def test_a_new_expiry_margin_is_what_the_next_reservation_keeps(
    api: Any, session_factory: Callable[[], Session]
) -> None:
    def margin(reservation_id: int) -> int:
        with session_factory() as s:
            r = s.get(Reservation, reservation_id)
            assert r is not None
            return round((r.expires_at - r.created_at).total_seconds()) - r.reserved_seconds

    assert margin(api.billing.Authorize(call=SPAIN).reservation_id) == 600
    api.config.SetSetting(name="credit.expiry_margin_seconds", value="120")
    assert margin(api.billing.Authorize(call=SPAIN).reservation_id) == 120
    with pytest.raises(errors.InvalidInput):
        api.config.SetSetting(name="credit.expiry_margin_seconds", value="3601")


def test_durable_holds_is_a_boolean_the_credit_policy_reads(
    api: Any, session_factory: Callable[[], Session]
) -> None:
    """Off by default: Authorize's commit need not wait for the disk (PostgreSQL; the
    wire in tests/integration/test_round_trips.py). SQLite commits as ever."""

    def shown() -> tuple[str, Any, str, str]:
        (s,) = [s for s in api.config.GetSettings().items if s.name == "credit.durable_holds"]
        return s.type, s.value, s.text, s.source

    def policy() -> CreditPolicy:
        with session_factory() as s:
            return runtime_settings.credit_policy(s, CreditPolicy())

    assert shown() == ("boolean", None, "false", "environment")
    assert not policy().durable_holds
    changed = api.config.SetSetting(name="credit.durable_holds", value=" TRUE ")
    assert (changed.type, changed.text, changed.source) == ("boolean", "true", "database")
    assert shown() == ("boolean", None, "true", "database")
    assert policy().durable_holds
    assert api.billing.Authorize(call=SPAIN).allowed
    api.config.SetSetting(name="credit.durable_holds", value="false")
    assert not policy().durable_holds
    assert api.billing.Authorize(call=SPAIN).allowed


def test_authorize_takes_the_policy_at_the_stamp_its_lock_read(
    uow: Callable[[], UnitOfWork], session_factory: Callable[[], Session]
) -> None:
    # As the SOAP and FastAGI edges pass it: resolved once the chain is locked, with the
    # settings' stamp the lock statement read (no statement of its own).
    source = runtime_settings.RuntimePolicy(CreditPolicy(slice_seconds=300))
    call = AuthorizeRequest(SPAIN["number"], SPAIN["account"], uniqueid="before")
    with uow() as u:
        assert authorize(u, None, call, policy=source).reserved_seconds == 300
    with uow() as u:
        runtime_settings.store(u.session, "credit.slice_seconds", "45")
        u.commit()
    with session_factory() as s:
        stamp = config_versions.current(s, config_versions.SETTINGS)
        # The policy built at a stamp is the one a later read of that stamp gets.
        assert source.at(s, stamp).slice_seconds == 45
    call = AuthorizeRequest(SPAIN["number"], SPAIN["account"], uniqueid="after")
    with uow() as u:
        assert authorize(u, None, call, policy=source).reserved_seconds == 45
