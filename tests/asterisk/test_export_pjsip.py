"""`siptar asterisk export-pjsip`: the rows of the provisioning views as a pjsip.conf
include (SQLite installs), on both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import cli
from db.provisioning_schema import AccountSourceIp, TrunkRegistration
from db.schema import Account, Provider, Trunk
from db.session import UnitOfWork
from tests.asterisk.asterisk_conf import parse

pytestmark = pytest.mark.integration
HA1 = "0123456789abcdef0123456789abcdef"


def _accounts(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        s = u.session
        root = Account(role="admin", name="Operator", path="")
        s.add(root)
        s.flush()
        root.path = f"/{root.id}/"
        for name, status in (("desk-1", "active"), ("desk-2", "blocked"), ("desk-3", "closed")):
            a = Account(role="customer", name=name, parent_id=root.id, status=status)
            a.sip_username, a.sip_md5_cred, a.accountcode = name, HA1, f"acct-{name}"
            s.add(a)
            s.flush()
            a.path = f"{root.path}{a.id}/"
        s.add(Account(role="customer", name="no secret", path="/x/", sip_username="desk-4"))
        provider = Provider(name="Carrier")
        s.add(provider)
        s.flush()
        s.add(
            Trunk(
                provider_id=provider.id,
                name="carrier1",
                dial_string="PJSIP/${NUMBER}@carrier1",
                sip_host="203.0.113.7",
            )
        )
        # Trunks taken out of routing (UpdateTrunk) are not offered to Asterisk either.
        for number, status in ((8, "disabled"), (9, "retired")):
            s.add(
                Trunk(
                    provider_id=provider.id,
                    name=f"{status}-trunk",
                    dial_string=f"PJSIP/${{NUMBER}}@{status}",
                    sip_host=f"203.0.113.{number}",
                    status=status,
                )
            )
        u.commit()


def test_the_include_holds_the_provisioned_accounts_and_trunks(
    uow: Callable[[], UnitOfWork], database_url: str, tmp_path: Path
) -> None:
    _accounts(uow)
    out = tmp_path / "asterisk" / "pjsip_siptar.conf"
    cli.main(["asterisk", "export-pjsip", "--database-url", database_url, "--out", str(out)])
    includes, sections = parse(out.read_text())
    assert includes == []
    by_type = {(s.get("type"), s.name): s for s in sections}
    assert sorted(by_type) == [
        ("aor", "carrier1"),
        ("aor", "desk-1"),
        ("auth", "desk-1"),
        ("endpoint", "carrier1"),
        ("endpoint", "desk-1"),
        ("identify", "carrier1"),
    ]
    endpoint = by_type["endpoint", "desk-1"]
    assert (endpoint.get("auth"), endpoint.get("aors")) == ("desk-1", "desk-1")
    assert (endpoint.get("accountcode"), endpoint.get("context")) == (
        "acct-desk-1",
        "siptar-customers",
    )
    assert endpoint.get("callerid") is None  # no caller ID bound: nothing written
    auth = by_type["auth", "desk-1"]
    assert (auth.get("auth_type"), auth.get("md5_cred"), auth.get("realm")) == (
        "md5",
        HA1,
        "siptar",
    )
    assert auth.get("password") is None
    assert by_type["aor", "carrier1"].get("contact") == "sip:203.0.113.7"
    assert by_type["identify", "carrier1"].get("match") == "203.0.113.7"
    assert out.stat().st_mode & 0o777 == 0o640


def test_the_include_holds_registrations_and_customers_source_networks(
    uow: Callable[[], UnitOfWork], database_url: str, tmp_path: Path
) -> None:
    _accounts(uow)
    with uow() as u:
        s = u.session
        desk1 = s.query(Account).filter_by(sip_username="desk-1").one()
        s.add(AccountSourceIp(account_id=desk1.id, network="198.51.100.0/29"))
        trunk = s.query(Trunk).filter_by(name="carrier1").one()
        s.add(
            TrunkRegistration(
                trunk_id=trunk.id,
                server_uri="sip:reg.carrier1.example",
                username="u1",
                realm="carrier1.example",
                md5_cred=HA1,
            )
        )
        u.commit()
        ip_id = s.query(AccountSourceIp).one().id
    out = tmp_path / "pjsip_siptar.conf"
    cli.main(["asterisk", "export-pjsip", "--database-url", database_url, "--out", str(out)])
    _includes, sections = parse(out.read_text())
    by_type = {(s.get("type"), s.name): s for s in sections}
    registration = by_type["registration", "carrier1"]
    assert (registration.get("server_uri"), registration.get("outbound_auth")) == (
        "sip:reg.carrier1.example",
        "carrier1",
    )
    assert (registration.get("line"), registration.get("endpoint")) == ("yes", "carrier1")
    assert by_type["auth", "carrier1"].get("md5_cred") == HA1
    assert by_type["endpoint", "carrier1"].get("outbound_auth") == "carrier1"
    identify = by_type["identify", f"desk-1-ip{ip_id}"]
    assert (identify.get("endpoint"), identify.get("match")) == ("desk-1", "198.51.100.0/29")
