"""The jobs registered by default: recurring charges and reservation expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from db.session import UnitOfWork
from services.credit.expiry import expire_reservations
from services.jobs.registry import Job
from services.recurring.charging import charge_due
from settings import Settings


def _recurring(factory: sessionmaker, now: datetime, settings: Settings) -> str:
    return charge_due(factory, now).summary()


def _expire(factory: sessionmaker, now: datetime, settings: Settings) -> str:
    with UnitOfWork(factory) as uow:
        return f"expired the reservations of {expire_reservations(uow, now)} calls"


JOBS = (
    Job("recurring-charges", timedelta(minutes=5), _recurring),
    Job("reservation-expiry", timedelta(minutes=1), _expire),
)
