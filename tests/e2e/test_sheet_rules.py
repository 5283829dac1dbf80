"""UpdateRateSheet over HTTP: a rule change with an effective moment prices calls that
start from it, leaves the calls before it at their price (RerateCdrs changes nothing),
and bumps the sheet's version; on SQLite and PostgreSQL (docs/rates.md, "Rule versions")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from db.config_schema import SheetRuleVersion
from db.ledger import ledger_sum
from db.schema import Account, Cdr, Charge
from db.session import UnitOfWork
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome, record_cdr

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]
D = Decimal


def call(uniqueid: str, start: datetime, billsec: int = 61) -> CdrRecord:
    """An answered call of Carol (acct1003) to the USA: 0.0150/min on 30/6."""
    return CdrRecord(
        uniqueid=uniqueid,
        sequence=1,
        accountcode="acct1003",
        src="1003",
        dst="12125550100",
        dcontext="from-internal",
        callerid="1003",
        channel="PJSIP/1003-00000001",
        dstchannel="PJSIP/carrier1-00000002",
        lastapp="Dial",
        lastdata="PJSIP/12125550100@carrier1",
        start=start,
        answer=start,
        end=start + timedelta(seconds=billsec),
        duration=billsec,
        billsec=billsec,
        disposition="ANSWERED",
    )


def store(uow: Callable[[], UnitOfWork], record: CdrRecord) -> Outcome:
    with uow() as u:
        return record_cdr(u, record)


def carol_cost(s: Session, uniqueid: str) -> Decimal:
    cdr = s.scalars(select(Cdr).where(Cdr.uniqueid == uniqueid)).one()
    return s.scalars(select(Charge.cost).where(Charge.cdr_id == cdr.id, Charge.level == 0)).one()


def carol(s: Session) -> Account:
    return s.scalars(select(Account).where(Account.accountcode == "acct1003")).one()


class TestUpdateRateSheet:
    def test_calls_before_the_moment_keep_their_price_and_calls_after_take_the_new_rule(
        self,
        uow: Callable[[], UnitOfWork],
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        api = client_for("admin", "admin").config
        with session_factory() as s:
            account = carol(s)
            sheet_id, account_id = account.rate_sheet_id, account.id
        now = datetime.now(UTC)
        moment = now + timedelta(hours=1)
        assert store(uow, call("before", now - timedelta(minutes=5))) == Outcome.RATED
        version = {r.id: r.version for r in api.ListRateSheets(limit=1000).items}[sheet_id]

        answer = api.UpdateRateSheet(
            sheet_id=sheet_id,
            changes={"decimals": 2, "rounding": "up", "effective_from": moment},
        )

        assert answer.sheet.version > version  # every worker's plan cache sees it
        assert [(r.effective_from, r.decimals, r.rounding) for r in answer.rules] == [
            (None, 4, "half_up"),
            (moment.replace(microsecond=answer.rules[1].effective_from.microsecond), 2, "up"),
        ]
        # Rated after the change: a call that started before the moment, and two after.
        assert store(uow, call("late", moment - timedelta(seconds=1))) == Outcome.RATED
        assert store(uow, call("at", moment)) == Outcome.RATED
        assert store(uow, call("after", moment + timedelta(days=1))) == Outcome.RATED
        with session_factory() as s:
            # 61 s on 30/6 is 66 s billed: 0.0150 x 66 / 60 = 0.0165, up to 2 places 0.02
            assert carol_cost(s, "before") == carol_cost(s, "late") == D("0.0165")
            assert carol_cost(s, "at") == carol_cost(s, "after") == D("0.02")

        again = api.RerateCdrs(account_id=account_id, include_rated=True)

        assert (again.adjusted, again.difference) == (0, 0)
        with session_factory() as s:
            assert carol_cost(s, "before") == D("0.0165")
            assert carol_cost(s, "after") == D("0.02")
            account = carol(s)
            assert account.balance == ledger_sum(s, account.id)

    def test_a_rename_applies_at_once_and_adds_no_version(
        self, session_factory: Callable[[], Session], client_for: Callable[[str, str], SiptarClient]
    ) -> None:
        api = client_for("admin", "admin").config
        sheet = api.CreateRateSheet(sheet={"name": "Old name"})

        answer = api.UpdateRateSheet(sheet_id=sheet.id, changes={"name": "New name"})

        assert answer.sheet.name == "New name"
        assert len(answer.rules) == 1
        # The same rule again is no version either, whatever the moment.
        same = api.UpdateRateSheet(sheet_id=sheet.id, changes={"rounding": "half_up"})
        assert len(same.rules) == 1 and same.sheet.version == answer.sheet.version
        with session_factory() as s:
            assert s.scalars(select(SheetRuleVersion)).all() == []

    def test_bad_changes_answer_a_fault_and_change_nothing(
        self, session_factory: Callable[[], Session], client_for: Callable[[str, str], SiptarClient]
    ) -> None:
        admin = client_for("admin", "admin")
        api = admin.config
        sheet = api.CreateRateSheet(sheet={"name": "S"})
        api.CreateRateSheet(sheet={"name": "Taken"})
        later = datetime.now(UTC) + timedelta(days=2)
        api.UpdateRateSheet(
            sheet_id=sheet.id, changes={"block_mode": "whole_call", "effective_from": later}
        )
        past = datetime.now(UTC) - timedelta(minutes=1)
        bad = [
            {"decimals": 3, "effective_from": past},  # calls may already be rated
            {"decimals": 3, "effective_from": later - timedelta(hours=1)},  # before latest
            {"timezone": "Mars/Olympus"},
            {"name": "Taken"},
            {"name": "   "},
        ]
        for changes in bad:
            with pytest.raises((errors.InvalidInput, errors.AlreadyExists)):
                api.UpdateRateSheet(sheet_id=sheet.id, changes=changes)
        with pytest.raises(errors.NotFound):
            api.UpdateRateSheet(sheet_id=999_999, changes={"name": "x"})
        reseller = client_for("reseller", "reseller").config
        with pytest.raises(errors.AccessDenied):
            reseller.UpdateRateSheet(sheet_id=sheet.id, changes={"name": "mine"})
        with session_factory() as s:
            assert len(s.scalars(select(SheetRuleVersion)).all()) == 1
        final = api.UpdateRateSheet(sheet_id=sheet.id, changes={})
        assert final.sheet.name == "S" and [r.block_mode for r in final.rules] == [
            "first_block",
            "whole_call",
        ]
