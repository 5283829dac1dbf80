"""A production install: `siptar init` on an empty database (no demo data), then
`siptar admin add|passwd`; `siptar demo --if-empty` leaves an installed database alone."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import cli
from db.schema import Account, Login, RateSheet, Route, Trunk
from rating.errors import AuthenticationFailed
from services.common.caller import authenticate

pytestmark = pytest.mark.integration


def run(capsys: pytest.CaptureFixture[str], url: str, *argv: str, stdin: str = "") -> str:
    capsys.readouterr()
    old = cli.sys.stdin
    cli.sys.stdin = io.StringIO(stdin)
    try:
        cli.main([*argv, "--database-url", url])
    finally:
        cli.sys.stdin = old
    return capsys.readouterr().out


def shown_password(out: str) -> str:
    match = re.search(r"password \(shown once, keep it\): (\S+)", out)
    assert match is not None, out
    return match.group(1)


def counts(factory: Callable[[], Session]) -> dict[str, int]:
    with factory() as s:
        return {
            t.__name__: s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (Account, Login, RateSheet, Route, Trunk)
        }


def test_init_creates_the_operator_and_nothing_else(
    database_url: str, session_factory: Callable[[], Session], capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(
        capsys,
        database_url,
        "init",
        "--name",
        "Acme Telecom",
        "--currency",
        "EUR",
        "--timezone",
        "Europe/Madrid",
    )
    password = shown_password(out)
    assert len(password) >= 16
    assert counts(session_factory) == {
        "Account": 1,
        "Login": 1,
        "RateSheet": 0,
        "Route": 0,
        "Trunk": 0,
    }
    with session_factory() as s:
        root = s.scalars(select(Account)).one()
        assert (root.name, root.role, root.currency, root.timezone, root.path) == (
            "Acme Telecom",
            "admin",
            "EUR",
            "Europe/Madrid",
            f"/{root.id}/",
        )
        assert authenticate(s, "admin", password).is_admin
        with pytest.raises(AuthenticationFailed):
            authenticate(s, "admin", "admin")  # no demo password
    # Once only; and the demo does not go on top of it.
    with pytest.raises(SystemExit, match="empty one"):
        run(capsys, database_url, "init")
    assert "demo not loaded" in run(capsys, database_url, "demo", "--if-empty")
    assert counts(session_factory)["Account"] == 1


def test_admin_logins_are_added_and_passwords_reset_from_the_command_line(
    database_url: str, session_factory: Callable[[], Session], capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, database_url, "init", "--password-stdin", stdin="first-secret-1\n")
    out = run(
        capsys, database_url, "admin", "add", "ops", "--password-stdin", stdin="ops-secret-22\n"
    )
    assert "admin login ops added" in out and "ops-secret-22" not in out
    new = shown_password(run(capsys, database_url, "admin", "passwd", "admin"))
    with session_factory() as s:
        assert authenticate(s, "ops", "ops-secret-22").is_admin
        assert authenticate(s, "admin", new).is_admin
        with pytest.raises(AuthenticationFailed):
            authenticate(s, "admin", "first-secret-1")
    with pytest.raises(SystemExit, match="8 to 256"):
        run(capsys, database_url, "admin", "passwd", "ops", "--password-stdin", stdin="short\n")
    with pytest.raises(SystemExit, match="not found"):
        run(capsys, database_url, "admin", "passwd", "nobody")
    with pytest.raises(SystemExit, match="taken"):
        run(capsys, database_url, "admin", "add", "ops", "--password-stdin", stdin="x-secret-333\n")


def test_init_refuses_a_bad_currency_or_time_zone(
    database_url: str, session_factory: Callable[[], Session], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match="currency"):
        run(capsys, database_url, "init", "--currency", "euro")
    with pytest.raises(SystemExit, match="time zone"):
        run(capsys, database_url, "init", "--timezone", "Mars/Olympus")
    assert counts(session_factory)["Account"] == 0
