"""The provisioning change counter: database triggers bump `provisioning_state.version`
whenever a row Asterisk's views are made of changes, in the same transaction, on
PostgreSQL and on SQLite. The AMI listener compares one number per poll instead of
digesting every provisioned row (2.5 s a poll at 20,000 accounts; bench/bench_provisioning.py).

Why triggers and not a bump in the use cases: a change made by any path (a use case, a
bulk import, a script, psql by hand) counts, and nobody has to remember to signal it.
Why a counter row and not a sequence: the new value is seen only when the change is
committed, so the listener never reloads Asterisk before the data it must see is there.
Why `UPDATE OF` + WHEN on accounts: the hot writes (balances, every call) touch none of
these columns, so they never fire the trigger nor lock the counter row.

`WATCHED` must name every column db/asterisk_views.py reads (a test checks it). A
migration that rebuilds a watched table on SQLite (batch_alter_table copies the table)
drops its triggers: call `create_triggers` again at the end of such a migration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, text

# table -> the columns whose update matters (None: any update).
WATCHED: Mapping[str, tuple[str, ...] | None] = {
    "accounts": (
        "path",
        "status",
        "sip_username",
        "sip_md5_cred",
        "sip_realm",
        "accountcode",
        "max_concurrent_calls",
    ),
    "account_callerids": None,
    "account_source_ips": None,
    # Not `open_calls`: every Authorize and settlement changes it (services/credit/holds.py),
    # and a bump there made every call wait on the counter row and reload Asterisk.
    "trunks": ("provider_id", "name", "dial_string", "channel_limit", "status", "sip_host"),
    "trunk_registrations": None,
    "providers": ("status",),
}

FUNCTION = "siptar_provisioning_changed"
_BUMP = (
    "INSERT INTO provisioning_state (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = provisioning_state.version + 1"
)


@dataclass(frozen=True)
class Triggers:
    """A counter kept by triggers: the tables (and columns) watched, the statement that
    bumps it, and the names of its function and triggers. db/routing_triggers.py has a
    second one (the routes' `config_versions` stamp)."""

    watched: Mapping[str, tuple[str, ...] | None]
    function: str
    bump: str
    prefix: str

    def name(self, table: str, event: str) -> str:
        return f"{self.prefix}_{table}_{event}"

    def postgresql_ddl(self) -> list[str]:
        statements = [
            f"CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {self.bump}; RETURN NULL; END $$"
        ]
        for table, columns in self.watched.items():
            insdel, upd = self.name(table, "insdel"), self.name(table, "upd")
            statements += [
                f"DROP TRIGGER IF EXISTS {insdel} ON {table}",
                f"CREATE TRIGGER {insdel} AFTER INSERT OR DELETE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {self.function}()",
                f"DROP TRIGGER IF EXISTS {upd} ON {table}",
            ]
            if columns is None:
                statements.append(
                    f"CREATE TRIGGER {upd} AFTER UPDATE ON {table} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {self.function}()"
                )
            else:
                statements.append(
                    f"CREATE TRIGGER {upd} AFTER UPDATE OF {', '.join(columns)} "
                    f"ON {table} FOR EACH ROW WHEN ({_changed(columns, 'IS DISTINCT FROM')}) "
                    f"EXECUTE FUNCTION {self.function}()"
                )
        return statements

    def sqlite_ddl(self) -> list[str]:
        statements = []
        for table, columns in self.watched.items():
            for event in ("ins", "del", "upd"):
                statements.append(f"DROP TRIGGER IF EXISTS {self.name(table, event)}")
            statements += [
                f"CREATE TRIGGER {self.name(table, 'ins')} AFTER INSERT ON {table} "
                f"BEGIN {self.bump}; END",
                f"CREATE TRIGGER {self.name(table, 'del')} AFTER DELETE ON {table} "
                f"BEGIN {self.bump}; END",
            ]
            if columns is None:
                update = f"AFTER UPDATE ON {table}"
            else:
                update = (
                    f"AFTER UPDATE OF {', '.join(columns)} ON {table} "
                    f"FOR EACH ROW WHEN {_changed(columns, 'IS NOT')}"
                )
            statements.append(
                f"CREATE TRIGGER {self.name(table, 'upd')} {update} BEGIN {self.bump}; END"
            )
        return statements

    def trigger_names(self, dialect: str) -> set[str]:
        return {self.name(table, event) for table in self.watched for event in _events(dialect)}

    def create(self, bind: Connection) -> None:
        """(Re)create every trigger; idempotent. `bind`: alembic's op.get_bind()."""
        ddl = self.postgresql_ddl() if bind.dialect.name == "postgresql" else self.sqlite_ddl()
        for statement in ddl:
            bind.execute(text(statement))

    def drop(self, bind: Connection) -> None:
        dialect = bind.dialect.name
        for table in self.watched:
            on = f" ON {table}" if dialect == "postgresql" else ""
            for event in _events(dialect):
                bind.execute(text(f"DROP TRIGGER IF EXISTS {self.name(table, event)}{on}"))
        if dialect == "postgresql":
            bind.execute(text(f"DROP FUNCTION IF EXISTS {self.function}()"))


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def _events(dialect: str) -> tuple[str, ...]:
    return ("insdel", "upd") if dialect == "postgresql" else ("ins", "del", "upd")


PROVISIONING = Triggers(WATCHED, FUNCTION, _BUMP, "siptar_prov")


def postgresql_ddl() -> list[str]:
    return PROVISIONING.postgresql_ddl()


def sqlite_ddl() -> list[str]:
    return PROVISIONING.sqlite_ddl()


def trigger_names(dialect: str) -> set[str]:
    return PROVISIONING.trigger_names(dialect)


def create_triggers(bind: Connection) -> None:
    """(Re)create every trigger; idempotent. `bind`: alembic's op.get_bind()."""
    PROVISIONING.create(bind)


def drop_triggers(bind: Connection) -> None:
    PROVISIONING.drop(bind)
