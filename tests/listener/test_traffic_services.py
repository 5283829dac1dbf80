"""GetLiveCalls, GetTrafficStats (config for the admin, reseller for its subtree) and
RerateCdrs, over HTTP through client/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ami_listener.csv_import import import_csv
from client import SiptarClient
from client.errors import AccessDenied
from db.ledger import ledger_sum
from db.rates import bump_version
from db.schema import Account, Cdr, Charge, LedgerEntry, LiveCall, Rate
from tests.listener.conftest import MASTER_CSV

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

D = Decimal
DAY = (datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))


def account(s: Session, code: str) -> Account:
    return s.scalars(select(Account).where(Account.accountcode == code)).one()


def assert_balanced(session_factory: Callable[[], Session]) -> None:
    with session_factory() as s:
        for a in s.scalars(select(Account)):
            assert a.balance == ledger_sum(s, a.id), a.name


def up(uniqueid: str, acc: Account, since: datetime, **more: datetime) -> LiveCall:
    """A call of `acc` answered at `since`, as the listener writes it."""
    return LiveCall(
        uniqueid=uniqueid,
        account_id=acc.id,
        accountcode=acc.accountcode,
        number="34911234567",
        state="up",
        started_at=since,
        answered_at=since,
        **more,
    )


class TestLiveCallsOverSoap:
    def test_the_admin_sees_every_call_and_a_reseller_only_its_own(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        with session_factory() as s:
            alice, carol = account(s, "acct1001"), account(s, "acct1003")
            now = datetime.now(UTC)
            s.add_all([up("1.1", alice, now), up("1.2", carol, now)])
            s.commit()
            reseller_id = alice.parent_id

        admin = client_for("admin", "admin").config.GetLiveCalls()
        assert admin.total == 2
        assert {c.uniqueid for c in admin.items} == {"1.1", "1.2"}
        assert {(c.id, c.calls) for c in admin.by_reseller} == {(reseller_id, 1)}
        assert {(c.name, c.calls) for c in admin.by_account} == {("Alice", 1), ("Carol Ltd", 1)}

        mine = client_for("reseller", "reseller").reseller.GetLiveCalls()
        assert (mine.total, [c.account_name for c in mine.items]) == (1, ["Alice"])

        with pytest.raises(AccessDenied):  # a customer may not
            client_for("customer", "customer").reseller.GetLiveCalls()

    def test_a_call_no_listener_refreshed_for_a_minute_is_not_shown(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        now = datetime.now(UTC)
        with session_factory() as s:
            alice = account(s, "acct1001")
            s.add(up("2.1", alice, now - timedelta(minutes=5), seen_at=now - timedelta(seconds=5)))
            s.add(up("2.2", alice, now - timedelta(minutes=5), seen_at=now - timedelta(minutes=2)))
            s.commit()

        for live in (
            client_for("admin", "admin").config.GetLiveCalls(),
            client_for("reseller", "reseller").reseller.GetLiveCalls(),
        ):
            assert (live.total, [c.uniqueid for c in live.items]) == (1, ["2.1"])
            assert [(c.name, c.calls) for c in live.by_account] == [("Alice", 1)]


class TestTrafficStatsOverSoap:
    def test_figures_per_account_for_the_admin_and_for_the_reseller(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        import_csv(session_factory, MASTER_CSV.read_text(), UTC)
        stats = client_for("admin", "admin").config.GetTrafficStats(*DAY, "account")
        rows = {r.name: r for r in stats.items}
        with session_factory() as s:
            alice = account(s, "acct1001")
            calls = s.execute(select(func.count()).where(Cdr.account_id == alice.id)).scalar_one()
            answered = s.execute(
                select(func.count()).where(
                    Cdr.account_id == alice.id, Cdr.disposition == "ANSWERED"
                )
            ).scalar_one()
            reseller_paid = -sum(
                e.amount
                for e in s.scalars(
                    select(LedgerEntry).where(LedgerEntry.account_id == alice.parent_id)
                )
                if e.kind == "call"
            )
        assert (rows["Alice"].calls, rows["Alice"].answered) == (calls, answered)
        assert rows["Alice"].asr == (D(100 * answered) / calls).quantize(D("0.000001"))
        # The admin's revenue from Alice's calls is what the reseller paid for them.
        admin_revenue = rows["Alice"].revenue + rows["Bob"].revenue
        assert admin_revenue == reseller_paid
        assert rows["Alice"].profit == rows["Alice"].revenue  # no provider costs yet

        mine = client_for("reseller", "reseller").reseller.GetTrafficStats(*DAY, "account")
        names = {r.name for r in mine.items}
        assert names == {"Alice", "Bob"}
        for r in mine.items:
            assert r.profit == r.revenue - r.cost
            assert r.revenue > r.cost > 0


class TestRerateCdrs:
    def test_unrated_cdrs_are_charged_once_their_account_exists(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        import_csv(session_factory, MASTER_CSV.read_text(), UTC)
        with session_factory() as s:
            admin = s.scalars(select(Account).where(Account.role == "admin")).one()
            dave = Account(
                parent_id=admin.id,
                role="customer",
                name="Dave",
                accountcode="acct1004",
                rate_sheet_id=account(s, "acct1003").rate_sheet_id,
                billing_type="postpaid",
                credit_limit=D(100),
            )
            s.add(dave)
            s.flush()
            dave.path = f"{admin.path}{dave.id}/"
            s.commit()
            waiting = s.execute(
                select(func.count()).where(Cdr.accountcode == "acct1004", Cdr.status == "unrated")
            ).scalar_one()
        api = client_for("admin", "admin").config

        result = api.RerateCdrs()

        assert result.rated == waiting > 0
        assert result.difference < 0
        with session_factory() as s:
            dave = account(s, "acct1004")
            assert dave.balance == result.difference
        assert api.RerateCdrs().rated == 0  # nothing charged twice
        assert_balanced(session_factory)

    def test_a_rate_correction_books_only_the_difference(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        import_csv(session_factory, MASTER_CSV.read_text(), UTC)
        with session_factory() as s:
            carol = account(s, "acct1003")
            before = carol.balance
            charged = s.execute(
                select(func.sum(Charge.cost)).where(Charge.account_id == carol.id)
            ).scalar_one()
            # The USA rate of Carol's sheet was wrong: twice what it should be.
            s.execute(
                update(Rate)
                .where(Rate.sheet_id == carol.rate_sheet_id, Rate.prefix == "1")
                .values(price=Rate.price * 2)
            )
            bump_version(s, carol.rate_sheet_id)
            s.commit()
        api = client_for("admin", "admin").config

        result = api.RerateCdrs(account_id=carol.id, include_rated=True)

        assert result.adjusted >= 1
        with session_factory() as s:
            carol = account(s, "acct1003")
            now_charged = s.execute(
                select(func.sum(Charge.cost)).where(Charge.account_id == carol.id)
            ).scalar_one()
            adjustments = s.scalars(
                select(LedgerEntry.amount).where(
                    LedgerEntry.account_id == carol.id, LedgerEntry.kind == "adjustment"
                )
            ).all()
        assert now_charged > charged
        assert sum(adjustments) == charged - now_charged == result.difference
        assert carol.balance == before + result.difference
        again = api.RerateCdrs(account_id=carol.id, include_rated=True)
        assert (again.adjusted, again.difference) == (0, 0)
        assert_balanced(session_factory)
