"""The sample Asterisk configuration of docs/asterisk/ parses as Asterisk configuration
and agrees with the code: the realtime families are the views, the contexts are the
ones the endpoints land in, the dialplan calls FastAGI and cuts calls with L()."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ami_listener.fastagi import inbound_variables
from db.asterisk_views import CUSTOMER_CONTEXT, TRUNK_CONTEXT, VIEWS
from services.dids.switch import EXTERNAL_CONTEXT, DidReason, InboundRoute
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


def lines(section: Section) -> str:
    return " ".join(section.all("exten") + section.all("same"))


def test_the_dialplan_has_the_provisioned_contexts_and_bills_through_siptar() -> None:
    dialplan = sections("extensions.conf")
    assert {CUSTOMER_CONTEXT, TRUNK_CONTEXT, "siptar-onnet", "siptar-dial"} <= set(dialplan)
    customers = lines(dialplan[CUSTOMER_CONTEXT])
    assert "AGI(agi://127.0.0.1:4573/authorize" in customers
    assert "Goto(siptar-dial," in customers
    assert "L(${SIPTAR_MAX_SECONDS}000" in lines(dialplan["siptar-dial"])
    assert dialplan[CUSTOMER_CONTEXT].get("include") == "siptar-onnet"


def test_dids_in_ask_siptar_and_map_no_number_by_hand() -> None:
    dialplan = sections("extensions.conf")
    trunks = dialplan[TRUNK_CONTEXT]
    assert "AGI(agi://127.0.0.1:4573/inbound,${EXTEN})" in lines(trunks)
    # One pattern for every DID: no line per number.
    assert [e.split(",")[0] for e in trunks.all("exten")] == ["_X."]
    assert "Dial(${SIPTAR_DIALSTR},60)" in lines(trunks)
    assert "Goto(siptar-pbx,${SIPTAR_DID_DESTINATION},1)" in lines(trunks)
    # An external forward goes through the Local channel into the context switch.py
    # names, which authorizes it as the owner and dials it like any outbound call.
    external = lines(dialplan[EXTERNAL_CONTEXT])
    assert "AGI(agi://127.0.0.1:4573/authorize,${EXTEN},${SIPTAR_OWNER})" in external
    assert "Goto(siptar-dial,${EXTEN},1)" in external
    # Every SIPTAR_* the DID context reads is one route_inbound's answer sets.
    text = (DOCS / "extensions.conf").read_text()
    section = text[text.index(f"[{TRUNK_CONTEXT}]") : text.index(f"[{EXTERNAL_CONTEXT}]")]
    used = set(re.findall(r"\$\{(SIPTAR_[A-Z_]+)\}", section))
    answered = {name for name, _ in inbound_variables(InboundRoute(True, DidReason.OK))}
    assert used and used <= answered, used - answered


def test_the_manager_user_may_send_what_siptar_sends() -> None:
    user = sections("manager.conf")["billing"]
    write = set((user.get("write") or "").split(","))
    assert {"call", "reporting", "system"} <= write  # Hangup, CoreShowChannels, Reload
    assert {"cdr", "call", "system"} <= set((user.get("read") or "").split(","))
