"""The provisioning change counter (db/provisioning_triggers.py): what the AMI listener
polls instead of every provisioned row. It moves with every change Asterisk must see,
made through SOAP or by hand in the database, only once committed, and not with the
hot writes (balances); its triggers cover every column the views read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Alias, Column, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from db.asterisk_views import VIEWS
from db.provisioning_triggers import WATCHED, trigger_names
from services.provisioning.pjsip_conf import fingerprint
from tests.asterisk.test_provisioning_views import SECRET
from tests.asterisk.test_trunk_registrations import REG, make_trunk
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e


def version(factory: Callable[[], Session]) -> int:
    with factory() as s:
        return int(fingerprint(s))


def sql(factory: Callable[[], Session], statement: str, commit: bool = True) -> None:
    with factory() as s:
        s.execute(text(statement))
        if commit:
            s.commit()
        else:
            s.rollback()


class TestCounter:
    def test_every_provisioning_change_moves_it_and_a_balance_change_does_not(
        self, tree: Tree, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        r2, config = tree.api("R2").reseller, tree.api("admin").config
        c1 = tree.ids["C1"]
        seen = [version(session_factory)]

        def moved() -> bool:
            seen.append(version(session_factory))
            return seen[-1] > seen[-2]

        r2.SetTechDetails(account_id=c1, tech={"sip_username": "c1-phone", "sip_secret": SECRET})
        assert moved()
        sql(session_factory, f"UPDATE accounts SET balance = balance + 1 WHERE id = {c1}")
        sql(session_factory, f"UPDATE accounts SET status_reason = 'x' WHERE id = {c1}")
        assert not moved()
        r2.BlockAccount(account_id=c1, reason="unpaid")
        assert moved()
        r2.UnblockAccount(account_id=c1)
        assert moved()
        r2.SetSourceIps(account_id=c1, ips=["198.51.100.7"])
        assert moved()
        _provider, trunk = make_trunk(tree)
        assert moved()
        config.SetTrunkRegistration(trunk_id=trunk, registration=REG)
        assert moved()
        # By hand in the database: counted too; rolled back: not.
        sql(session_factory, "UPDATE providers SET status = 'disabled'", commit=False)
        assert not moved()
        sql(session_factory, "UPDATE providers SET status = 'disabled'")
        assert moved()
        sql(session_factory, f"UPDATE accounts SET path = path WHERE id = {c1}")
        assert not moved()  # an update that changes nothing Asterisk sees

    def test_the_triggers_are_there_at_head(
        self, backend: str, session_factory: Callable[[], Session]
    ) -> None:
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            if backend == "postgresql"
            else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
        with session_factory() as s:
            found = set(s.scalars(text(query)))
        assert trigger_names(backend) <= found


def read_columns() -> dict[str, set[str]]:
    """Every table column the views' selects name (InactiveAbove's hand-written SQL
    reads accounts.path and accounts.status, both watched and checked below)."""
    found: dict[str, set[str]] = {}
    for view in VIEWS:
        for element in visitors.iterate(view.select(False)):
            if isinstance(element, Column) and element.table is not None:
                table = element.table
                while isinstance(table, Alias):  # an aliased table: the real one
                    table = table.element
                found.setdefault(str(table.name), set()).add(element.name)
    found.setdefault("accounts", set()).update({"path", "status"})
    return found


def test_the_triggers_watch_every_column_the_views_read() -> None:
    for table, columns in read_columns().items():
        assert table in WATCHED, table
        watched = WATCHED[table]
        if watched is not None:
            # An id never changes; any other column read must fire the trigger.
            assert columns - {"id"} <= set(watched), (table, columns - set(watched))
