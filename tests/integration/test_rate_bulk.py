"""Rate decks written in bulk (COPY on PostgreSQL, executemany on SQLite) are stored
exactly as the ORM stores them, and a merge replaces rows set-based, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from db import schema
from db.rates import load_sheet, row_values
from db.session import UnitOfWork
from rating import parse_rates_csv
from services.common.caller import Caller
from services.config import usecases

pytestmark = pytest.mark.integration

Uow = Callable[[], UnitOfWork]
DECK = (
    "prefix,destination,price,tiers,connect_fee,max_cost,weekdays,time_from,time_to,"
    "valid_from,valid_to\n"
    '34,"Tab\tand\\\\backslash",0.123456,,0.000001,12.5,,,,,\n'
    "34,Spain peak,0.2,,,,mon-fri,08:00,18:00,,\n"
    "34,Spain later,0.1,,,,,,,2030-01-01T08:30:00+02:00,2031-01-01\n"
    '44,"UK, line\nbreak",,0:0.10:60;60:0.05:6,,,"sat,sun",00:00:30,24:00,2025-07-01,\n'
)


@pytest.fixture
def sheet(uow: Uow) -> tuple[Caller, int]:
    with uow() as u:
        admin = schema.Account(role="admin", name="Admin", path="")
        u.session.add(admin)
        u.session.flush()
        admin.path = f"/{admin.id}/"
        caller = Caller(0, "admin", admin.id, "admin", admin.path)
        u.commit()
        created = usecases.create_rate_sheet(u, caller, usecases.NewRateSheet(name="S"))
        return caller, created.id


class TestBulkImport:
    def test_stores_every_value_as_the_orm_would(self, uow: Uow, sheet: tuple[Caller, int]) -> None:
        caller, sheet_id = sheet
        with uow() as u:
            usecases.import_rates(u, caller, sheet_id, DECK, replace=True)
            other = schema.RateSheet(owner_id=caller.account_id, name="ORM")
            u.session.add(other)
            u.session.flush()
            u.session.add_all(
                schema.Rate(sheet_id=other.id, **row_values(r)) for r in parse_rates_csv(DECK)
            )
            u.commit()
            other_id = other.id
        with uow() as u:
            bulk = load_sheet(u.session, sheet_id).rates
            orm = load_sheet(u.session, other_id).rates
            raw = [
                tuple(row)[3:]
                for sid in (sheet_id, other_id)
                for row in u.session.execute(
                    select(schema.Rate.__table__).where(schema.Rate.sheet_id == sid)
                )
            ]
        assert (
            sorted(bulk, key=repr)
            == sorted(orm, key=repr)
            == sorted(parse_rates_csv(DECK), key=repr)
        )
        assert raw[:4] == raw[4:]  # the stored values themselves, column by column

    def test_a_merge_of_the_same_deck_replaces_every_row(
        self, uow: Uow, sheet: tuple[Caller, int]
    ) -> None:
        caller, sheet_id = sheet
        with uow() as u:
            usecases.import_rates(u, caller, sheet_id, DECK, replace=True)
        with uow() as u:
            result = usecases.import_rates(u, caller, sheet_id, DECK, replace=False)
        assert (result.imported, result.removed) == (4, 4)
        with uow() as u:
            assert sorted(load_sheet(u.session, sheet_id).rates, key=repr) == sorted(
                parse_rates_csv(DECK), key=repr
            )

    def test_a_merge_keeps_rows_whose_band_or_start_differs(
        self, uow: Uow, sheet: tuple[Caller, int]
    ) -> None:
        caller, sheet_id = sheet
        with uow() as u:
            usecases.import_rates(u, caller, sheet_id, DECK, replace=True)
        deck = "prefix,price,weekdays,valid_from\n34,0.3,sat,\n34,0.4,,2030-01-01\n"
        with uow() as u:
            result = usecases.import_rates(u, caller, sheet_id, deck, replace=False)
        assert (result.imported, result.removed) == (2, 0)
        with uow() as u:
            assert len(load_sheet(u.session, sheet_id).rates) == 6
