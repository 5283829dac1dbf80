"""What the window shows, without Qt: the last board the server answered, whether it is
stale, and what went wrong in words a shop keeper can act on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from client import SiptarClient
from client.errors import AuthenticationFailed, SiptarError

# The desktop asks for the board this often (the rate docs/callshop.md plans for).
POLL_SECONDS = 2.0
# Data older than this many polls is shown as stale.
STALE_AFTER_POLLS = 2


def explain(error: Exception, url: str) -> str:
    """A failure of a call to the server, in words."""
    if isinstance(error, AuthenticationFailed):
        return f"Login refused by {url}: {error.message}"
    if isinstance(error, requests.exceptions.ConnectionError):
        return f"Cannot reach the server at {url} (is the address right, is it running?)"
    if isinstance(error, requests.exceptions.Timeout):
        return f"The server at {url} did not answer in time"
    if isinstance(error, requests.exceptions.RequestException):
        return f"The server at {url} answered something unexpected: {error}"
    if isinstance(error, SiptarError):
        return f"{error.code or 'Error'}: {error.message}"
    return f"Unexpected error: {error}"


@dataclass
class Board:
    """The last good ListBooths answer, and the state of the connection."""

    api: SiptarClient
    clock: Callable[[], float] = time.monotonic
    booths: list[Any] = field(default_factory=list)
    fetched_at: float | None = None  # clock() of the last good answer
    error: str = ""  # the last failure, "" after a good answer
    failures: int = 0

    def refresh(self) -> bool:
        """Ask the server for the board; on failure keep the old data (marked stale)."""
        try:
            page = self.api.billing.ListBooths(limit=1000)
        except (SiptarError, requests.exceptions.RequestException) as e:
            self.error, self.failures = explain(e, self.api.url), self.failures + 1
            return False
        self.booths, self.fetched_at = list(page.items or []), self.clock()
        self.error, self.failures = "", 0
        return True

    @property
    def stale(self) -> bool:
        if self.fetched_at is None:
            return True
        return self.clock() - self.fetched_at > STALE_AFTER_POLLS * POLL_SECONDS

    def age(self) -> float | None:
        return None if self.fetched_at is None else self.clock() - self.fetched_at
