"""DIDs in from the database: `AGI(agi://host/did,NUMBER)` over a real TCP socket
answers where an inbound call goes (SIPTAR_DID_*), from the DIDs set over SOAP, so the
sample dialplan maps no number by hand; an unassigned DID, or one whose owner is
blocked, is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from ami_listener.fastagi import FastAgiServer
from ami_listener.runner import authorizer, did_lookup
from tests.credit.test_fastagi import agi_call, environment
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
DID_A, DID_B = "34910000001", "34910000002"


def ask(factory: Callable[[], Session], number: str, as_argument: bool = True) -> dict[str, str]:
    """What Asterisk's AGI() does, against a FastAGI server started for the call."""

    async def run() -> dict[str, str]:
        server = FastAgiServer(authorizer(factory), "127.0.0.1", 0, did_lookup(factory))
        await server.start()
        task = asyncio.create_task(server.serve_forever())
        try:
            extra = {"agi_arg_1": number} if as_argument else {"agi_extension": number}
            env = environment(agi_network_script="did", agi_channel="PJSIP/carrier-0001")
            return await agi_call(server.port, env | extra)
        finally:
            task.cancel()
            await server.close()

    got = asyncio.run(run())
    return {k.removeprefix("SIPTAR_DID_"): v for k, v in got.items()}


def dids(tree: Tree) -> dict[str, int]:
    admin = tree.api("admin").config
    provider = admin.CreateProvider(name="DID carrier").id
    admin.ImportDids(
        csv="number,provider_id,monthly_cost,monthly_fee,setup_fee,inbound_price\n"
        f"{DID_A},{provider},1.10,2.00,0.50,0.01\n"
        f"{DID_B},{provider},1.10,2.00,0.50,0.01\n"
    )
    return {d.number: d.id for d in admin.ListDids(prefix="3491").items}


class TestDidLookup:
    def test_an_assigned_did_rings_its_owners_peer_and_follows_its_owners_state(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        ids = dids(tree)
        r2.SetTechDetails(account_id=tree.ids["C1"], tech={"sip_username": "c1-phone"})
        r2.AssignDid(did_id=ids[DID_A], account_id=tree.ids["C1"])
        assert ask(session_factory, DID_A)["REASON"] == "NoDestination"
        r2.SetDidDestination(did_id=ids[DID_A], kind="peer", destination="c1-phone")
        got = ask(session_factory, "+" + DID_A)
        assert got == {
            "FOUND": "1",
            "REASON": "OK",
            "KIND": "peer",
            "DEST": "c1-phone",
            "ACCOUNT": str(tree.ids["C1"]),
            "ACCOUNTCODE": "acct1001",
        }
        assert ask(session_factory, DID_A, as_argument=False)["DEST"] == "c1-phone"
        r2.BlockAccount(account_id=tree.ids["C1"], reason="unpaid")
        blocked = ask(session_factory, DID_A)
        assert (blocked["FOUND"], blocked["REASON"], blocked["DEST"]) == ("0", "OwnerInactive", "")
        r2.UnblockAccount(account_id=tree.ids["C1"])
        tree.api("admin").reseller.BlockAccount(account_id=tree.ids["R1"], reason="unpaid")
        assert ask(session_factory, DID_A)["REASON"] == "OwnerInactive"

    def test_an_external_destination_is_a_number_billed_to_the_owner(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        ids = dids(tree)
        r2.AssignDid(did_id=ids[DID_B], account_id=tree.ids["C1"])
        r2.SetDidDestination(did_id=ids[DID_B], kind="external", destination="+34600111222")
        got = ask(session_factory, DID_B)
        assert (got["FOUND"], got["KIND"], got["DEST"], got["ACCOUNTCODE"]) == (
            "1",
            "external",
            "34600111222",
            "acct1001",
        )

    def test_unknown_and_free_numbers_are_refused(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        dids(tree)
        assert ask(session_factory, DID_A)["REASON"] == "NotAssigned"
        for number in ("34919999999", "not-a-number", ""):
            got = ask(session_factory, number)
            assert (got["FOUND"], got["REASON"]) == ("0", "NotADid"), number
