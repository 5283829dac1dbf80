"""Outbound registration of trunks over SOAP (zeep, real HTTP): SetTrunkRegistration
makes the ps_registrations row and the trunk's outbound auth (md5_cred only, for the
provider's realm); the secret is never answered; bad input changes nothing; a disabled
provider's registration leaves at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from client import errors
from db.asterisk_views import VIEWS
from tests.asterisk.test_provisioning_views import rows
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
VIEW = {v.name: v for v in VIEWS}
SECRET = "carrier-pass-9"
REG = {
    "server_uri": "sip:reg.carrier3.example:5060",
    "username": "siptar77",
    "secret": SECRET,
    "realm": "carrier3.example",
}


def make_trunk(tree: Tree) -> tuple[int, int]:
    config = tree.api("admin").config
    provider = config.CreateProvider(name="Carrier Three").id
    trunk = config.CreateTrunk(
        trunk={
            "provider_id": provider,
            "name": "carrier3",
            "dial_string": "PJSIP/${NUMBER}@carrier3",
            "sip_host": "sip.carrier3.example",
        }
    )
    return provider, trunk.id


class TestTrunkRegistration:
    def test_a_registration_is_a_ps_registrations_row_with_an_md5_outbound_auth(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        _provider, trunk = make_trunk(tree)
        config = tree.api("admin").config
        assert config.GetTrunkRegistration(trunk_id=trunk).registered is False
        answer = config.SetTrunkRegistration(trunk_id=trunk, registration=REG)
        assert (answer.registered, answer.secret_set, answer.expiration) == (True, True, 3600)
        assert answer.username == "siptar77" and not hasattr(answer, "secret")
        (reg,) = rows(backend, session_factory, VIEW["ps_registrations"])
        assert reg == {
            "id": "carrier3",
            "server_uri": "sip:reg.carrier3.example:5060",
            "client_uri": "sip:siptar77@sip.carrier3.example",
            "contact_user": "siptar77",
            "outbound_auth": "carrier3",
            "retry_interval": 60,
            "forbidden_retry_interval": 300,
            "expiration": 3600,
            "line": "yes",
            "endpoint": "carrier3",
        }
        (auth,) = rows(backend, session_factory, VIEW["ps_auths"])
        ha1 = hashlib.md5(f"siptar77:carrier3.example:{SECRET}".encode()).hexdigest()
        assert auth == {
            "id": "carrier3",
            "auth_type": "md5",
            "md5_cred": ha1,
            "realm": "carrier3.example",
            "username": "siptar77",
        }
        (endpoint,) = rows(backend, session_factory, VIEW["ps_endpoints"])
        assert (endpoint["outbound_auth"], endpoint["auth"]) == ("carrier3", None)
        with session_factory() as s:  # the plain secret is stored nowhere
            dump = str(s.execute(text("SELECT * FROM trunk_registrations")).all())
        assert SECRET not in dump

    def test_changing_name_or_realm_needs_the_secret_and_bad_fields_change_nothing(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        _provider, trunk = make_trunk(tree)
        config = tree.api("admin").config
        config.SetTrunkRegistration(trunk_id=trunk, registration=REG)
        before = rows(backend, session_factory, VIEW["ps_auths"])
        for change, match in (
            ({"realm": "other.example", "secret": None}, "needs the secret"),
            ({"server_uri": "http://reg.carrier3.example"}, "server_uri"),
            ({"username": "has space"}, "username"),
            ({"expiration": 5}, "expiration"),
            ({"secret": "two words"}, "secret"),
        ):
            with pytest.raises(errors.InvalidInput, match=match):
                config.SetTrunkRegistration(trunk_id=trunk, registration=REG | change)
        assert rows(backend, session_factory, VIEW["ps_auths"]) == before
        kept = config.SetTrunkRegistration(
            trunk_id=trunk, registration=REG | {"secret": None, "expiration": 600}
        )
        assert (kept.expiration, kept.secret_set) == (600, True)
        assert rows(backend, session_factory, VIEW["ps_auths"]) == before
        with pytest.raises(errors.NotFound):
            config.SetTrunkRegistration(trunk_id=trunk + 99, registration=REG)

    def test_disabling_the_provider_or_removing_it_takes_the_registration_out(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        _provider, trunk = make_trunk(tree)
        config = tree.api("admin").config
        config.SetTrunkRegistration(trunk_id=trunk, registration=REG)
        with session_factory() as s:  # issue 17 brings the SOAP call; the column is there
            s.execute(text("UPDATE providers SET status = 'disabled'"))
            s.commit()
        assert rows(backend, session_factory, VIEW["ps_registrations"]) == []
        with session_factory() as s:
            s.execute(text("UPDATE providers SET status = 'active'"))
            s.commit()
        assert len(rows(backend, session_factory, VIEW["ps_registrations"])) == 1
        gone = config.SetTrunkRegistration(trunk_id=trunk, registration={"server_uri": ""})
        assert gone.registered is False
        assert rows(backend, session_factory, VIEW["ps_registrations"]) == []
        assert rows(backend, session_factory, VIEW["ps_auths"]) == []

    def test_a_reseller_may_not_touch_registrations(self, tree: Tree, backend: str) -> None:
        _provider, trunk = make_trunk(tree)
        with pytest.raises(errors.AccessDenied):
            tree.api("R1").config.SetTrunkRegistration(trunk_id=trunk, registration=REG)
        with pytest.raises(errors.AccessDenied):
            tree.api("R1").config.GetTrunkRegistration(trunk_id=trunk)
