"""Refill vouchers over HTTP through client/, on SQLite and PostgreSQL: CreateVouchers
(the codes shown once, only a keyed hash stored), ListVouchers, BlockVouchers,
ExportVouchers, RedeemVoucher with each fault, the wrong-guess throttle, and 50
concurrent redemptions of one voucher."""

from __future__ import annotations

import csv
import io
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from client import SiptarClient, errors
from db import ledger
from db.price_schema import Voucher
from db.schema import Account, LedgerEntry
from db.session import UnitOfWork
from services.vouchers.codes import code_hash

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

Client = Callable[[str, str], SiptarClient]
Uow = Callable[[], UnitOfWork]
D = Decimal
ALICE = 3
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def codes_of(lot: Any) -> list[str]:
    return [row["code"] for row in csv.DictReader(io.StringIO(lot.file.data.decode()))]


def balance_and_ledger(uow: Uow, account_id: int) -> tuple[Decimal, Decimal]:
    with uow() as u:
        account = u.session.get(Account, account_id)
        assert account is not None
        return account.balance, ledger.ledger_sum(u.session, account_id)


def snapshot(uow: Uow) -> tuple[Any, ...]:
    with uow() as u:
        s = u.session
        return (
            s.execute(text("SELECT id, balance FROM accounts ORDER BY id")).all(),
            s.execute(text("SELECT count(*) FROM ledger")).scalar_one(),
            s.execute(text("SELECT id, status, used_at FROM vouchers ORDER BY id")).all(),
        )


@pytest.fixture
def reseller(client_for: Client) -> SiptarClient:
    return client_for("reseller", "reseller")


@pytest.fixture
def alice(client_for: Client) -> SiptarClient:
    return client_for("customer", "customer")


def make_lot(api: SiptarClient, count: int = 3, **extra: Any) -> Any:
    fields = {"count": count, "value": D("5"), "currency": "USD", "lot_name": "promo"}
    fields.update(extra)
    return api.reseller.CreateVouchers(**fields)


class TestCreateAndList:
    def test_codes_are_random_unique_and_stored_only_as_a_keyed_hash(
        self, reseller: SiptarClient, uow: Uow
    ) -> None:
        lot = make_lot(reseller, count=200, expires=LATER)
        codes = [c.replace("-", "") for c in codes_of(lot)]
        assert lot.count == 200 and len(set(codes)) == 200
        assert all(len(c) == 18 and c.isdigit() for c in codes)
        # Not sequential: no two codes drawn one after the other are neighbours.
        ordered = sorted(int(c) for c in codes)
        assert min(b - a for a, b in itertools.pairwise(ordered)) > 1000
        with uow() as u:
            stored = u.session.scalars(
                select(Voucher.code_hash).where(Voucher.lot_id == lot.lot_id)
            ).all()
            dump = u.session.execute(text("SELECT * FROM vouchers")).all()
        assert set(stored) == {code_hash(b"", c) for c in codes}
        assert not any(c in str(dump) for c in codes)

    def test_list_is_paged_and_shows_hints_only(self, reseller: SiptarClient) -> None:
        lot = make_lot(reseller, count=5)
        page = reseller.reseller.ListVouchers(lot_id=lot.lot_id, offset=1, limit=2)
        assert page.total == 5 and len(page.items) == 2
        assert {v.status for v in page.items} == {"active"}
        hints = {c.replace("-", "")[-4:] for c in codes_of(lot)}
        assert {v.hint for v in page.items} <= hints

    def test_bad_input_is_refused(self, reseller: SiptarClient) -> None:
        with pytest.raises(errors.InvalidInput, match="currency"):
            make_lot(reseller, currency="U1")
        with pytest.raises(errors.InvalidInput, match="expires"):
            make_lot(reseller, expires=datetime(2020, 1, 1, tzinfo=UTC))
        with pytest.raises(errors.InvalidInput, match="value"):
            make_lot(reseller, value=D("0"))

    def test_a_customer_may_not_create_vouchers(self, alice: SiptarClient) -> None:
        with pytest.raises(errors.AccessDenied):
            make_lot(alice)

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_export_has_states_and_no_codes(self, reseller: SiptarClient, fmt: str) -> None:
        lot = make_lot(reseller, count=2, format=fmt)
        assert lot.file.filename.endswith(f".{fmt}")
        exported = reseller.reseller.ExportVouchers(lot_id=lot.lot_id, format="csv")
        rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
        assert [r["status"] for r in rows] == ["active", "active"]
        assert "code" not in rows[0]


class TestRedeem:
    def test_the_account_redeems_a_voucher_once(
        self, reseller: SiptarClient, alice: SiptarClient, uow: Uow
    ) -> None:
        code = codes_of(make_lot(reseller))[0]
        before, _ = balance_and_ledger(uow, ALICE)
        done = alice.billing.RedeemVoucher(code=code)
        assert (done.account_id, done.amount, done.balance) == (ALICE, D("5"), before + 5)
        with pytest.raises(errors.VoucherUsed):
            alice.billing.RedeemVoucher(code=code.replace("-", " "))
        balance, ledger_sum = balance_and_ledger(uow, ALICE)
        assert balance == ledger_sum == before + 5
        with uow() as u:
            kinds = u.session.scalars(
                select(LedgerEntry.kind).where(
                    LedgerEntry.reference == f"voucher {done.voucher_id}"
                )
            ).all()
        assert kinds == ["voucher"]
        listed = reseller.reseller.ListVouchers(status="used").items
        assert [(v.id, v.used_by) for v in listed] == [(done.voucher_id, ALICE)]

    def test_a_redeemed_voucher_is_money_in_on_the_invoice_not_a_charge_line(
        self, reseller: SiptarClient, alice: SiptarClient
    ) -> None:
        start = datetime.now(UTC) - timedelta(seconds=1)
        code = codes_of(make_lot(reseller))[0]
        done = alice.billing.RedeemVoucher(code=code)
        inv = reseller.billing.CreateInvoice(
            account_id=ALICE, period_start=start, period_end=datetime.now(UTC)
        )
        assert [(m.kind, m.amount) for m in inv.movements] == [("voucher", done.amount)]
        assert "voucher" not in {line.kind for line in inv.lines}
        assert inv.closing_balance - inv.opening_balance == done.amount

    def test_blocked_expired_unknown_and_foreign_vouchers_change_nothing(
        self, reseller: SiptarClient, alice: SiptarClient, client_for: Client, uow: Uow
    ) -> None:
        lot = make_lot(reseller, count=3)
        blocked, second, _ = codes_of(lot)
        ids = [v.id for v in reseller.reseller.ListVouchers(lot_id=lot.lot_id).items]
        assert reseller.reseller.BlockVouchers(voucher_ids=ids[:1]) == 1
        admin = client_for("admin", "admin")
        # A voucher of the admin's own, then one made by a customer's sibling reseller.
        other = admin.reseller.CreateAccount(
            account={"name": "R9", "username": "r9", "password": "r9-secret-pw", "role": "reseller"}
        )
        foreign = codes_of(make_lot(client_for("r9", "r9-secret-pw")))[0]
        with uow() as u:  # expire the second one as if time had passed
            u.session.execute(
                text("UPDATE vouchers SET expires_at = :at WHERE id = :id"),
                {"at": datetime.now(UTC) - timedelta(seconds=1), "id": ids[1]},
            )
            u.commit()
        before = snapshot(uow)
        with pytest.raises(errors.VoucherBlocked):
            alice.billing.RedeemVoucher(code=blocked)
        with pytest.raises(errors.VoucherExpired):
            alice.billing.RedeemVoucher(code=second)
        with pytest.raises(errors.VoucherNotValidHere):
            alice.billing.RedeemVoucher(code=foreign)
        with pytest.raises(errors.VoucherUnknown):
            alice.billing.RedeemVoucher(code="123456-123456-123456")
        with pytest.raises(errors.InvalidInput, match="18 digits"):
            alice.billing.RedeemVoucher(code="12345")
        assert snapshot(uow) == before
        assert other.id

    def test_wrong_guesses_are_throttled_per_account(
        self, reseller: SiptarClient, alice: SiptarClient
    ) -> None:
        good = codes_of(make_lot(reseller, count=1))[0]
        for n in range(5):
            with pytest.raises(errors.VoucherUnknown):
                alice.billing.RedeemVoucher(code=f"{n:018d}")
        # Even the right code waits now: guessing must stop paying.
        with pytest.raises(errors.TooManyAttempts):
            alice.billing.RedeemVoucher(code=good)

    def test_fifty_concurrent_redemptions_of_one_voucher(
        self, reseller: SiptarClient, server_url: str, uow: Uow
    ) -> None:
        # 50 on both databases. (SQLite once needed fewer: spyne's forced collections
        # stalled the request holding the write lock; services/common/wsgi.py.)
        N = 50
        code = codes_of(make_lot(reseller, count=1, value=D("7.25")))[0]
        before, _ = balance_and_ledger(uow, ALICE)
        clients = [SiptarClient(server_url, "customer", "customer", timeout=300) for _ in range(N)]
        services = [c.billing for c in clients]
        # Each client's first call before the race (zeep builds its proxy, the server
        # checks the password once): the race is then the redemptions' alone.
        with ThreadPoolExecutor(N) as pool:
            list(pool.map(lambda s: s.GetBalance(), services))
        barrier = threading.Barrier(N)

        def redeem(i: int) -> str:
            barrier.wait()
            try:
                services[i].RedeemVoucher(code=code)
            except errors.VoucherUsed:
                return "used"
            return "ok"

        with ThreadPoolExecutor(N) as pool:
            outcomes = list(pool.map(redeem, range(N)))
        assert outcomes.count("ok") == 1 and outcomes.count("used") == N - 1
        balance, ledger_sum = balance_and_ledger(uow, ALICE)
        assert balance == ledger_sum == before + D("7.25")
