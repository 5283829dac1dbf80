"""`siptar ami`: the listener wired to the database.

Each CDR is stored and rated by services.cdr.usecases.record_cdr in its own unit of
work (one transaction), so a failure costs that CDR's transaction and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from ami_listener.fastagi import Authorizer, FastAgiServer
from ami_listener.listener import AmiLoginError, CdrListener
from db.session import UnitOfWork, make_engine, make_session_factory, masked
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome, record_cdr
from services.credit.authorize import Authorization, AuthorizeRequest, authorize
from settings import Settings

logger = logging.getLogger(__name__)


def cdr_handler(session_factory: Callable[[], Session]) -> Callable[[CdrRecord], Outcome]:
    def handle(record: CdrRecord) -> Outcome:
        with UnitOfWork(session_factory) as uow:
            outcome = record_cdr(uow, record)
        if outcome is Outcome.UNRATED:
            logger.warning("CDR %s stored unrated", record.uniqueid)
        return outcome

    return handle


def make_listener(settings: Settings, session_factory: Callable[[], Session]) -> CdrListener:
    return CdrListener(
        settings.ami_host,
        settings.ami_port,
        settings.ami_user,
        settings.ami_secret,
        settings.tz,
        cdr_handler(session_factory),
    )


def run(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    logger.info(
        "AMI listener: %s@%s:%d, database %s, Asterisk time zone %s",
        settings.ami_user,
        settings.ami_host,
        settings.ami_port,
        masked(settings.database_url),
        settings.asterisk_tz,
    )
    listener = make_listener(settings, make_session_factory(engine))
    try:
        asyncio.run(listener.run_forever())
    except AmiLoginError as e:
        sys.exit(f"siptar ami: {e}")
    finally:
        engine.dispose()


def authorizer(session_factory: Callable[[], Session]) -> Authorizer:
    def run_one(req: AuthorizeRequest) -> Authorization:
        with UnitOfWork(session_factory) as uow:
            return authorize(uow, None, req)

    return run_one


def run_agi(settings: Settings) -> None:
    """`siptar agi`: the FastAGI authorize endpoint on SIPTAR_AGI_BIND."""
    engine = make_engine(settings.database_url)
    host, _, port = settings.agi_bind.rpartition(":")
    logger.info("FastAGI on %s, database %s", settings.agi_bind, masked(settings.database_url))
    server = FastAgiServer(authorizer(make_session_factory(engine)), host or "127.0.0.1", int(port))
    try:
        asyncio.run(server.serve_forever())
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
