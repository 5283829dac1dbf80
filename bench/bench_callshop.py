"""What the call-shop desktop's poll costs the server: `ListBooths`' use case (the
board: states, live calls priced so far, each session's calls so far at the sell
sheet), for a shop of BENCH_CALLSHOP_BOOTHS booths (default 20), every one with an open
session of 30 calls and half of them with a call up, on SQLite and PostgreSQL.

Prints boards per second on one core and what that means at the desktop's rate (one
poll every 2 s): how many such shops one worker process holds.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.backends import on_both
from db import migrate
from db.callshop_schema import Booth, BoothSession, CallShop
from db.schema import Account, Cdr, LiveCall, Rate, RateSheet
from db.session import UnitOfWork, make_engine, make_session_factory
from services.callshop.board import board
from services.common.caller import Caller

BOOTHS = int(os.environ.get("BENCH_CALLSHOP_BOOTHS", "20"))
CALLS_PER_SESSION = 30
ROUNDS = int(os.environ.get("BENCH_CALLSHOP_ROUNDS", "50"))
POLL_SECONDS = 2.0


def _shop(factory: object) -> Caller:
    now = datetime.now(UTC)
    with factory() as s:  # type: ignore[operator]
        admin = Account(role="admin", name="Operator", path="")
        s.add(admin)
        s.flush()
        admin.path = f"/{admin.id}/"
        shop = Account(role="customer", kind="callshop", name="Shop", accountcode="shop1")
        s.add(shop)
        s.flush()
        shop.path = f"{admin.path}{shop.id}/"
        sheet = RateSheet(owner_id=shop.id, name="Walk-in prices")
        s.add(sheet)
        s.flush()
        s.add(
            Rate(
                sheet_id=sheet.id,
                prefix="34",
                price=Decimal("0.10"),
                initial_increment=60,
                increment=60,
            )
        )
        s.add(CallShop(account_id=shop.id, sell_sheet_id=sheet.id))
        for b in range(BOOTHS):
            booth = Booth(shop_id=shop.id, name=f"Booth {b}", sip_peer=f"booth{b}")
            s.add(booth)
            s.flush()
            opened = now - timedelta(hours=1)
            s.add(BoothSession(booth_id=booth.id, shop_id=shop.id, status="open", opened_at=opened))
            for n in range(CALLS_PER_SESSION):
                start = opened + timedelta(minutes=n)
                s.add(
                    Cdr(
                        uniqueid=f"{b}.{n}",
                        sequence=n,
                        account_id=shop.id,
                        accountcode="shop1",
                        channel=f"PJSIP/booth{b}-{n:08x}",
                        dst="34911234567",
                        start_time=start,
                        answer_time=start,
                        end_time=start + timedelta(seconds=40),
                        billsec=40,
                        disposition="ANSWERED",
                        status="rated",
                        cost=Decimal("0.0134"),
                    )
                )
            if b % 2 == 0:
                s.add(
                    LiveCall(
                        uniqueid=f"live.{b}",
                        channel=f"PJSIP/booth{b}-ffff0000",
                        account_id=shop.id,
                        number="34911234567",
                        state="up",
                        started_at=now - timedelta(seconds=70),
                        answered_at=now - timedelta(seconds=65),
                        seen_at=now,
                    )
                )
        s.commit()
        return Caller(0, "shop1", shop.id, "customer", shop.path)


def _one(label: str, url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    caller = _shop(factory)
    with UnitOfWork(factory) as uow:  # warm: the sell sheet's plan compiled once
        rows, _ = board(uow, caller, 0, 1000, datetime.now(UTC))
    assert len(rows) == BOOTHS and all(r.session_total > 0 for r in rows)
    started = time.perf_counter()
    for _ in range(ROUNDS):
        with UnitOfWork(factory) as uow:
            board(uow, caller, 0, 1000, datetime.now(UTC))
    per_board = (time.perf_counter() - started) / ROUNDS
    engine.dispose()
    print(
        f"   {label:<10} {BOOTHS} booths, {BOOTHS * CALLS_PER_SESSION} session calls: "
        f"{per_board * 1000:,.1f} ms a board, {1 / per_board:,.0f} boards/s on one core: "
        f"~{POLL_SECONDS / per_board:,.0f} shops polling every {POLL_SECONDS:g} s",
        flush=True,
    )


def run() -> None:
    on_both("bench-callshop-", _one)
