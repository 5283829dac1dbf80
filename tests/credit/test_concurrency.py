"""The flaw SipTar must not have: parallel calls each spending the same money.

50 Authorize requests at once over HTTP (one zeep client per thread, the threaded test
server, SQLite and PostgreSQL) on one account whose credit pays for exactly ten calls
of its maximum length (600 s at 0.0180/min "30/6" = 0.18 each, 1.80 in all). Then every
call is settled with a random duration up to its maximum."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from client import SiptarClient
from db import ledger
from db.schema import Account
from db.session import UnitOfWork
from tests.credit.builders import RESELLER_ID, customer

D = Decimal
CALLS = 50
CREDIT = D("1.80")
PER_CALL = D("0.18")
Uow = Callable[[], UnitOfWork]


def balance_and_ledger(uow: Uow, account_id: int) -> tuple[Decimal, Decimal]:
    with uow() as u:
        account = u.session.get(Account, account_id)
        assert account is not None
        return account.balance, ledger.ledger_sum(u.session, account_id)


@pytest.mark.parametrize("billing", ["prepaid", "postpaid"])
def test_fifty_simultaneous_authorizations_never_spend_more_than_the_credit(
    uow: Uow, demo: None, server_url: str, billing: str
) -> None:
    with uow() as u:
        money: dict[str, Any] = (
            {"credit": CREDIT} if billing == "prepaid" else {"postpaid_limit": CREDIT}
        )
        # Each call reserves its whole maximum (no slices): the calls are settled over
        # SOAP with no listener to extend them (tests/credit/test_slices.py has those).
        account_id = customer(
            u, "Race", accountcode="race", max_call_seconds=600, credit_slice_seconds=600, **money
        )
    start, _ = balance_and_ledger(uow, account_id)
    clients = [SiptarClient(server_url, "admin", "admin", timeout=120) for _ in range(CALLS)]
    barrier = threading.Barrier(CALLS)

    def authorize(i: int) -> Any:
        barrier.wait()
        call = {"number": "34911234567", "account": "race", "uniqueid": f"race.{i}"}
        return clients[i].billing.Authorize(call=call)

    with ThreadPoolExecutor(CALLS) as pool:
        answers = list(pool.map(authorize, range(CALLS)))
    allowed = {i: a for i, a in enumerate(answers) if a.allowed}
    assert sum(a.reserved for a in allowed.values()) <= CREDIT
    assert len(allowed) == 10 and {a.reserved for a in allowed.values()} == {PER_CALL}
    assert {a.reason for a in answers if not a.allowed} == {"InsufficientCredit"}
    assert clients[0].billing.GetBalance(account_id=account_id).reserved == CREDIT

    rng = random.Random(4)
    durations = {i: rng.randint(0, a.max_seconds) for i, a in allowed.items()}

    def settle(i: int) -> Any:
        # Found by the channel's uniqueid, as a CDR from Asterisk finds it.
        call = {"uniqueid": f"race.{i}", "billsec": durations[i]}
        return clients[i].billing.SettleCall(call=call)

    with ThreadPoolExecutor(len(allowed)) as pool:
        settled = list(pool.map(settle, allowed))
    assert {s.reservation_id for s in settled} == {a.reservation_id for a in allowed.values()}
    assert {s.reservation_status for s in settled} == {"settled"}
    balance, total = balance_and_ledger(uow, account_id)
    assert balance == total == start - sum(s.cost for s in settled)
    assert balance >= (0 if billing == "prepaid" else -CREDIT)
    after = clients[0].billing.GetBalance(account_id=account_id)
    assert (after.reserved, after.balance) == (0, balance)
    reseller, reseller_total = balance_and_ledger(uow, RESELLER_ID)
    assert reseller == reseller_total


def test_authorizations_and_settlements_of_one_resellers_customers_interleave_safely(
    uow: Uow, demo: None, server_url: str
) -> None:
    """Two customers of one reseller, 20 threads each authorizing and settling calls at
    once: every call locks its customer's row and the reseller's, in the same order, so
    nothing deadlocks and every balance still equals its ledger."""
    with uow() as u:
        ids = [
            customer(u, f"Mixed {n}", credit=D(5), accountcode=f"mix{n}", max_call_seconds=120)
            for n in range(2)
        ]
    threads = 20
    clients = [SiptarClient(server_url, "admin", "admin", timeout=120) for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def calls(i: int) -> int:
        barrier.wait()
        settled = 0
        for k in range(3):
            uniqueid = f"mix.{i}.{k}"
            call = {"number": "34911234567", "account": f"mix{i % 2}", "uniqueid": uniqueid}
            a = clients[i].billing.Authorize(call=call)
            if a.allowed:
                bill = {"uniqueid": uniqueid, "billsec": (i * 7 + k) % (a.max_seconds + 1)}
                assert clients[i].billing.SettleCall(call=bill).reservation_status == "settled"
                settled += 1
        return settled

    with ThreadPoolExecutor(threads) as pool:
        assert sum(pool.map(calls, range(threads))) == threads * 3
    for account_id in [*ids, RESELLER_ID]:
        balance, total = balance_and_ledger(uow, account_id)
        assert balance == total and balance >= 0
        assert clients[0].billing.GetBalance(account_id=account_id).reserved == 0
