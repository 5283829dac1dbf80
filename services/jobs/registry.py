"""The periodic jobs of the product, in one registry.

A job is a name (unique, also its lease key), how often the worker runs it, and a
function `(session factory, now, settings) -> one-line summary`. `now` is always a
parameter (aware UTC): a job never reads the clock, so a test runs a year in seconds.
Every job must be safe to run twice for the same `now`: exactly-once comes from unique
keys in the database, never from the worker's timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from settings import Settings

JobFunction = Callable[[sessionmaker, datetime, Settings], str]


@dataclass(frozen=True)
class Job:
    name: str  # unique, also the lease key
    every: timedelta  # how often the worker runs it
    run: JobFunction  # (session factory, now (aware UTC), settings) -> one-line summary


class Registry:
    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            self.register(job)

    def register(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is registered already")
        if not job.name or len(job.name) > 64:
            raise ValueError("a job name has 1 to 64 characters (it is the lease key)")
        if job.every <= timedelta(0):
            raise ValueError(f"job {job.name!r}: `every` must be positive")
        self._jobs[job.name] = job
        return job

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, name: str) -> Job:
        return self._jobs[name]

    def names(self) -> list[str]:
        return list(self._jobs)


def default_registry() -> Registry:
    """The product's jobs. The lead adds the jobs of other modules here."""
    from services.jobs.builtin import JOBS

    return Registry(JOBS)
