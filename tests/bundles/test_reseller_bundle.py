"""A bundle held by a reseller: the reseller's own charge for its customers' calls is
taken off (it pays its parent nothing for what its bundle covers), while the customer,
who holds none, pays the reseller's retail sheet as before. Re-rating the CDR takes
the same seconds again, never twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from db.bundle_schema import BundleCounter, BundleUse
from db.schema import Cdr, Charge
from db.session import UnitOfWork
from services.cdr.commands import CdrRecord
from services.cdr.rerate import rerate_cdrs
from services.cdr.usecases import CdrFilter, Outcome, record_cdr
from services.common.caller import Caller
from tests.bundles.builders import give_bundle
from tests.credit.builders import ALICE_ID, RESELLER_ID

D = Decimal
Uow = Callable[[], UnitOfWork]
ADMIN = Caller(1, "admin", 1, "admin", "/1/")
ANSWER = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def alice_call(uniqueid: str, billsec: int) -> CdrRecord:
    return CdrRecord(
        uniqueid=uniqueid,
        sequence=1,
        accountcode="acct1001",
        src="100",
        dst="34911234567",
        dcontext="outbound",
        callerid="100",
        channel="PJSIP/alice-00000001",
        dstchannel="PJSIP/carrier1-00000002",
        lastapp="Dial",
        lastdata="PJSIP/34911234567@carrier1",
        start=ANSWER - timedelta(seconds=2),
        answer=ANSWER,
        end=ANSWER + timedelta(seconds=billsec),
        duration=billsec + 2,
        billsec=billsec,
        disposition="ANSWERED",
    )


def charges(u: UnitOfWork, cdr_id: int) -> list[tuple[int, int, Decimal]]:
    rows = u.session.execute(
        select(Charge.level, Charge.billed_seconds, Charge.cost)
        .where(Charge.cdr_id == cdr_id, Charge.account_id.is_not(None))
        .order_by(Charge.level)
    ).all()
    return [(int(a), int(b), c) for a, b, c in rows]


def test_a_resellers_bundle_takes_its_own_charge_off_and_a_rerate_takes_nothing_twice(
    uow: Uow, demo: None
) -> None:
    with uow() as u:
        give_bundle(u.session, 1, RESELLER_ID, "Reseller Spain", 600, date(2026, 11, 1))
        u.commit()
    with uow() as u:
        assert record_cdr(u, alice_call("rb.1", 100)) is Outcome.RATED
    with uow() as u:
        cdr = u.session.scalars(select(Cdr).where(Cdr.uniqueid == "rb.1")).one()
        cdr_id = cdr.id
        assert cdr.account_id == ALICE_ID
        # Alice: 0.0180/min "30/6", 100 s billed 102 s; the reseller: its bundle's.
        assert charges(u, cdr_id) == [(0, 102, D("0.0306")), (1, 0, D("0"))]
        counter = u.session.scalars(select(BundleCounter)).one()
        assert (counter.consumed, counter.reserved) == (102, 0)  # at the increments
    with uow() as u:
        report = rerate_cdrs(u, ADMIN, CdrFilter(), include_rated=True)
    assert (report.examined, report.unchanged, report.adjusted) == (1, 1, 0)
    with uow() as u:
        counter = u.session.scalars(select(BundleCounter)).one()
        assert (counter.consumed, counter.reserved) == (102, 0)
        uses = u.session.execute(select(BundleUse.level, BundleUse.amount)).all()
        assert [tuple(x) for x in uses] == [(1, 102)]
        assert charges(u, cdr_id) == [(0, 102, D("0.0306")), (1, 0, D("0"))]
