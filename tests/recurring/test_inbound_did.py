"""An inbound call to a DID, replayed over AMI (a real TCP socket into the listener):
the owner and each level above pay their own inbound price, the provider's inbound
cost is recorded, the profit per level is exact; a call to an unassigned DID is stored
unrated with the reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.schema import Cdr, Charge, LedgerEntry
from services.dids import assignment
from tests.ami_synth import BANNER
from tests.e2e.test_ami_to_services import replay
from tests.recurring.conftest import Tree, at
from tests.recurring.test_peer_failures import assign, new_did

D = Decimal


def inbound_event(uniqueid: str, number: str, billsec: int) -> str:
    lines = [
        "Event: Cdr",
        "Privilege: cdr,all",
        "AccountCode: ",
        "Source: 34600111222",
        f"Destination: {number}",
        "DestinationContext: from-carrier",
        'CallerID: "" <34600111222>',
        "Channel: PJSIP/didcarrier-00000001",
        "DestinationChannel: PJSIP/c-00000002",
        "LastApplication: Dial",
        "LastData: PJSIP/c,30",
        "StartTime: 2027-01-12 10:00:00",
        "AnswerTime: 2027-01-12 10:00:03",
        f"EndTime: 2027-01-12 10:{billsec // 60 + 0:02d}:{3 + billsec % 60:02d}",
        f"Duration: {billsec + 3}",
        f"BillableSeconds: {billsec}",
        "Disposition: ANSWERED",
        "AMAFlags: DOCUMENTATION",
        f"UniqueID: {uniqueid}",
        "UserField: ",
        f"LinkedID: {uniqueid}",
        "PeerAccount: ",
        "Sequence: 1",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


async def test_an_inbound_did_call_is_charged_at_every_level_at_its_own_price(
    tree: Tree, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    did = new_did(tree, "34910000001")  # admin: 0.01/min to R1; the provider 0.002/min
    new_did(tree, "34910000002")
    now = at("2027-01-10 09:00")
    for who, inbound in (("R1", "0.015"), ("R2", "0.0275")):
        with tree.uow() as u:
            assignment.set_did_price(u, tree.caller(who), did, D("5"), D("0"), D(inbound), now)
    assign(tree, did, "2027-01-10 09:00")
    path = tmp_path / "inbound.txt"
    path.write_text(
        BANNER
        + inbound_event("1900000000.1", "34910000001", 125)  # 3 minutes billed (60/60)
        + inbound_event("1900000000.2", "34910000002", 60),  # a free DID
        newline="",
    )
    await replay(session_factory, path, events=2)
    with session_factory() as s:
        cdrs = {c.uniqueid: c for c in s.scalars(select(Cdr))}
        rated = cdrs["1900000000.1"]
        assert rated.status == "rated" and rated.account_id == tree.ids["C"]
        charges = s.scalars(
            select(Charge).where(Charge.cdr_id == rated.id).order_by(Charge.level)
        ).all()
        assert [
            (c.level, c.account_id, c.provider_id, c.billed_seconds, c.cost) for c in charges
        ] == [
            (0, tree.ids["C"], None, 180, D("0.0825")),  # 3 x 0.0275
            (1, tree.ids["R2"], None, 180, D("0.0450")),  # 3 x 0.015
            (2, tree.ids["R1"], None, 180, D("0.0300")),  # 3 x 0.01
            (3, None, tree.provider_id, 180, D("0.0060")),  # the provider: 3 x 0.002
        ]
        ledger_rows = {
            e.account_id: e.amount
            for e in s.scalars(select(LedgerEntry).where(LedgerEntry.cdr_id == rated.id))
        }
        assert ledger_rows == {
            tree.ids["C"]: D("-0.0825"),
            tree.ids["R2"]: D("-0.0450"),
            tree.ids["R1"]: D("-0.0300"),
        }
        # Profit per level (R2, R1, the operator): what the level below paid, minus
        # what it paid itself.
        costs = [c.cost for c in charges]
        assert [costs[i] - costs[i + 1] for i in range(3)] == [
            D("0.0375"),
            D("0.0150"),
            D("0.0240"),
        ]
        unassigned = cdrs["1900000000.2"]
        assert unassigned.status == "unrated"
        assert (
            "DID 34910000002" in unassigned.unrated_reason and "free" in unassigned.unrated_reason
        )
