"""IP-authenticated customers over SOAP (zeep, real HTTP): SetSourceIps puts the
account's networks in ps_endpoint_id_ips at once, validated; a bad list changes nothing;
blocking takes them out at once. On PostgreSQL the rows are read from the views."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from client import errors
from db.asterisk_views import VIEWS
from tests.asterisk.test_provisioning_views import SECRET, rows
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
VIEW = {v.name: v for v in VIEWS}


def identifies(backend: str, factory: Callable[[], Session]) -> list[tuple[str, str]]:
    return sorted(
        (r["endpoint"], r["match"]) for r in rows(backend, factory, VIEW["ps_endpoint_id_ips"])
    )


class TestSourceIps:
    def test_an_account_named_by_its_addresses_is_an_endpoint_without_a_digest(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        c1 = tree.ids["C1"]
        r2.SetTechDetails(account_id=c1, tech={"sip_username": "c1-pbx"})
        assert rows(backend, session_factory, VIEW["ps_endpoints"]) == []  # no secret, no IP
        stored = r2.SetSourceIps(account_id=c1, ips=["198.51.100.7", " 2001:db8:7::/48 "])
        assert stored == ["198.51.100.7/32", "2001:db8:7::/48"]
        assert r2.GetSourceIps(account_id=c1) == stored
        assert identifies(backend, session_factory) == [
            ("c1-pbx", "198.51.100.7/32"),
            ("c1-pbx", "2001:db8:7::/48"),
        ]
        (endpoint,) = rows(backend, session_factory, VIEW["ps_endpoints"])
        assert (endpoint["id"], endpoint["auth"], endpoint["accountcode"]) == (
            "c1-pbx",
            None,
            "acct1001",
        )
        assert rows(backend, session_factory, VIEW["ps_auths"]) == []
        # A secret as well: it may register too, with its digest.
        r2.SetTechDetails(account_id=c1, tech={"sip_secret": SECRET})
        (endpoint,) = rows(backend, session_factory, VIEW["ps_endpoints"])
        assert endpoint["auth"] == "c1-pbx"
        assert (r2.SetSourceIps(account_id=c1, ips=[]) or []) == []  # zeep: empty is None
        assert identifies(backend, session_factory) == []

    def test_bad_overlapping_or_too_wide_networks_are_refused_and_change_nothing(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2 = tree.api("R2").reseller
        c1, c2 = tree.ids["C1"], tree.ids["C2"]
        for who, name in ((c1, "c1-pbx"), (c2, "c2-pbx")):
            r2.SetTechDetails(account_id=who, tech={"sip_username": name})
        r2.SetSourceIps(account_id=c1, ips=["192.0.2.0/28"])
        before = identifies(backend, session_factory)
        for bad, fault, text in (
            (["192.0.2.300"], errors.InvalidInput, "not an address"),
            (["192.0.2.1/24"], errors.InvalidInput, "host bits"),
            (["10.0.0.0/8"], errors.InvalidInput, "wider than /16"),
            (["192.0.2.5"], errors.AlreadyExists, "overlaps"),
            (["203.0.113.9", "192.0.2.0/24"], errors.AlreadyExists, "overlaps"),
        ):
            with pytest.raises(fault, match=text):
                r2.SetSourceIps(account_id=c2, ips=bad)
        assert identifies(backend, session_factory) == before
        assert (r2.GetSourceIps(account_id=c2) or []) == []

    def test_blocking_the_account_or_one_above_it_takes_its_addresses_out_at_once(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2, admin = tree.api("R2").reseller, tree.api("admin").reseller
        c1 = tree.ids["C1"]
        r2.SetTechDetails(account_id=c1, tech={"sip_username": "c1-pbx"})
        r2.SetSourceIps(account_id=c1, ips=["198.51.100.7"])
        r2.BlockAccount(account_id=c1, reason="unpaid")
        assert identifies(backend, session_factory) == []
        assert rows(backend, session_factory, VIEW["ps_endpoints"]) == []
        r2.UnblockAccount(account_id=c1)
        assert identifies(backend, session_factory) == [("c1-pbx", "198.51.100.7/32")]
        admin.BlockAccount(account_id=tree.ids["R1"], reason="reseller unpaid")
        assert identifies(backend, session_factory) == []

    def test_an_account_cannot_set_its_own_addresses_and_needs_a_sip_name(
        self, tree: Tree, backend: str
    ) -> None:
        with pytest.raises(errors.AccessDenied):
            tree.api("C1").reseller.SetSourceIps(account_id=tree.ids["C1"], ips=["192.0.2.1"])
        with pytest.raises(errors.InvalidInput, match="sip_username"):
            tree.api("R2").reseller.SetSourceIps(account_id=tree.ids["C2"], ips=["192.0.2.1"])
