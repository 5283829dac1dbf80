"""ReloadAsterisk and GetSipRegistrations over SOAP, against the AMI replay server
(tests/ami_replay.py) on a real TCP socket: the actions sent and the answers read."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from client import errors
from tests.ami_replay import AmiReplayServer
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
SESSION = Path(__file__).parents[1] / "fixtures" / "ami" / "ami_session_raw.txt"
SECRET = "phone-s3cret-42"
CONTACT = {
    "URI": "sip:c1-phone@192.0.2.10:5062;ob",
    "UserAgent": "Yealink SIP-T46U 108.86.0.20",
    "RegExpire": "1796119200",  # 2026-12-01 10:00:00 UTC
    "ViaAddress": "192.0.2.10:5062",
    "CallID": "a84b4c76e66710",
    "Status": "Reachable",
    "RoundtripUsec": "12345",
}


class ThreadedAmi:
    """The replay server in an event loop of its own thread (the SOAP call is sync)."""

    def __init__(self) -> None:
        self.server = AmiReplayServer(SESSION, only=())  # no events: a quiet Asterisk
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = self._run(self.server.start())

    def _run(self, coro: object) -> int:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def close(self) -> None:
        self._run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def sent(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.server.actions if a.get("action", "").lower() == name.lower()]


@pytest.fixture
def ami() -> Iterator[ThreadedAmi]:
    server = ThreadedAmi()
    yield server
    server.close()


@pytest.fixture
def server_settings(ami: ThreadedAmi) -> dict[str, object]:
    return {"ami_port": ami.port, "ami_user": "billing", "ami_secret": "billing"}


class TestReloadAsterisk:
    def test_the_admin_reloads_res_pjsip(self, tree: Tree, ami: ThreadedAmi) -> None:
        assert tree.api("admin").config.ReloadAsterisk() == "Module Reloaded"
        (reload,) = ami.sent("Reload")
        assert reload["module"] == "res_pjsip.so"

    def test_a_reseller_may_not_and_nothing_is_sent(self, tree: Tree, ami: ThreadedAmi) -> None:
        with pytest.raises(errors.AccessDenied):
            tree.api("R2").config.ReloadAsterisk()
        assert ami.server.connections == 0

    def test_a_refused_login_is_asterisk_unavailable(self, tree: Tree, ami: ThreadedAmi) -> None:
        ami.server.secret = "not-what-siptar-has"
        with pytest.raises(errors.AsteriskUnavailable, match="refused the AMI login"):
            tree.api("admin").config.ReloadAsterisk()
        assert ami.sent("Reload") == []


class TestGetSipRegistrations:
    def test_a_reseller_sees_its_customers_phone_registered(
        self, tree: Tree, ami: ThreadedAmi
    ) -> None:
        r2 = tree.api("R2").reseller
        r2.SetTechDetails(
            account_id=tree.ids["C1"], tech={"sip_username": "c1-phone", "sip_secret": SECRET}
        )
        ami.server.endpoints["c1-phone"] = [CONTACT]
        got = r2.GetSipRegistrations(account_id=tree.ids["C1"])
        assert (got.account_id, got.endpoint, got.provisioned, got.registered) == (
            tree.ids["C1"],
            "c1-phone",
            True,
            True,
        )
        (contact,) = got.contacts
        assert (contact.uri, contact.status, contact.user_agent) == (
            CONTACT["URI"],
            "Reachable",
            CONTACT["UserAgent"],
        )
        assert contact.expires_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        assert (contact.via_address, contact.roundtrip_usec) == ("192.0.2.10:5062", 12345)
        (show,) = ami.sent("PJSIPShowEndpoint")
        assert show["endpoint"] == "c1-phone"

    def test_known_but_not_registered_and_unknown_to_asterisk(
        self, tree: Tree, ami: ThreadedAmi
    ) -> None:
        r2 = tree.api("R2").reseller
        r2.SetTechDetails(
            account_id=tree.ids["C1"], tech={"sip_username": "c1-phone", "sip_secret": SECRET}
        )
        ami.server.endpoints["c1-phone"] = []
        idle = r2.GetSipRegistrations(account_id=tree.ids["C1"])
        assert (idle.provisioned, idle.registered, idle.contacts) == (True, False, [])
        del ami.server.endpoints["c1-phone"]
        gone = r2.GetSipRegistrations(account_id=tree.ids["C1"])
        assert (gone.provisioned, gone.registered) == (False, False)

    def test_an_account_without_a_sip_name_asks_asterisk_nothing(
        self, tree: Tree, ami: ThreadedAmi
    ) -> None:
        got = tree.api("C1").reseller.GetSipRegistrations()
        assert (got.account_id, got.endpoint, got.provisioned) == (tree.ids["C1"], None, False)
        assert ami.server.connections == 0

    def test_outside_the_subtree_is_not_found(self, tree: Tree, ami: ThreadedAmi) -> None:
        with pytest.raises(errors.NotFound):
            tree.api("R2").reseller.GetSipRegistrations(account_id=tree.ids["XC"])
        assert ami.server.connections == 0
