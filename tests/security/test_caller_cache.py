"""The caller cache (services/common/caller_cache.py): a repeated call with the same
username and password costs no statement, and every change of a login or account that
decides who the caller is takes effect on the very next call of this process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from client import SiptarClient, errors
from db.schema import Account, LoginAttempt
from db.session import UnitOfWork
from rating import errors as errors_server
from services.common import caller_cache, throttle
from services.common.throttle import guarded_authenticate

pytestmark = pytest.mark.usefixtures("demo")

Client = Callable[[str, str], SiptarClient]
ALICE = 3
NEW = "a-new-secret-42"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    throttle.forget_successes()
    yield
    throttle.forget_successes()


def statements_of_a_login(
    session_factory: Callable[[], Session], username: str, password: str
) -> int:
    with UnitOfWork(session_factory) as uow:
        engine = uow.session.get_bind()
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            guarded_authenticate(uow.session, username, password, "192.0.2.1", [])
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(seen)


class TestHits:
    def test_a_second_login_within_the_ttl_sends_no_statement(
        self, session_factory: Callable[[], Session]
    ) -> None:
        assert statements_of_a_login(session_factory, "customer", "customer") >= 2
        assert statements_of_a_login(session_factory, "Customer", "customer") == 0

    def test_another_password_is_checked_in_full_and_fails(
        self, session_factory: Callable[[], Session]
    ) -> None:
        statements_of_a_login(session_factory, "customer", "customer")
        with pytest.raises(errors_server.AuthenticationFailed):
            statements_of_a_login(session_factory, "customer", "wrong-password")

    def test_an_entry_expires_after_the_ttl(
        self, session_factory: Callable[[], Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        now = [1000.0]
        monkeypatch.setattr(caller_cache.callers, "clock", lambda: now[0])
        statements_of_a_login(session_factory, "customer", "customer")
        now[0] += caller_cache.TTL - 0.1
        assert statements_of_a_login(session_factory, "customer", "customer") == 0
        now[0] += 0.2
        assert statements_of_a_login(session_factory, "customer", "customer") >= 2

    def test_a_failed_login_drops_the_entry_so_the_throttle_decides_again(
        self, session_factory: Callable[[], Session]
    ) -> None:
        statements_of_a_login(session_factory, "customer", "customer")
        pending: list[LoginAttempt] = []
        with UnitOfWork(session_factory) as uow, pytest.raises(errors_server.AuthenticationFailed):
            guarded_authenticate(uow.session, "customer", "guess", "192.0.2.9", pending)
        assert statements_of_a_login(session_factory, "customer", "customer") >= 2

    def test_a_bulk_update_of_accounts_clears_it(
        self, session_factory: Callable[[], Session]
    ) -> None:
        statements_of_a_login(session_factory, "customer", "customer")
        with UnitOfWork(session_factory) as uow:
            uow.session.execute(update(Account).where(Account.id == ALICE).values(status="blocked"))
            uow.commit()
        with pytest.raises(errors_server.AuthenticationFailed):
            statements_of_a_login(session_factory, "customer", "customer")


class TestInvalidatedOnChange:
    """Each change is made after a call that filled the cache, then the old credentials
    (or the blocked login) are tried at once, well within the TTL."""

    def test_change_password(self, client_for: Client) -> None:
        alice = client_for("customer", "customer")
        alice.billing.GetBalance()
        alice.billing.ChangePassword(current="customer", new=NEW)
        with pytest.raises(errors.AuthenticationFailed):
            alice.billing.GetBalance()
        assert client_for("customer", NEW).billing.GetBalance().account_id == ALICE

    def test_set_password_by_the_reseller(self, client_for: Client) -> None:
        alice = client_for("customer", "customer")
        alice.billing.GetBalance()
        client_for("reseller", "reseller").reseller.SetPassword(username="customer", password=NEW)
        with pytest.raises(errors.AuthenticationFailed):
            alice.billing.GetBalance()

    @pytest.mark.parametrize("operation", ["BlockAccount", "CloseAccount"])
    def test_block_and_close(self, client_for: Client, operation: str) -> None:
        alice = client_for("customer", "customer")
        alice.billing.GetBalance()
        reseller = client_for("reseller", "reseller")
        getattr(reseller.reseller, operation)(account_id=ALICE, reason="unpaid")
        with pytest.raises(errors.AuthenticationFailed):
            alice.billing.GetBalance()

    def test_unblock_lets_the_login_in_again(self, client_for: Client) -> None:
        alice = client_for("customer", "customer")
        reseller = client_for("reseller", "reseller")
        reseller.reseller.BlockAccount(account_id=ALICE, reason="unpaid")
        with pytest.raises(errors.AuthenticationFailed):
            alice.billing.GetBalance()
        reseller.reseller.UnblockAccount(account_id=ALICE)
        assert alice.billing.GetBalance().account_id == ALICE
