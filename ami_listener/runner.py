"""`siptar ami`: the listener wired to the database.

Cdr events reach `CdrWriter` in batches (up to 200 records or 50 ms): one transaction per
batch through services.cdr.batches.store_batch, with a savepoint per record when one
fails, and the on-disk spool while the database is down (ami_listener/writer.py). Call
events feed `LiveCallMonitor` (ami_listener/live.py): the `live_calls` table and the
hang-up of calls whose credit reservation ran out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from ami_listener.callbacks import CallbackEvents
from ami_listener.credit import CreditKeeper
from ami_listener.fastagi import Authorizer, FastAgiServer, InboundLookup
from ami_listener.listener import AmiLoginError, CdrListener
from ami_listener.live import LiveCallMonitor
from ami_listener.provisioning import ProvisioningWatcher
from ami_listener.spool import Spool
from ami_listener.writer import CdrWriter
from db.session import UnitOfWork, make_engine, make_session_factory, masked
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome, record_cdr
from services.common import runtime_settings
from services.common.gc_tuning import tune_gc
from services.credit.authorize import Authorization, AuthorizeRequest, authorize
from services.credit.policy import DEFAULT_POLICY, CreditPolicy
from services.dids.switch import InboundRoute, route_inbound
from services.vouchers.agi import redeemer
from settings import Settings

logger = logging.getLogger(__name__)


def cdr_handler(session_factory: Callable[[], Session]) -> Callable[[CdrRecord], Outcome]:
    """One record, one transaction (for tools that don't batch)."""

    def handle(record: CdrRecord) -> Outcome:
        with UnitOfWork(session_factory) as uow:
            outcome = record_cdr(uow, record)
        if outcome is Outcome.UNRATED:
            logger.warning("CDR %s stored unrated", record.uniqueid)
        return outcome

    return handle


def asterisk_name(settings: Settings) -> str:
    """Which Asterisk a live call is on (`live_calls.asterisk`): its AMI address."""
    return f"{settings.ami_host}:{settings.ami_port}"


def make_listener(
    settings: Settings,
    session_factory: Callable[[], Session],
    writer: CdrWriter | None = None,
    monitor: LiveCallMonitor | None = None,
    **options: object,
) -> CdrListener:
    writer = writer or CdrWriter(session_factory, Spool(settings.spool_dir))
    return CdrListener(
        settings.ami_host,
        settings.ami_port,
        settings.ami_user,
        settings.ami_secret,
        settings.tz,
        lambda record: writer.write([record]),  # unused in batch mode
        handle_batch=writer.write,
        batch_size=writer.batch_size,
        events="system,cdr" if monitor is None else "system,cdr,call",
        # The web callback's events ride on the live-call monitor's (services/callback).
        handlers=None
        if monitor is None
        else CallbackEvents(session_factory).handlers(monitor.handlers()),
        **options,  # type: ignore[arg-type]
    )


async def serve(
    listener: CdrListener,
    writer: CdrWriter,
    monitor: LiveCallMonitor | None,
    watcher: ProvisioningWatcher | None = None,
) -> None:
    """Run until SIGINT/SIGTERM; then spill anything not committed to the spool."""
    tasks = [asyncio.create_task(part.run(listener)) for part in (monitor, watcher) if part]
    try:
        await listener.run_forever()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(writer.close)


def provisioning_watcher(
    settings: Settings, session_factory: Callable[[], Session]
) -> ProvisioningWatcher | None:
    """The debounced reload, when SIPTAR_RELOAD_DEBOUNCE or SIPTAR_PJSIP_INCLUDE asks."""
    if not settings.reload_debounce and not settings.pjsip_include:
        return None
    return ProvisioningWatcher(
        session_factory,
        debounce=float(settings.reload_debounce or 2),
        include=Path(settings.pjsip_include) if settings.pjsip_include else None,
    )


def run(settings: Settings) -> None:
    tune_gc()
    engine = make_engine(settings.database_url)
    logger.info(
        "AMI listener: %s@%s:%d, database %s, Asterisk time zone %s, spool %s",
        settings.ami_user,
        settings.ami_host,
        settings.ami_port,
        masked(settings.database_url),
        settings.asterisk_tz,
        settings.spool_dir,
    )
    factory = make_session_factory(engine)
    writer = CdrWriter(factory, Spool(settings.spool_dir))
    asterisk = asterisk_name(settings)
    credit = CreditKeeper(asterisk, policy=CreditPolicy.from_settings(settings))
    monitor = LiveCallMonitor(factory, asterisk=asterisk, credit=credit)
    listener = make_listener(settings, factory, writer, monitor)
    watcher = provisioning_watcher(settings, factory)
    try:
        asyncio.run(serve(listener, writer, monitor, watcher))
    except AmiLoginError as e:
        sys.exit(f"siptar ami: {e}")
    finally:
        engine.dispose()


def authorizer(
    session_factory: Callable[[], Session], policy: CreditPolicy = DEFAULT_POLICY
) -> Authorizer:
    def run_one(req: AuthorizeRequest) -> Authorization:
        with UnitOfWork(session_factory) as uow:
            # The runtime settings (database) over the environment's policy.
            return authorize(uow, None, req, policy=runtime_settings.RuntimePolicy(policy))

    return run_one


def inbound_lookup(session_factory: Callable[[], Session]) -> InboundLookup:
    def run_one(number: str) -> InboundRoute:
        with UnitOfWork(session_factory) as uow:
            return route_inbound(uow, number)

    return run_one


def run_agi(settings: Settings) -> None:
    """`siptar agi`: the FastAGI authorize endpoint on SIPTAR_AGI_BIND."""
    engine = make_engine(settings.database_url)
    host, _, port = settings.agi_bind.rpartition(":")
    logger.info("FastAGI on %s, database %s", settings.agi_bind, masked(settings.database_url))
    policy = CreditPolicy.from_settings(settings)
    factory = make_session_factory(engine)
    server = FastAgiServer(
        authorizer(factory, policy),
        host or "127.0.0.1",
        int(port),
        inbound=inbound_lookup(factory),
        redeemer=redeemer(factory, settings.voucher_key.encode()),
    )
    try:
        asyncio.run(server.run_until_signalled())
    finally:
        engine.dispose()
