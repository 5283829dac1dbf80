"""A big sheet's plan as compile_stored builds it now (db/rate_bulk.packed_index: rules
numbered by the database, one line per prefix, COPY on PostgreSQL), on both databases:
the same rates and answers as the plain plan, with its tricky rows (several rates on a
prefix, a catch-all, on-net, a prefix longer than a key, leading zeros); a change that
lands between its statements is not mixed in; a rate the engine refuses falls back to
the streamed build, which names it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import db.rates as db_rates
from db.rate_bulk import insert_rates
from db.rates import bump_version
from db.schema import Rate as RateRow
from db.schema import RateSheet
from db.session import UnitOfWork
from rating import CallToRate, NoRateForDestination, Rate, RatingPlan, compile_sheet
from rating.compact_index import CompactRates
from rating.errors import InvalidInput
from tests.credit.builders import NOON, RESELLER_RETAIL

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
D = Decimal
PEAK = {"weekdays": frozenset(range(5)), "time_from": time(8), "time_to": time(20)}
TRICKY = (
    Rate("0044", "zeros", D("0.30")),
    Rate("44", "uk", D("0.02")),
    Rate("4471", "uk peak", D("0.20"), **PEAK),  # type: ignore[arg-type]
    Rate("4471", "uk off-peak", D("0.05")),
    Rate("3" * 24, "long", D("0.40")),
    Rate("onnet", "on-net", D("0.001")),
    Rate("*", "rest", D("0.90")),
)


@pytest.fixture
def big(monkeypatch: pytest.MonkeyPatch, uow: Uow) -> None:
    """Every sheet built as a big one, the retail sheet with the tricky rows added."""
    monkeypatch.setattr(db_rates, "COMPACT_ABOVE", 1)
    with uow() as u:
        insert_rates(u.session, RESELLER_RETAIL, TRICKY)
        bump_version(u.session, RESELLER_RETAIL)
        u.commit()


def answer(plan: RatingPlan, call: CallToRate) -> object:
    try:
        return plan.rate_call(call)
    except NoRateForDestination:
        return None


def numbers_of(plan: RatingPlan) -> list[str]:
    out = ["9" * 12, "4471555", "0044123", "3" * 26, "3" * 20]
    return out + [r.prefix + "123" for r in plan.sheet.rates if r.prefix.isdigit()]


def test_the_packed_plan_answers_as_the_plain_one(
    uow: Uow, big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_stream(*args: object) -> object:
        raise AssertionError("the streamed build ran: the packed one should have")

    monkeypatch.setattr(db_rates, "stored_rules", no_stream)
    with uow() as u:
        for sheet_id in u.session.scalars(select(RateSheet.id)):
            packed = db_rates.compile_stored(u.session, sheet_id)
            plain = compile_sheet(db_rates.load_sheet(u.session, sheet_id))
            assert isinstance(packed.sheet.rates, CompactRates)
            assert packed.sheet.version == plain.sheet.version
            assert sorted(map(repr, packed.sheet.rates)) == sorted(map(repr, plain.sheet.rates))
            for number in numbers_of(plain):
                for at in (NOON, NOON.replace(hour=22)):
                    call = CallToRate(number, at, 95)
                    assert answer(packed, call) == answer(plain, call), (sheet_id, number)
    with uow() as u:
        plan = db_rates.compile_stored(u.session, RESELLER_RETAIL)
    assert plan.find_rate("4471555", NOON).destination == "uk peak"  # NOON: a weekday
    assert plan.find_rate("0044123", NOON).destination == "zeros"
    assert plan.find_rate("3" * 26, NOON).destination == "long"
    assert plan.find_rate("999999", NOON).destination == "rest"


def test_a_change_between_its_statements_is_not_mixed_in(
    uow: Uow, big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build has read the version; another session changes a rate (and the
    version, as every writer does) before the rules and prefixes are read: the build
    starts over, and its plan is all of the new version, labelled so."""
    calls = []

    def change_then_read(session: Session, sheet_id: int, zone: ZoneInfo) -> object:
        calls.append(1)
        if len(calls) == 1:
            with uow() as other:
                other.session.execute(
                    update(RateRow)
                    .where(RateRow.sheet_id == RESELLER_RETAIL, RateRow.prefix == "44")
                    .values(price=D("0.07"))
                )
                bump_version(other.session, RESELLER_RETAIL)
                other.commit()
        return real_packed(session, sheet_id, zone)

    real_packed = db_rates.packed_index
    monkeypatch.setattr(db_rates, "packed_index", change_then_read)
    with uow() as u:
        if u.session.connection().dialect.name == "sqlite":
            # The build's transaction holds SQLite's write lock (BEGIN IMMEDIATE): no
            # other session can change the sheet between its statements.
            pytest.skip("no change can land inside a transaction on SQLite")
        before = u.session.execute(
            select(RateSheet.version).where(RateSheet.id == RESELLER_RETAIL)
        ).scalar_one()
        plan = db_rates.compile_stored(u.session, RESELLER_RETAIL)
    assert len(calls) == 2
    assert plan.sheet.version == before + 1
    assert plan.find_rate("44123", NOON).price == D("0.07")


def test_a_refused_rate_is_named_by_the_streamed_build(uow: Uow, big: None) -> None:
    with uow() as u:
        u.session.execute(
            update(RateRow)
            .where(RateRow.sheet_id == RESELLER_RETAIL, RateRow.prefix == "44")
            .values(increment=0)
        )
        bump_version(u.session, RESELLER_RETAIL)
        u.commit()
    with uow() as u, pytest.raises(InvalidInput, match="rate '44': increment"):
        db_rates.compile_stored(u.session, RESELLER_RETAIL)
