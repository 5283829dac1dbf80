"""What Asterisk's PJSIP realtime reads: on PostgreSQL the views of migration 0018 have
Asterisk 22's column names and types (tests/fixtures/asterisk/asterisk22_pjsip_columns.txt,
with its sources), and on both databases an account created, blocked or closed through
SOAP is in them, or out of them, at once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from db.asterisk_views import VIEWS, View
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
DEFINITION = Path(__file__).parents[1] / "fixtures" / "asterisk" / "asterisk22_pjsip_columns.txt"
SECRET = "phone-s3cret-42"


def asterisk22() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for line in DEFINITION.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            table, column, type_, _revision = line.split()
            tables.setdefault(table, {})[column] = type_
    return tables


def view_columns(session_factory: Callable[[], Session], name: str) -> dict[str, str]:
    with session_factory() as s:
        rows = s.execute(
            text(
                "SELECT column_name, data_type, udt_name, character_maximum_length "
                "FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
            ),
            {"t": name},
        ).all()
    names = {"character varying": "VARCHAR", "integer": "INTEGER", "text": "TEXT"}
    columns = {}
    for column, data_type, udt, length in rows:
        type_ = udt if data_type == "USER-DEFINED" else names.get(data_type, data_type)
        columns[column] = f"{type_}({length})" if length else type_
    return columns


def rows(backend: str, session_factory: Callable[[], Session], view: View) -> list[dict]:
    """What Asterisk would read: the view on PostgreSQL, the same select on SQLite."""
    with session_factory() as s:
        if backend == "postgresql":
            result = s.execute(text(f"SELECT * FROM {view.name} ORDER BY id"))
        else:
            result = s.execute(view.select(False))
        return sorted((dict(r) for r in result.mappings()), key=lambda r: str(r["id"]))


def ids(backend: str, session_factory: Callable[[], Session]) -> dict[str, list[str]]:
    return {v.name: [r["id"] for r in rows(backend, session_factory, v)] for v in VIEWS}


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_views_have_asterisk_22s_columns_and_types(
    backend: str, session_factory: Callable[[], Session]
) -> None:
    expected = asterisk22()
    assert set(expected) == {v.name for v in VIEWS}
    for name, columns in expected.items():
        assert view_columns(session_factory, name) == columns, name


class TestProvisioning:
    def test_an_account_with_a_sip_name_and_secret_is_an_endpoint_auth_and_aor(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        assert ids(backend, session_factory)["ps_endpoints"] == []
        tree.api("R2").reseller.SetTechDetails(
            account_id=tree.ids["C1"], tech={"sip_username": "c1-phone", "sip_secret": SECRET}
        )
        (endpoint,) = rows(backend, session_factory, VIEWS[0])
        assert endpoint["id"] == endpoint["aors"] == endpoint["auth"] == "c1-phone"
        assert endpoint["accountcode"] == "acct1001"
        assert endpoint["context"] == "siptar-customers"
        assert endpoint["set_var"] == f"SIPTAR_ACCOUNT_ID={tree.ids['C1']}"
        (auth,) = rows(backend, session_factory, VIEWS[1])
        assert (auth["auth_type"], auth["username"], auth["realm"]) == ("md5", "c1-phone", "siptar")
        assert len(auth["md5_cred"]) == 32 and SECRET not in auth.values()
        (aor,) = rows(backend, session_factory, VIEWS[2])
        assert (aor["id"], aor["max_contacts"]) == ("c1-phone", 1)

    def test_blocking_closing_and_blocking_above_take_it_out_at_once(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2, admin = tree.api("R2").reseller, tree.api("admin").reseller
        for who, phone in (("C1", "c1-phone"), ("C2", "c2-phone")):
            r2.SetTechDetails(
                account_id=tree.ids[who], tech={"sip_username": phone, "sip_secret": SECRET}
            )
        both = ["c1-phone", "c2-phone"]
        assert ids(backend, session_factory)["ps_auths"] == both
        r2.BlockAccount(account_id=tree.ids["C1"], reason="unpaid")
        assert all(
            found == ["c2-phone"] for found in ids(backend, session_factory).values() if found
        )
        r2.UnblockAccount(account_id=tree.ids["C1"])
        assert ids(backend, session_factory)["ps_endpoints"] == both
        admin.BlockAccount(account_id=tree.ids["R1"], reason="reseller unpaid")
        assert ids(backend, session_factory)["ps_endpoints"] == []
        admin.UnblockAccount(account_id=tree.ids["R1"])
        r2.CloseAccount(account_id=tree.ids["C2"], reason="left")
        found = ids(backend, session_factory)
        assert (found["ps_endpoints"], found["ps_auths"], found["ps_aors"]) == (
            ["c1-phone"],
            ["c1-phone"],
            ["c1-phone"],
        )

    def test_a_trunk_with_a_host_is_an_endpoint_identified_by_that_host(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        config = tree.api("admin").config
        provider = config.CreateProvider(name="Carrier Two").id
        config.CreateTrunk(
            trunk={
                "provider_id": provider,
                "name": "carrier2",
                "dial_string": "PJSIP/${NUMBER}@carrier2",
                "sip_host": "sip.carrier2.example",
            }
        )
        config.CreateTrunk(
            trunk={"provider_id": provider, "name": "no host", "dial_string": "SIP/${NUMBER}"}
        )
        (endpoint,) = rows(backend, session_factory, VIEWS[0])
        assert (endpoint["id"], endpoint["auth"], endpoint["context"]) == (
            "carrier2",
            None,
            "siptar-from-trunks",
        )
        (aor,) = rows(backend, session_factory, VIEWS[2])
        assert aor["contact"] == "sip:sip.carrier2.example"
        (identify,) = rows(backend, session_factory, VIEWS[3])
        assert (identify["endpoint"], identify["match"]) == ("carrier2", "sip.carrier2.example")

    def test_a_trunk_disabled_or_retired_over_soap_leaves_every_view_at_once(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        config = tree.api("admin").config
        provider = config.CreateProvider(name="Carrier Three").id
        trunks = {
            name: config.CreateTrunk(
                trunk={
                    "provider_id": provider,
                    "name": name,
                    "dial_string": f"PJSIP/${{NUMBER}}@{name}",
                    "sip_host": f"sip.{name}.example",
                }
            ).id
            for name in ("kept", "paused", "gone")
        }
        every = {"ps_endpoints", "ps_aors", "ps_endpoint_id_ips"}
        config.UpdateTrunk(trunk_id=trunks["paused"], changes={"status": "disabled"})
        config.UpdateTrunk(trunk_id=trunks["gone"], changes={"status": "retired"})
        shown = ids(backend, session_factory)
        for view in every:
            assert [i for i in shown[view] if not i.startswith("kept")] == [], view
            assert len(shown[view]) == 1, view
        config.UpdateTrunk(trunk_id=trunks["paused"], changes={"status": "active"})
        assert sorted(ids(backend, session_factory)["ps_endpoints"]) == ["kept", "paused"]
        # A disabled provider takes all its trunks out, whatever their own status.
        config.UpdateProvider(provider_id=provider, changes={"status": "disabled"})
        assert ids(backend, session_factory)["ps_endpoints"] == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_role_granted_the_views_reads_them_and_nothing_of_the_billing(
    backend: str, session_factory: Callable[[], Session]
) -> None:
    """README step 2: Asterisk's database login sees the provisioning rows only (views
    run with their owner's rights), never a balance or a password hash."""
    role = f"asterisk_{uuid.uuid4().hex[:8]}"
    views = ", ".join(v.name for v in VIEWS)
    with session_factory() as s:
        s.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        s.execute(text(f"GRANT SELECT ON {views} TO {role}"))
        s.commit()
        try:
            s.execute(text(f"SET ROLE {role}"))
            for view in VIEWS:
                s.execute(text(f"SELECT * FROM {view.name}")).all()
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text("SELECT password_hash FROM logins"))
            s.rollback()
            s.execute(text(f"SET ROLE {role}"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                s.execute(text("SELECT balance FROM accounts"))
        finally:
            s.rollback()
            s.execute(text("RESET ROLE"))
            s.execute(text(f"DROP OWNED BY {role}"))
            s.execute(text(f"DROP ROLE {role}"))
            s.commit()
