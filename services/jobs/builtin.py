"""The jobs registered by default: recurring charges, reservation expiry, the
period's invoices and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from db.session import UnitOfWork
from services.billing.invoice_usecases import run_issue_invoices
from services.credit.expiry import expire_reservations
from services.jobs.registry import Job
from services.mail.sender import run_send_outbox
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
    # Invoices of ended periods: a rerun finds them issued (one per account and period).
    Job("invoices", timedelta(hours=1), run_issue_invoices),
    # Mail queued by invoices and balance alerts; each mail is claimed before it is sent.
    Job("outbox", timedelta(minutes=1), run_send_outbox),
)
