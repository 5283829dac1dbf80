"""PostgreSQL's one statement that finds the caller by SIP peer or accountcode and locks
its chain (services/credit/chain_lock.identify_and_lock): what it finds, which chain it
locks (the caller's, deepest first, never the admin's row) and what it leaves to the
plain statements (another subtree's caller, a call shop, the admin, a broken tree), and
that Authorize answers through it as through the plain path (demo data)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from db.schema import Account
from db.session import UnitOfWork
from services.common.caller import Caller
from services.credit.answers import Denied, Reason
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.chain_lock import identify_and_lock
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
CAROL_ID = 5
NUMBER = "34911234567"


def postgresql_only(uow: Uow) -> None:
    with uow() as u:
        if u.session.get_bind().dialect.name != "postgresql":
            pytest.skip("identify and lock in one statement is PostgreSQL's")


def locked_elsewhere(uow: Uow, account_id: int) -> bool:
    """Does another transaction hold the account row's lock?"""
    with uow() as u:
        try:
            u.session.execute(
                text("SELECT id FROM accounts WHERE id = :id FOR UPDATE NOWAIT"), {"id": account_id}
            ).all()
        except OperationalError:
            return True
        return False


def set_field(uow: Uow, account_id: int, **values: object) -> None:
    with uow() as u:
        u.session.execute(update(Account).where(Account.id == account_id).values(**values))
        u.commit()


def test_finds_the_caller_and_locks_its_chain_deepest_first_not_the_admin(uow: Uow) -> None:
    postgresql_only(uow)
    with uow() as u:
        found = identify_and_lock(u.session, "acct1001", NUMBER, "", NOON)
        assert found.found and found.on_net is False
        assert found.locked is not None
        assert [a.id for a in found.locked.chain] == [ALICE_ID, RESELLER_ID]
        assert locked_elsewhere(uow, ALICE_ID)
        assert locked_elsewhere(uow, RESELLER_ID)
        assert not locked_elsewhere(uow, 1)  # the admin is never locked
        assert not locked_elsewhere(uow, CAROL_ID)  # nor anybody off the chain
    assert not locked_elsewhere(uow, ALICE_ID)  # until the transaction ends


def test_the_sip_peer_wins_over_another_accounts_accountcode(uow: Uow) -> None:
    postgresql_only(uow)
    set_field(uow, CAROL_ID, sip_username="acct1001")
    with uow() as u:
        found = identify_and_lock(u.session, "acct1001", NUMBER, "", NOON)
        assert found.locked is not None
        assert found.locked.chain[0].id == CAROL_ID
        # And the number is on-net when it is an account's peer, as identify says.
        assert identify_and_lock(u.session, "acct1002", "acct1001", "", NOON).on_net is True


def test_what_it_leaves_to_the_plain_statements(uow: Uow) -> None:
    postgresql_only(uow)
    set_field(uow, 1, accountcode="the-admin")
    set_field(uow, CAROL_ID, kind="callshop")
    with uow() as u:
        nobody = identify_and_lock(u.session, "no-such-name", NUMBER, "", NOON)
        assert (nobody.found, nobody.on_net, nobody.locked) == (False, None, None)
        # A login of another subtree: found, nothing of Alice's chain locked.
        other = identify_and_lock(u.session, "acct1001", NUMBER, f"/1/{CAROL_ID}/", NOON)
        assert other.found and other.locked is None
        assert not locked_elsewhere(uow, ALICE_ID)
        for name in ("the-admin", "acct1003"):  # the admin; a call shop (its booth gate)
            left = identify_and_lock(u.session, name, NUMBER, "", NOON)
            assert left.found and left.locked is None
        assert not locked_elsewhere(uow, CAROL_ID)


def test_a_broken_tree_is_refused(uow: Uow) -> None:
    postgresql_only(uow)
    set_field(uow, ALICE_ID, path="/1/999/3/")
    with uow() as u, pytest.raises(Denied) as refused:
        identify_and_lock(u.session, "acct1001", NUMBER, "", NOON)
    assert refused.value.reason == Reason.UNKNOWN_ACCOUNT


def test_authorize_answers_another_subtrees_caller_unknown_on_both_databases(uow: Uow) -> None:
    carol = Caller(0, "carol", CAROL_ID, "customer", f"/1/{CAROL_ID}/")
    with uow() as u:
        answer = authorize(u, carol, AuthorizeRequest(NUMBER, "acct1001"), now=NOON)
    assert not answer.allowed and answer.reason == Reason.UNKNOWN_ACCOUNT
    with uow() as u:
        own = authorize(u, None, AuthorizeRequest(NUMBER, "acct1001", uniqueid="x.1"), now=NOON)
    assert own.allowed and own.account_id == ALICE_ID


def test_the_routes_live_figures_come_with_the_lock_while_the_routes_are_current(
    uow: Uow,
) -> None:
    """The route the process's cache gives the number: its trunks' open calls and buy
    sheets' versions read with the lock, used only while the routing stamp is the
    cache's (a change of the routes, here by hand, is seen by the next call)."""
    postgresql_only(uow)
    with uow() as u:  # loads the routes into this process's cache
        assert authorize(u, None, AuthorizeRequest(NUMBER, "acct1001", uniqueid="w"), now=NOON)
    with uow() as u:
        found = identify_and_lock(u.session, "acct1001", NUMBER, "", NOON)
        assert found.live is not None
        trunks = u.session.execute(text("SELECT id, open_calls FROM trunks")).all()
        sheets = u.session.execute(text("SELECT id, version FROM rate_sheets")).all()
        assert found.live.in_use == {t: n for t, n in trunks if t in found.live.in_use}
        assert found.live.in_use and sum(found.live.in_use.values()) >= 1  # the call above
        assert set(found.live.versions) <= {(int(i), int(v)) for i, v in sheets}
        assert found.live.versions
    with uow() as u:
        u.session.execute(text("UPDATE trunks SET name = name || ' 2'"))
        u.commit()  # the routing triggers bump the stamp: the cache is not current
    with uow() as u:
        assert identify_and_lock(u.session, "acct1001", NUMBER, "", NOON).live is None
