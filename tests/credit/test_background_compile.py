"""A big sheet's new version is compiled off the request path for credit control: the
previous plan answers Authorize at once, the new one takes over when it is built; a
charge (the CDR path's `plans.plan`) never uses the old one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import update

from db.rates import bump_version, plans
from db.schema import Rate
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, authorize
from tests.credit.builders import NOON, RESELLER_RETAIL

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]


@pytest.fixture
def every_sheet_is_big(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(plans, "background_above", 1)
    yield
    deadline = time.monotonic() + 30
    while plans.building() and time.monotonic() < deadline:
        time.sleep(0.05)


def reserved_for_a_call(uow: Uow, n: int) -> Decimal:
    with uow() as u:
        answer = authorize(
            u, None, AuthorizeRequest("34911234567", "acct1001", uniqueid=f"b.{n}"), NOON
        )
    assert answer.allowed, answer
    return answer.reserved


def double_spain(uow: Uow) -> None:
    with uow() as u:
        u.session.execute(
            update(Rate)
            .where(Rate.sheet_id == RESELLER_RETAIL, Rate.prefix == "34")
            .values(price=Rate.price + Rate.price)
        )
        bump_version(u.session, RESELLER_RETAIL)
        u.commit()


def test_the_old_plan_answers_until_the_new_one_is_built(
    uow: Uow, every_sheet_is_big: None
) -> None:
    before = reserved_for_a_call(uow, 0)
    double_spain(uow)
    # The first Authorize after the change is answered from the old plan, at once.
    assert reserved_for_a_call(uow, 1) == before
    deadline = time.monotonic() + 30
    while plans.building() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reserved_for_a_call(uow, 2) == 2 * before


def test_a_charge_waits_for_the_current_version(uow: Uow, every_sheet_is_big: None) -> None:
    reserved_for_a_call(uow, 0)
    with uow() as u:
        old = plans.plan(u.session, RESELLER_RETAIL).sheet.version
    double_spain(uow)
    with uow() as u:
        assert plans.plan(u.session, RESELLER_RETAIL).sheet.version == old + 1
