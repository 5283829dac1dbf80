"""Logins: an unknown username costs the same scrypt work as a wrong password, failed
logins are throttled per username and per address (and the lock lifts by itself),
attempts are recorded, and usernames are unique case-insensitively."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from client import errors
from db.schema import LoginAttempt, utcnow
from db.session import UnitOfWork
from rating.errors import AuthenticationFailed, TooManyAttempts
from services.common import throttle
from services.common.throttle import guarded_authenticate, record

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture(autouse=True)
def _fresh_memo() -> Iterator[None]:
    throttle.forget_successes()
    yield
    throttle.forget_successes()


def attempt(
    session_factory: Callable[[], Session],
    username: str,
    password: str,
    address: str = "192.0.2.1",
    minutes_later: int = 0,
) -> str:
    """Log in as the service edge does; the outcome: "ok", or the error's code."""
    pending: list[LoginAttempt] = []
    now = utcnow() + timedelta(minutes=minutes_later)
    try:
        with UnitOfWork(session_factory) as uow:
            guarded_authenticate(uow.session, username, password, address, pending, now)
            return "ok"
    except (AuthenticationFailed, TooManyAttempts) as e:
        return e.code
    finally:
        record(session_factory, pending)


class TestTiming:
    def test_an_unknown_username_runs_scrypt_at_the_cost_of_a_known_one(
        self, session_factory: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        attempt(session_factory, "warm-up", "x")  # the stand-in hash is made once per process
        costs: list[int] = []
        real = hashlib.scrypt

        def counting(password: bytes, **kw: Any) -> bytes:
            costs.append(kw["n"])
            return real(password, **kw)

        monkeypatch.setattr(hashlib, "scrypt", counting)
        assert attempt(session_factory, "admin", "wrong-password") == "AuthenticationFailed"
        known = list(costs)
        costs.clear()
        assert attempt(session_factory, "nobody-here", "wrong-password") == "AuthenticationFailed"
        assert costs == known == [2**14]


class TestThrottle:
    def test_the_eleventh_try_is_refused_even_with_the_right_password(
        self, session_factory: Callable[[], Session]
    ) -> None:
        for _ in range(throttle.MAX_FAILURES_PER_USERNAME):
            assert attempt(session_factory, "admin", "guess") == "AuthenticationFailed"
        assert attempt(session_factory, "admin", "admin") == "TooManyAttempts"
        assert attempt(session_factory, "ADMIN", "guess") == "TooManyAttempts"
        # other users from the same address are not locked
        assert attempt(session_factory, "reseller", "reseller") == "ok"
        # the lock lifts by itself once the failures leave the window
        assert attempt(session_factory, "admin", "admin", minutes_later=16) == "ok"

    def test_unknown_usernames_are_throttled_like_known_ones(
        self, session_factory: Callable[[], Session]
    ) -> None:
        for _ in range(throttle.MAX_FAILURES_PER_USERNAME):
            assert attempt(session_factory, "ghost", "guess") == "AuthenticationFailed"
        assert attempt(session_factory, "ghost", "guess") == "TooManyAttempts"

    def test_an_attacker_elsewhere_does_not_lock_the_user_out_of_its_usual_address(
        self, session_factory: Callable[[], Session]
    ) -> None:
        assert attempt(session_factory, "customer", "customer", "198.51.100.7") == "ok"
        for i in range(throttle.MAX_FAILURES_PER_USERNAME + 5):
            attempt(session_factory, "customer", "guess", f"203.0.113.{i}")
        assert attempt(session_factory, "customer", "customer", "203.0.113.99") == (
            "TooManyAttempts"
        )
        assert attempt(session_factory, "customer", "customer", "198.51.100.7") == "ok"

    def test_one_address_guessing_many_usernames_is_stopped(
        self, session_factory: Callable[[], Session]
    ) -> None:
        for i in range(throttle.MAX_FAILURES_PER_ADDRESS):
            attempt(session_factory, f"user{i}", "guess", "203.0.113.5")
        assert attempt(session_factory, "admin", "admin", "203.0.113.5") == "TooManyAttempts"
        assert attempt(session_factory, "admin", "admin", "203.0.113.6") == "ok"

    def test_failed_and_successful_logins_are_recorded(
        self, session_factory: Callable[[], Session]
    ) -> None:
        attempt(session_factory, "Admin", "guess")
        attempt(session_factory, "admin", "admin")
        attempt(session_factory, "admin", "admin")  # the same login again: not every call
        with session_factory() as s:
            rows = s.execute(
                select(LoginAttempt.username_key, LoginAttempt.address, LoginAttempt.success)
            ).all()
        assert sorted(rows) == [("admin", "192.0.2.1", False), ("admin", "192.0.2.1", True)]


class TestOverSoap:
    def test_too_many_attempts_is_a_clear_fault(
        self, client_for: Callable[[str, str], Any]
    ) -> None:
        wrong = client_for("reseller", "not-the-password")
        for _ in range(throttle.MAX_FAILURES_PER_USERNAME):
            with pytest.raises(errors.AuthenticationFailed):
                wrong.billing.GetBalance()
        with pytest.raises(errors.TooManyAttempts):
            client_for("reseller", "reseller").billing.GetBalance()
        assert client_for("customer", "customer").billing.GetBalance().balance is not None


class TestCaseInsensitiveUsernames:
    def test_a_login_differing_only_by_case_is_refused(
        self, client_for: Callable[[str, str], Any]
    ) -> None:
        reseller = client_for("reseller", "reseller").reseller
        with pytest.raises(errors.AlreadyExists):
            reseller.CreateAccount(
                account={"name": "Mallory", "username": "Admin", "password": "long-enough-pw"}
            )
        with pytest.raises(errors.AlreadyExists):
            reseller.ImportAccounts(
                format="csv", data=b"name,username,password\nMallory,ADMIN,long-enough-pw\n"
            )

    def test_a_login_answers_to_its_name_in_any_case(
        self, client_for: Callable[[str, str], Any]
    ) -> None:
        assert client_for("CUSTOMER", "customer").billing.GetBalance().balance is not None
