"""Starting a server as a child process (`siptar serve`, `make run`) and waiting for it.

A server started by the tests writes its output to a file (`serve_log`), never to a pipe
nobody reads: gunicorn writes an access-log line per request, and once such a pipe is
full (64 KiB, a few hundred requests) every worker stops in its write and no call is
answered.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import requests

# What a pipe holds on Linux before its writer blocks.
PIPE_BUFFER = 64 * 1024


def serve_log(directory: Path) -> Path:
    return directory / "serve.log"


def start_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    stderr: int = subprocess.STDOUT,
) -> subprocess.Popen[str]:
    """`argv` in a session of its own, its stdout (and stderr, unless `stderr` says
    otherwise) appended to the file `log`."""
    with log.open("a") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=out if stderr == subprocess.STDOUT else stderr,
            text=True,
            start_new_session=True,
        )


def past_a_pipes_worth(url: str) -> set[int]:
    """The status codes of 1,500 GETs of a path that does not exist at `url`: more
    access-log lines than a pipe holds."""
    with requests.Session() as http:
        return {http.get(f"{url}/nothing-here", timeout=10).status_code for _ in range(1500)}


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
