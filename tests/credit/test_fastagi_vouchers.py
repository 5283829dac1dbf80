"""FastAGI `voucher` over a real TCP socket: a calling-card IVR keys in a code, the
account's balance and ledger take it once; wrong codes are throttled."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from ami_listener.fastagi import FastAgiServer
from ami_listener.runner import authorizer
from db import ledger
from db.schema import Account
from db.session import UnitOfWork
from services.common.caller import Caller
from services.vouchers.agi import redeemer
from services.vouchers.usecases import create_vouchers
from tests.credit.test_fastagi import agi_call

pytestmark = pytest.mark.usefixtures("demo")
KEY = b"test-voucher-key"
ALICE = 3


def environment(code: str, callerid: str = "1001") -> dict[str, str]:
    return {
        "agi_network": "yes",
        "agi_network_script": "voucher",
        "agi_channel": "PJSIP/1001-00000001",
        "agi_uniqueid": "1700000000.9",
        "agi_callerid": callerid,
        "agi_accountcode": "acct1001",
        "agi_arg_1": code,
    }


@pytest.fixture
async def agi(session_factory: Callable[[], Session]) -> AsyncIterator[int]:
    server = FastAgiServer(
        authorizer(session_factory), "127.0.0.1", 0, redeemer=redeemer(session_factory, KEY)
    )
    await server.start()
    task = asyncio.create_task(server.serve_forever())
    yield server.port
    task.cancel()
    await server.close()
    with pytest.raises(asyncio.CancelledError):
        await task


def new_code(session_factory: Callable[[], Session]) -> str:
    reseller = Caller(login_id=2, username="reseller", account_id=2, role="reseller", path="/1/2/")
    with UnitOfWork(session_factory) as uow:
        lot = create_vouchers(uow, reseller, KEY, 1, "2.50", "USD", None, "ivr")
    return next(csv.DictReader(io.StringIO(lot.file.data.decode())))["code"]


def balance_and_ledger(session_factory: Callable[[], Session]) -> tuple[Decimal, Decimal]:
    with session_factory() as s:
        account = s.get(Account, ALICE)
        assert account is not None
        return account.balance, ledger.ledger_sum(s, ALICE)


class TestVoucherIvr:
    async def test_a_keyed_in_code_refills_the_account_once(
        self, agi: int, session_factory: Callable[[], Session]
    ) -> None:
        code = new_code(session_factory).replace("-", "")
        before, _ = balance_and_ledger(session_factory)
        got = await agi_call(agi, environment(code))
        assert got["SIPTAR_VOUCHER"] == "OK" and Decimal(got["SIPTAR_AMOUNT"]) == Decimal("2.5")
        assert Decimal(got["SIPTAR_BALANCE"]) == before + Decimal("2.5")
        again = await agi_call(agi, environment(code))
        assert again == {"SIPTAR_VOUCHER": "VoucherUsed"}
        assert balance_and_ledger(session_factory) == (before + Decimal("2.5"),) * 2

    async def test_wrong_codes_are_throttled(
        self, agi: int, session_factory: Callable[[], Session]
    ) -> None:
        answers = [
            (await agi_call(agi, environment(f"{n:018d}", callerid="555")))["SIPTAR_VOUCHER"]
            for n in range(6)
        ]
        assert answers == ["VoucherUnknown"] * 5 + ["TooManyAttempts"]
