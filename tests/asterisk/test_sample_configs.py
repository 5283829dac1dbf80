"""The sample Asterisk configuration of docs/asterisk/ parses as Asterisk configuration
and agrees with the code: the realtime families are the views, the contexts are the
ones the endpoints land in, the dialplan calls FastAGI and cuts calls with L()."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.asterisk_views import CUSTOMER_CONTEXT, TRUNK_CONTEXT, VIEWS
from tests.asterisk.asterisk_conf import Section, parse

DOCS = Path(__file__).parents[2] / "docs" / "asterisk"


def sections(name: str) -> dict[str, Section]:
    _includes, found = parse((DOCS / name).read_text())
    return {s.name: s for s in found}


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.conf")), ids=lambda p: p.name)
def test_every_sample_parses(path: Path) -> None:
    _includes, found = parse(path.read_text())
    assert found, path.name


def test_the_parser_refuses_what_asterisk_would() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse("[a]\nthis is not a setting\n")
    with pytest.raises(ValueError, match="line 1"):
        parse("key = value before any section\n")


def test_extconfig_and_sorcery_map_every_view_and_nothing_writable() -> None:
    families = dict(sections("extconfig.conf")["settings"].options)
    assert set(families) == {v.name for v in VIEWS}
    for view in VIEWS:
        assert families[view.name] == f"pgsql,siptar,{view.name}"
    sorcery = sections("sorcery.conf")
    mapped = (
        dict(sorcery["res_pjsip"].options)
        | dict(sorcery["res_pjsip_endpoint_identifier_ip"].options)
        | dict(sorcery["res_pjsip_outbound_registration"].options)
    )
    for view in VIEWS:
        assert mapped[view.section_type] == f"realtime,{view.name}"
    assert mapped["contact"].startswith("astdb")  # registrations are not ours to store


def test_the_dialplan_has_the_provisioned_contexts_and_bills_through_siptar() -> None:
    dialplan = sections("extensions.conf")
    assert {CUSTOMER_CONTEXT, TRUNK_CONTEXT, "siptar-onnet"} <= set(dialplan)
    customers = " ".join(dialplan[CUSTOMER_CONTEXT].all("exten"))
    customers += " " + " ".join(dialplan[CUSTOMER_CONTEXT].all("same"))
    assert "AGI(agi://127.0.0.1:4573/authorize" in customers
    assert "L(${SIPTAR_MAX_SECONDS}000" in customers
    assert dialplan[CUSTOMER_CONTEXT].get("include") == "siptar-onnet"


def test_the_manager_user_may_send_what_siptar_sends() -> None:
    user = sections("manager.conf")["billing"]
    write = set((user.get("write") or "").split(","))
    assert {"call", "reporting", "system"} <= write  # Hangup, CoreShowChannels, Reload
    assert {"cdr", "call", "system"} <= set((user.get("read") or "").split(","))
