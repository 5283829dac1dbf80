"""Leases: one row per job in `job_leases`, taken by a conditional UPDATE.

A worker holds a job's lease while it runs it and renews it between batches; a lease
not renewed for `ttl` is free again (its worker died). The lease runs on the wall clock
of the database host's peers (passed in), not on the job's `now`, which tests move
freely: a lease is about live processes, `now` is about what to bill.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.recurring_schema import JobLease
from services.recurring.keyed import rowcount


def acquire(
    factory: sessionmaker[Session], name: str, holder: str, wall: datetime, ttl: timedelta
) -> bool:
    """Take the lease of job `name` for `holder` (or renew it); True when held."""
    with factory() as session:
        if session.get(JobLease, name) is None:
            try:
                session.add(JobLease(name=name, holder="", expires_at=wall))
                session.commit()
            except IntegrityError:  # another worker created it at the same moment
                session.rollback()
        taken = rowcount(
            session.execute(
                update(JobLease)
                .where(
                    JobLease.name == name,
                    or_(JobLease.expires_at <= wall, JobLease.holder == holder),
                )
                .values(holder=holder, acquired_at=wall, expires_at=wall + ttl)
            )
        )
        session.commit()
        return bool(taken)


def renew(
    factory: sessionmaker[Session], name: str, holder: str, wall: datetime, ttl: timedelta
) -> bool:
    """Extend a lease this holder still has; False if it expired and someone took it."""
    with factory() as session:
        kept = rowcount(
            session.execute(
                update(JobLease)
                .where(JobLease.name == name, JobLease.holder == holder)
                .values(expires_at=wall + ttl)
            )
        )
        session.commit()
        return bool(kept)


def release(factory: sessionmaker[Session], name: str, holder: str, wall: datetime) -> None:
    with factory() as session:
        session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(holder="", expires_at=wall)
        )
        session.commit()
