"""The switch asks where a call to a DID goes (FastAGI `inbound` over a real TCP socket):
a suspended DID is refused until a payment covers its fee, free and quarantined numbers
are refused with their reason, and each kind of destination is handed to the dialplan.
An `external` destination's outbound leg is an outbound call of the DID's owner: both
legs replayed over AMI are charged, the inbound one at the DID's inbound prices and the
outbound one at each level's sheet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import Subscription
from db.schema import Account, Cdr, Charge, Login
from services.billing import usecases as billing
from services.dids import assignment
from services.recurring.charging import charge_due
from tests.ami_synth import BANNER
from tests.credit.builders import sheet
from tests.credit.test_fastagi import agi_call, environment, running_agi
from tests.e2e.test_ami_to_services import replay
from tests.recurring.conftest import Tree, at
from tests.recurring.test_charging import charges as rows
from tests.recurring.test_inbound_did import inbound_event
from tests.recurring.test_peer_failures import assign, new_did

D = Decimal


@pytest.fixture
async def agi(session_factory: Callable[[], Session]) -> AsyncIterator[int]:
    async with running_agi(session_factory) as port:
        yield port


async def inbound(port: int, number: str) -> dict[str, str]:
    env = environment(
        agi_network_script="inbound",
        agi_channel="PJSIP/didcarrier-00000001",
        agi_extension=number,
        agi_accountcode="",
    )
    return await agi_call(port, env)


def set_fields(tree: Tree, name: str, **fields: object) -> None:
    with tree.uow() as u:
        u.session.execute(update(Account).where(Account.id == tree.ids[name]).values(**fields))
        u.commit()


def subscription_status(tree: Tree, sub: int) -> str:
    with tree.uow() as u:
        found = u.session.get(Subscription, sub)
        assert found is not None
        return found.status


def pay(tree: Tree, amount: str) -> None:
    """AddPayment's use case, by R2's login (the ledger row names it)."""
    with tree.uow() as u:
        login = u.session.scalar(select(Login).where(Login.account_id == tree.ids["R2"]))
        if login is None:
            login = Login(account_id=tree.ids["R2"], username="r2-desk", password_hash="-")
            u.session.add(login)
            u.commit()
        caller = replace(tree.caller("R2"), login_id=login.id)
        billing.add_payment(u, caller, tree.ids["C"], D(amount), "cash at the desk")


async def test_an_unpaid_did_is_refused_until_a_payment_covers_it_then_routed_again(
    tree: Tree, session_factory: sessionmaker[Session], agi: int
) -> None:
    set_fields(tree, "C", sip_username="c-phone")
    did = new_did(tree)  # 5.00 a month and 1.00 setup for C; C's balance is 0
    sub = assign(tree, did, "2027-01-10 09:00")
    routed = await inbound(agi, "34910000001")
    assert (routed["SIPTAR_ALLOWED"], routed["SIPTAR_DIALSTR"]) == ("1", "PJSIP/c-phone")

    charge_due(session_factory, at("2027-01-10 09:05"))  # C can't pay: suspended
    assert subscription_status(tree, sub) == "suspended"
    refused = await inbound(agi, "34910000001")
    assert (refused["SIPTAR_ALLOWED"], refused["SIPTAR_REASON"]) == ("0", "DidSuspended")
    assert refused["SIPTAR_DIALSTR"] == ""

    pay(tree, "4.00")  # not enough for 6.00: still refused, nothing paid
    assert subscription_status(tree, sub) == "suspended"
    assert (await inbound(agi, "34910000001"))["SIPTAR_REASON"] == "DidSuspended"
    assert tree.balance("C") == D("4.00")

    pay(tree, "2.00")  # covers the debt: paid at once, not at the job's next run
    assert subscription_status(tree, sub) == "active"
    customer = sorted(
        (r.what, r.amount, r.status) for r in rows(session_factory, sub) if r.level == 0
    )
    assert customer == [("fee", D("5.00"), "paid"), ("setup", D("1.00"), "paid")]
    assert tree.balance("C") == D("0.00") == tree.ledger_sum("C")
    again = await inbound(agi, "34910000001")
    assert (again["SIPTAR_ALLOWED"], again["SIPTAR_REASON"]) == ("1", "OK")
    assert (again["SIPTAR_DID_KIND"], again["SIPTAR_DIALSTR"]) == ("peer", "PJSIP/c-phone")


async def test_free_quarantined_unknown_and_blocked_dids_are_refused_with_their_reason(
    tree: Tree, agi: int
) -> None:
    new_did(tree, "34910000002")
    released = new_did(tree, "34910000003")
    tree.pay("C", D("50"))
    assign(tree, released, "2027-01-10 09:00")
    with tree.uow() as u:
        assignment.release_did(u, tree.caller("R2"), released, 30, at("2027-01-11 09:00"))
    blocked = new_did(tree, "34910000004")
    assign(tree, blocked, "2027-01-10 09:00")
    set_fields(tree, "R2", status="blocked")
    got = {
        n: await inbound(agi, n) for n in ("34910000002", "34910000003", "349999", "34910000004")
    }
    assert {n: (v["SIPTAR_ALLOWED"], v["SIPTAR_REASON"]) for n, v in got.items()} == {
        "34910000002": ("0", "DidNotAssigned"),
        "34910000003": ("0", "DidInQuarantine"),
        "349999": ("0", "UnknownDid"),
        "34910000004": ("0", "AccountBlocked"),
    }


async def test_each_destination_kind_is_handed_to_the_dialplan(tree: Tree, agi: int) -> None:
    tree.pay("C", D("50"))
    did = new_did(tree)
    assign(tree, did, "2027-01-10 09:00")
    no_peer = await inbound(agi, "34910000001")  # no destination, and C has no SIP peer
    assert (no_peer["SIPTAR_ALLOWED"], no_peer["SIPTAR_REASON"]) == ("0", "NoDestination")
    with tree.uow() as u:
        assignment.set_destination(
            u, tree.caller("R2"), did, "extension", "204", at("2027-01-10 10:00")
        )
    ext = await inbound(agi, "34910000001")
    assert (ext["SIPTAR_ALLOWED"], ext["SIPTAR_DID_KIND"], ext["SIPTAR_DID_DESTINATION"]) == (
        "1",
        "extension",
        "204",
    )
    set_fields(tree, "C", accountcode="c-code")
    with tree.uow() as u:
        assignment.set_destination(
            u, tree.caller("R2"), did, "external", "+34600999888", at("2027-01-10 10:00")
        )
    ext = await inbound(agi, "34910000001")
    assert {k: ext[k] for k in ext if k.startswith("SIPTAR_")} == {
        "SIPTAR_ALLOWED": "1",
        "SIPTAR_REASON": "OK",
        "SIPTAR_DID": "34910000001",
        "SIPTAR_DID_KIND": "external",
        "SIPTAR_DID_DESTINATION": "34600999888",
        "SIPTAR_DIALSTR": "Local/34600999888@siptar-did-external",
        "SIPTAR_DID_ACCOUNT": "c-code",
        "SIPTAR_ACCOUNTCODE": "c-code",
    }


def outbound_leg(uniqueid: str, accountcode: str, number: str, billsec: int) -> str:
    """The Local channel's half that dials the trunk: its own CDR, the owner's code."""
    event = inbound_event(uniqueid, number, billsec)
    return (
        event.replace("AccountCode: \r\n", f"AccountCode: {accountcode}\r\n")
        .replace("PJSIP/didcarrier-00000001", "Local/34600999888@siptar-did-external-0001;2")
        .replace("DestinationContext: from-carrier", "DestinationContext: siptar-did-external")
    )


async def test_an_external_destinations_outbound_leg_is_charged_to_the_owner_over_ami(
    tree: Tree, session_factory: sessionmaker[Session], agi: int, tmp_path: Path
) -> None:
    with tree.uow() as u:  # per-minute sheets for the outbound leg, one per level
        sheets = {
            who: sheet(u, f"sheet {who}", {"346": price}, owner_id=tree.ids["admin"])
            for who, price in (("R1", "0.0500"), ("R2", "0.0700"), ("C", "0.1000"))
        }
    for who, sheet_id in sheets.items():
        set_fields(tree, who, rate_sheet_id=sheet_id)
    set_fields(tree, "C", accountcode="c-code")
    tree.pay("C", D("50"))
    did = new_did(tree)  # inbound: 0.01/min for every level (no reseller set its own)
    assign(tree, did, "2027-01-10 09:00")
    with tree.uow() as u:
        assignment.set_destination(
            u, tree.caller("R2"), did, "external", "34600999888", at("2027-01-10 10:00")
        )
    answer = await inbound(agi, "34910000001")
    assert answer["SIPTAR_ALLOWED"] == "1"
    path = tmp_path / "forward.txt"
    path.write_text(
        BANNER
        + inbound_event("1900000001.1", "34910000001", 125)  # the carrier's leg
        + outbound_leg("1900000001.2", answer["SIPTAR_ACCOUNTCODE"], "34600999888", 120),
        newline="",
    )
    await replay(session_factory, path, events=2)
    with session_factory() as s:
        cdrs = {c.uniqueid: c for c in s.scalars(select(Cdr))}
        assert {u: (c.status, c.account_id) for u, c in cdrs.items()} == {
            "1900000001.1": ("rated", tree.ids["C"]),
            "1900000001.2": ("rated", tree.ids["C"]),
        }

        def levels(uniqueid: str) -> list[tuple[int | None, int | None, Decimal]]:
            charges = s.scalars(
                select(Charge).where(Charge.cdr_id == cdrs[uniqueid].id).order_by(Charge.level)
            )
            return [(c.account_id, c.sheet_id, c.cost) for c in charges]

        ids = tree.ids
        assert levels("1900000001.1") == [  # inbound: 3 minutes at 0.01, the provider 0.002
            (ids["C"], None, D("0.0300")),
            (ids["R2"], None, D("0.0300")),
            (ids["R1"], None, D("0.0300")),
            (None, None, D("0.0060")),
        ]
        assert levels("1900000001.2") == [  # outbound: 2 minutes at each level's sheet
            (ids["C"], sheets["C"], D("0.2000")),
            (ids["R2"], sheets["R2"], D("0.1400")),
            (ids["R1"], sheets["R1"], D("0.1000")),
        ]
    assert tree.balance("C") == tree.ledger_sum("C")
