"""DIDs in from the database: `AGI(agi://host/inbound[,NUMBER])` over a real TCP socket
answers where an inbound call goes (docs/dialplan.md "Inbound calls to DIDs"), from the
DIDs set over SOAP, so the sample dialplan maps no number by hand. The cases here are
the ones tests/recurring/test_did_switch.py does not cover: the number as the script's
argument or a `+` number, the owner or a reseller above it blocked over SOAP, a `peer`
destination whose peer was blocked, closed or renamed since, and numbers that are no
number at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.credit.test_fastagi import agi_call, environment, running_agi
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
DID_A = "34910000001"


def ask(factory: Callable[[], Session], number: str, as_argument: bool = True) -> dict[str, str]:
    """What Asterisk's AGI() does, against `siptar agi`'s server started for the call."""

    async def run() -> dict[str, str]:
        async with running_agi(factory) as port:
            extra = {"agi_arg_1": number} if as_argument else {"agi_extension": number}
            env = environment(agi_network_script="inbound", agi_channel="PJSIP/carrier-0001")
            return await agi_call(port, env | extra)

    return asyncio.run(run())


def answer(got: dict[str, str]) -> tuple[str, str]:
    return got["SIPTAR_ALLOWED"], got["SIPTAR_REASON"]


def did(tree: Tree) -> int:
    admin = tree.api("admin").config
    provider = admin.CreateProvider(name="DID carrier").id
    admin.ImportDids(
        csv="number,provider_id,monthly_cost,monthly_fee,setup_fee,inbound_price\n"
        f"{DID_A},{provider},1.10,2.00,0.50,0.01\n"
    )
    return {d.number: d.id for d in admin.ListDids(prefix="3491").items}[DID_A]


class TestDidLookup:
    def test_an_assigned_did_follows_its_owners_state_and_the_number_may_be_the_argument(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        did_id = did(tree)
        r2.SetTechDetails(
            account_id=tree.ids["C1"], tech={"sip_username": "c1-phone", "sip_secret": "s3cret-1"}
        )
        r2.AssignDid(did_id=did_id, account_id=tree.ids["C1"])
        got = ask(session_factory, "+" + DID_A)
        assert answer(got) == ("1", "OK")
        assert (got["SIPTAR_DID"], got["SIPTAR_DID_KIND"], got["SIPTAR_DIALSTR"]) == (
            DID_A,
            "peer",
            "PJSIP/c1-phone",
        )
        assert ask(session_factory, DID_A, as_argument=False)["SIPTAR_DIALSTR"] == "PJSIP/c1-phone"
        r2.BlockAccount(account_id=tree.ids["C1"], reason="unpaid")
        blocked = ask(session_factory, DID_A)
        assert answer(blocked) == ("0", "AccountBlocked")
        assert blocked["SIPTAR_DIALSTR"] == ""
        r2.UnblockAccount(account_id=tree.ids["C1"])
        assert answer(ask(session_factory, DID_A)) == ("1", "OK")
        tree.api("admin").reseller.BlockAccount(account_id=tree.ids["R1"], reason="unpaid")
        assert answer(ask(session_factory, DID_A)) == ("0", "AccountBlocked")

    def test_a_peer_blocked_renamed_or_closed_since_it_was_set_is_no_destination(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        did_id = did(tree)
        r2.SetTechDetails(
            account_id=tree.ids["C2"], tech={"sip_username": "c2-phone", "sip_secret": "s3cret-2"}
        )
        # The DID is R2's own; its destination a phone of a customer below it.
        owner = tree.api("admin").reseller
        owner.AssignDid(did_id=did_id, account_id=tree.ids["R2"])
        owner.SetDidDestination(did_id=did_id, kind="peer", destination="c2-phone")
        got = ask(session_factory, DID_A)
        assert (answer(got), got["SIPTAR_DIALSTR"]) == (("1", "OK"), "PJSIP/c2-phone")
        r2.BlockAccount(account_id=tree.ids["C2"], reason="unpaid")
        assert answer(ask(session_factory, DID_A)) == ("0", "NoDestination")
        r2.UnblockAccount(account_id=tree.ids["C2"])
        assert answer(ask(session_factory, DID_A)) == ("1", "OK")
        r2.SetTechDetails(
            account_id=tree.ids["C2"], tech={"sip_username": "c2-desk", "sip_secret": "s3cret-3"}
        )
        assert answer(ask(session_factory, DID_A)) == ("0", "NoDestination")
        owner.SetDidDestination(did_id=did_id, kind="peer", destination="c2-desk")
        assert answer(ask(session_factory, DID_A)) == ("1", "OK")
        r2.CloseAccount(account_id=tree.ids["C2"], reason="left")
        assert answer(ask(session_factory, DID_A)) == ("0", "NoDestination")

    def test_what_is_no_number_is_refused(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        did(tree)
        for number in ("not-a-number", ""):
            got = ask(session_factory, number, as_argument=False)
            assert answer(got) == ("0", "InvalidNumber"), number
