"""What extending reservations slice by slice costs the AMI listener at 1,000 live calls.

1,000 answered calls (200 customers of the demo reseller, 5 calls each, really
authorized with 5-minute slices) whose slices run out evenly over the next 5 minutes,
as in a steady state. The listener's credit work (ami_listener/credit.CreditKeeper, in
the monitor's transaction every 0.5 s) is run for 2 simulated minutes (240 ticks, the
clock as a parameter), twice over the same minutes: with the extension, then without it
(the hang-up check and the releases only: what the listener did before slices). The difference, per
second of wall time (2 ticks), is the share of the listener's one core (the GIL) that
the extension takes from CDR throughput. On SQLite (a WAL file) and on a throwaway
PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ami_listener.credit import CreditKeeper
from ami_listener.hangups import Hangup
from bench.backends import on_both
from db import ledger, migrate
from db.schema import Account, LiveCall, Reservation, Trunk
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.policy import CreditPolicy

CALLS = 1000
CUSTOMERS = 200
SLICE = 300
TICK = 0.5
TICKS = 240
AST = "bench:5038"
T0 = datetime.now(UTC).replace(microsecond=0)


class _NoExtension(CreditKeeper):
    """The listener's credit work as it was before slices: no extension."""

    def run(self, session: Session, now: datetime, *, connected: bool) -> list[Hangup]:
        self._release(session)
        return self._overdue(session, now) if connected else []


def _setup(factory: Callable[[], Session]) -> None:
    with UnitOfWork(factory) as uow:
        load_demo(uow)
        reseller = uow.session.scalars(select(Account).where(Account.role == "reseller")).first()
        assert reseller is not None
        for n in range(CUSTOMERS):
            account = Account(
                parent_id=reseller.id,
                role="customer",
                name=f"Bench {n}",
                rate_sheet_id=4,  # "Reseller One retail"
                accountcode=f"bench{n}",
            )
            uow.session.add(account)
            uow.session.flush()
            account.path = f"{reseller.path}{account.id}/"
            ledger.post(uow.session, account.id, "payment", Decimal(1000), reference="bench")
        ledger.post(uow.session, reseller.id, "payment", Decimal(100000), reference="bench")
        # the demo trunk's channel limit would refuse most of the 1,000 calls
        uow.session.execute(update(Trunk).values(channel_limit=None))
        uow.commit()
    policy = CreditPolicy(slice_seconds=SLICE)
    for i in range(CALLS):
        # authorized (and answered) so that the slices end evenly over [T0, T0 + SLICE)
        at = T0 - timedelta(seconds=SLICE) + timedelta(seconds=SLICE * i / CALLS)
        uid = f"1796000000.{i}"
        with UnitOfWork(factory) as uow:
            req = AuthorizeRequest("34911234567", f"bench{i % CUSTOMERS}", uniqueid=uid)
            answer = authorize(uow, None, req, at, policy)
            assert answer.allowed, answer
            uow.session.add(
                LiveCall(
                    uniqueid=uid,
                    channel=f"PJSIP/phone-{i:08x}",
                    state="up",
                    started_at=at,
                    answered_at=at,
                    asterisk=AST,
                    seen_at=T0,
                )
            )
            uow.commit()


def _ticks(factory: Callable[[], Session], keeper: CreditKeeper) -> tuple[float, float, int]:
    """Wall and CPU seconds of TICKS ticks; the hang-ups claimed."""
    cut = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(TICKS):
        with factory() as session:
            cut += len(keeper.run(session, T0 + timedelta(seconds=n * TICK), connected=True))
            session.commit()
    return time.perf_counter() - wall, time.process_time() - cpu, cut


def _one(label: str, url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    _setup(factory)
    policy = CreditPolicy(slice_seconds=SLICE)
    # With the extension first: run without it first, the calls whose slices end
    # would be hung up, and the two runs would not do the same hang-up work.
    keeper = CreditKeeper(AST, policy=policy, expire_interval=1e9)  # expires once
    wall, cpu, cut = _ticks(factory, keeper)
    base_wall, base_cpu, base_cut = _ticks(factory, _NoExtension(AST, policy=policy))
    with factory() as s:
        open_ = s.execute(
            select(func.count()).where(
                Reservation.status == "open", Reservation.parent_id.is_(None)
            )
        ).scalar_one()
    engine.dispose()
    seconds = TICKS * TICK
    share = (cpu - base_cpu) / seconds
    print(
        f"   {label:<10} {CALLS} live calls, {TICKS} ticks ({seconds:.0f} s simulated): "
        f"hang-up check alone {base_wall / TICKS * 1e3:.2f} ms/tick "
        f"(CPU {base_cpu / TICKS * 1e3:.2f}); with extension {wall / TICKS * 1e3:.2f} ms/tick "
        f"(CPU {cpu / TICKS * 1e3:.2f}), {keeper.extended} calls extended "
        f"({keeper.extended / TICKS:.1f} per tick), {base_cut}+{cut} hung up, {open_} open; "
        f"extension = {share * 100:.2f} % of the listener's core "
        f"(wall: {(wall - base_wall) / seconds * 100:.2f} %)",
        flush=True,
    )


def run() -> None:
    on_both("bench-slices-", _one)
