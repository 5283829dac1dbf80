"""A DID assigned to an account of this server is on-net too (services/onnet/callee.py),
on SQLite and PostgreSQL: its destination decides what is dialled; an external
destination and a free DID are ordinary calls over the trunks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from db.recurring_schema import CatalogService, Did
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, authorize
from tests.onnet.conftest import BOB_ID

pytestmark = pytest.mark.usefixtures("onnet")
NOW = datetime.now(UTC)


def did(u: UnitOfWork, number: str, status: str, kind: str = "", destination: str = "") -> None:
    s = u.session
    service = s.query(CatalogService).filter_by(name="on-net DIDs").first()
    if service is None:
        service = CatalogService(owner_id=1, name="on-net DIDs", kind="did")
        s.add(service)
        s.flush()
    s.add(
        Did(
            number=number,
            provider_id=1,
            service_id=service.id,
            status=status,
            account_id=BOB_ID if status == "assigned" else None,
            destination_kind=kind,
            destination=destination,
        )
    )
    u.commit()


@pytest.mark.parametrize(
    ("kind", "destination", "dialled"),
    [
        ("", "", "PJSIP/1002"),  # no destination: the owner's own peer
        ("peer", "1002", "PJSIP/1002"),
        ("extension", "500", "Local/500@siptar-pbx"),
    ],
)
def test_a_did_of_ours_rings_its_destination_on_net(
    uow: Callable[[], UnitOfWork], kind: str, destination: str, dialled: str
) -> None:
    with uow() as u:
        did(u, "34910000001", "assigned", kind, destination)
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest("34910000001", "acct1001"), NOW)
    assert (a.allowed, a.dial_string, a.onnet_account_id, a.trunks) == (True, dialled, BOB_ID, ())


def test_an_external_destination_or_a_free_did_goes_out_over_the_trunks(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        did(u, "34910000002", "assigned", "external", "34911234567")
        did(u, "34910000003", "free")
    for number in ("34910000002", "34910000003"):
        with uow() as u:
            a = authorize(u, None, AuthorizeRequest(number, "acct1001"), NOW)
        assert (a.allowed, a.dial_string, a.onnet_account_id) == (True, "", None)
        assert a.trunks[0].dial_string == f"PJSIP/{number}@carrier1"
