"""A big sheet's new version is compiled off the request path for every caller: the
previous plan answers Authorize, CDR rating and quotes (`plans.plan`) at once, the new
one takes over when it is built, one build per sheet at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import db.rates as db_rates
from db.rates import bump_version, plans
from db.schema import Rate, RateSheet
from db.session import UnitOfWork
from rating import CallToRate, NoRateForDestination, RatingPlan, compile_sheet
from rating.compact_index import CompactRates
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


SPAIN = CallToRate("34911234567", NOON, 60)


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


class HeldBuild:
    """db.rates.compile_stored, held until `release()`: a caller that waited on the
    build would hang, not just be slow, so no timing is needed to tell."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate = threading.Event()
        self.builds = 0
        real = db_rates.compile_stored

        def held(session: Session, sheet_id: int) -> RatingPlan:
            self.builds += 1
            assert self.gate.wait(30), "the build was never released"
            return real(session, sheet_id)

        monkeypatch.setattr(db_rates, "compile_stored", held)

    def release(self) -> None:
        self.gate.set()
        deadline = time.monotonic() + 30
        while plans.building() and time.monotonic() < deadline:
            time.sleep(0.02)


def test_a_charge_and_a_quote_take_the_old_plan_while_the_new_one_builds(
    uow: Uow, every_sheet_is_big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with uow() as u:
        old = plans.plan(u.session, RESELLER_RETAIL)
    double_spain(uow)
    held = HeldBuild(monkeypatch)
    with uow() as u:  # the CDR path and QuoteCall ask plans.plan
        assert plans.plan(u.session, RESELLER_RETAIL) is old
        assert plans.plan(u.session, RESELLER_RETAIL) is old
        assert plans.plans(u.session, [RESELLER_RETAIL])[RESELLER_RETAIL] is old
    assert plans.building() and held.builds == 1  # one build, however many callers
    held.release()
    with uow() as u:
        new = plans.plan(u.session, RESELLER_RETAIL)
    assert new.sheet.version == old.sheet.version + 1
    spain = CallToRate("34911234567", NOON, 60)
    assert new.rate_call(spain).cost == 2 * old.rate_call(spain).cost


def test_a_process_without_a_plan_gets_the_current_version_at_once(
    uow: Uow, every_sheet_is_big: None
) -> None:
    """Built in the request (SQLite, or a build quicker than `first_wait`) or read from
    the database while it is built: this version's prices either way."""
    plans._plans.clear()
    with uow() as u:
        before = plans.plan(u.session, RESELLER_RETAIL).rate_call(SPAIN).cost
    wait_for_builds()
    plans._plans.clear()
    double_spain(uow)
    with uow() as u:
        version = u.session.get(RateSheet, RESELLER_RETAIL).version  # type: ignore[union-attr]
        plan = plans.plan(u.session, RESELLER_RETAIL)
        assert plan.sheet.version == version
        assert plan.rate_call(SPAIN).cost == 2 * before


def wait_for_builds() -> None:
    deadline = time.monotonic() + 30
    while plans.building() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_big_sheet_is_read_from_the_database_while_its_first_plan_builds(
    uow: Uow, every_sheet_is_big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker with no plan of a big sheet (PostgreSQL): the caller waits `first_wait`
    at most, then the interim plan answers (the rates of its number's prefixes, read
    from the database) exactly as the built plan does; once built, the built one."""
    with uow() as u:
        if u.session.connection().dialect.name == "sqlite":
            pytest.skip("on SQLite a first build stays in the request")
        plain = compile_sheet(db_rates.load_sheet(u.session, RESELLER_RETAIL))
    plans._plans.clear()
    monkeypatch.setattr(plans, "first_wait", 0.05)
    held = HeldBuild(monkeypatch)
    with uow() as u:
        interim = plans.plan(u.session, RESELLER_RETAIL)  # would hang if it waited
        assert plans.plan(u.session, RESELLER_RETAIL) is interim
    assert held.builds == 1 and interim.sheet.version == plain.sheet.version
    numbers = ["34911234567", "34600123456", "441234567", "999", "1212555"]
    numbers += [r.prefix + "77" for r in plain.sheet.rates if r.prefix.isdigit()]
    limit = Decimal("0.50")
    for number in numbers:
        for at in (NOON, NOON.replace(hour=23)):
            call = CallToRate(number, at, 95)
            assert answer(interim, call) == answer(plain, call), number
            expected = duration(plain, number, at, limit)
            assert duration(interim, number, at, limit) == expected, number
    held.release()
    with uow() as u:
        built = plans.plan(u.session, RESELLER_RETAIL)
    assert built is not interim and built.sheet.version == interim.sheet.version


def duration(plan: RatingPlan, number: str, at: datetime, limit: Decimal) -> object:
    try:
        return plan.max_duration(number, at, limit, 7200)
    except NoRateForDestination:
        return None


def test_a_worker_starts_its_big_sheets_plans_in_the_background(
    uow: Uow, every_sheet_is_big: None
) -> None:
    """`siptar serve`'s workers call plans.warm when they start (services/common/wsgi)."""
    plans._plans.clear()
    with uow() as u:
        engine = u.session.get_bind()
        sqlite = u.session.connection().dialect.name == "sqlite"
    assert isinstance(engine, Engine)
    plans.warm(engine).join(60)
    built = {sheet for _, sheet in plans._plans}
    if sqlite:
        assert built == set()  # nothing off the request on SQLite
    else:
        assert RESELLER_RETAIL in built


def test_a_streamed_compact_plan_holds_what_the_sheet_holds(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compile_stored streams a big sheet (here: every sheet) into a compact plan: the
    same rates, values converted as the ORM converts them, the same answers."""
    monkeypatch.setattr(db_rates, "COMPACT_ABOVE", 1)
    with uow() as u:
        for sheet_id in u.session.scalars(select(RateSheet.id)):
            compact = db_rates.compile_stored(u.session, sheet_id)
            plain = compile_sheet(db_rates.load_sheet(u.session, sheet_id))
            assert isinstance(compact.sheet.rates, CompactRates)
            assert sorted(map(repr, compact.sheet.rates)) == sorted(map(repr, plain.sheet.rates))
            for rate in plain.sheet.rates:
                if rate.prefix.isdigit():
                    call = CallToRate(rate.prefix + "123", NOON, 95)
                    assert answer(compact, call) == answer(plain, call)


def answer(plan: RatingPlan, call: CallToRate) -> object:
    try:
        return plan.rate_call(call)
    except NoRateForDestination:
        return None


def test_callers_without_a_plan_wait_for_one_build(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans._plans.clear()
    held = HeldBuild(monkeypatch)
    got: list[RatingPlan] = []

    def ask() -> None:
        with uow() as u:
            got.append(plans.plan(u.session, RESELLER_RETAIL))

    first = threading.Thread(target=ask)
    first.start()
    while held.builds == 0 and first.is_alive():
        time.sleep(0.01)
    second = threading.Thread(target=ask)
    second.start()
    # Room for the second caller to start a build of its own, which it must not.
    second.join(0.5)
    assert held.builds == 1
    held.gate.set()
    first.join(30)
    second.join(30)
    assert len(got) == 2 and got[0] is got[1] and held.builds == 1
