"""Waiting for a server started as a child process (`siptar serve`, `make run`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests


def wait_for_http(
    url: str, proc: subprocess.Popen[str], what: str, seconds: float, *, log: Path | None = None
) -> None:
    """Return once `url` answers 200; fail with `proc`'s output (its stdout pipe, or the
    file `log` it writes to) if it exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            if log is not None and log.exists():
                out += log.read_text()
            raise AssertionError(f"{what} exited:\n{out}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not bound yet, or a worker still booting
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not answer within {seconds:.0f} s")
