"""Which trunk carried a call, the parts the other settlement tests leave open (found by
mutation testing, docs/mutation.md; the rule is docs/credit_control.md, Settlement):
the CDR's Trunk field, else the trunk its destination channel names, else the trunk the
call's reservation was made for. A single CDR and a batch (whose trunks are matched
over the rows loaded at once, `trunk_match.match_trunk`) follow the same rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from db.schema import Cdr, Trunk
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome
from services.credit.trunk_match import match_trunk
from tests.credit.builders import route, trunk
from tests.credit.test_authorize import SPAIN, auth, cdr, record

Uow = Callable[[], UnitOfWork]


def trunk_of(uow: Uow, uniqueid: str) -> int | None:
    with uow() as u:
        return u.session.scalars(select(Cdr.trunk_id).where(Cdr.uniqueid == uniqueid)).one()


@pytest.mark.usefixtures("demo")
def test_a_single_cdr_naming_no_trunk_is_charged_on_its_reservations_trunk(uow: Uow) -> None:
    """Master.csv read one CDR at a time: no Trunk field, no channel."""
    with uow() as u:
        spain = trunk(u, "spain", {"34": "0.0060"})
        route(u, "34", "lcr", [(spain, 0, 1)])
    auth(uow, account="acct1001", uniqueid="one.1")
    assert record(uow, cdr("one.1", "acct1001", 60, dstchannel="")) is Outcome.RATED
    assert trunk_of(uow, "one.1") == spain


@pytest.mark.usefixtures("demo")
def test_a_batchs_trunk_field_wins_over_the_trunk_its_channel_names(uow: Uow) -> None:
    with uow() as u:
        spain = trunk(u, "spain", {"34": "0.0060"})
        trunk(u, "france", {"34": "0.0060"})
    calls = [
        cdr("b.1", "acct1001", 60, dstchannel="PJSIP/france-00000001", extra={"Trunk": "spain"}),
        cdr("b.2", "acct1001", 60, dstchannel="PJSIP/spain-00000002", extra={"Trunk": "nope"}),
    ]
    with uow() as u:
        assert store_batch(u, calls) == [Outcome.RATED] * 2
    assert (trunk_of(uow, "b.1"), trunk_of(uow, "b.2")) == (spain, spain)


@pytest.mark.usefixtures("demo")
def test_a_batchs_peer_named_by_two_trunks_is_the_first_trunks_by_id(uow: Uow) -> None:
    """`SIP/gw9-...`: one trunk is called gw9, another dials `...@gw9`."""
    with uow() as u:
        dialled = trunk(u, "dialled", {"34": "0.0060"})
        named = trunk(u, "gw9", {"34": "0.0060"})
        u.session.execute(
            update(Trunk).where(Trunk.id == dialled).values(dial_string="SIP/${NUMBER}@gw9")
        )
        u.commit()
    calls = [cdr("p.1", "acct1001", 60, dstchannel="SIP/gw9-0000000a", dst=SPAIN)]
    with uow() as u:
        assert store_batch(u, calls) == [Outcome.RATED]
    assert dialled < named
    assert trunk_of(uow, "p.1") == dialled


class TestMatchTrunk:
    """The batch's rule over trunks loaded in any order."""

    TRUNKS = [
        Trunk(id=7, name="gw9", dial_string="SIP/${NUMBER}@other"),
        Trunk(id=3, name="edge", dial_string="SIP/${NUMBER}@gw9"),
        Trunk(id=5, name="spain", dial_string="SIP/${NUMBER}@gw9"),
    ]

    def ids(self, name: str, peer: str) -> int | None:
        found = match_trunk(self.TRUNKS, name, peer)
        return None if found is None else found.id

    def test_the_named_trunk_whatever_the_peer(self) -> None:
        assert self.ids("spain", "gw9") == 5
        assert self.ids("gw9", "") == 7

    def test_else_the_lowest_id_of_those_the_peer_names(self) -> None:
        assert self.ids("", "gw9") == 3
        assert self.ids("nope", "gw9") == 3

    def test_else_none(self) -> None:
        assert self.ids("nope", "") is None
        assert self.ids("", "nowhere") is None
