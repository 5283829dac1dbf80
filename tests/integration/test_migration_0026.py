"""Revision 0026 (reservation indexes) changes no data: calls authorized before it, at
every level of the tree, settle after it, by the listener's batch path and one by one,
and its indexes are the models' (tests/integration/test_migrations.py compares the
whole schema)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, inspect, select

from db import migrate
from db.schema import Reservation
from db.session import UnitOfWork, make_engine, make_session_factory
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome, record_cdr
from services.common.demo import load_demo
from services.credit.authorize import AuthorizeRequest, authorize
from tests.credit.builders import NOON
from tests.credit.test_authorize import cdr
from tests.credit.test_holds import drift
from tests.integration.test_migrations import empty_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


def _database(url: str) -> tuple[Engine, Callable[[], UnitOfWork]]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    return engine, lambda: UnitOfWork(factory)


def test_calls_authorized_before_the_upgrade_settle_after_it(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url, "0025")
    engine, uow = _database(empty_url)
    with uow() as u:
        load_demo(u)
        u.commit()
    for n in range(3):  # acct1001 is under a reseller: a row per level
        with uow() as u:
            answer = authorize(
                u, None, AuthorizeRequest("34911234567", "acct1001", uniqueid=f"m.{n}"), NOON
            )
        assert answer.allowed, answer
    engine.dispose()

    migrate.upgrade(empty_url)

    engine, uow = _database(empty_url)
    try:
        indexes = {i["name"] for i in inspect(engine).get_indexes("reservations")}
        assert "ix_reservations_account_status" not in indexes
        assert "ix_reservations_status_expires" not in indexes
        assert {"ix_reservations_parent_id", "ix_reservations_trunk_created"} <= indexes
        with uow() as u:
            assert store_batch(u, [cdr("m.0", "acct1001", 30), cdr("m.1", "acct1001", 0)]) == [
                Outcome.RATED,
                Outcome.RATED,
            ]
        with uow() as u:
            record_cdr(u, cdr("m.2", "acct1001", 12))
        assert drift(uow) == []
        with uow() as u:
            rows = u.session.execute(
                select(Reservation.uniqueid, Reservation.parent_id.is_(None), Reservation.status)
            ).all()
        assert len(rows) > 3  # the resellers' rows too
        assert {status for _, _, status in rows} == {"settled"}
    finally:
        engine.dispose()
