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
    "trunks": None,
    "trunk_registrations": None,
    "providers": ("status",),
}

FUNCTION = "siptar_provisioning_changed"
_BUMP = (
    "INSERT INTO provisioning_state (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = provisioning_state.version + 1"
)


def _name(table: str, event: str) -> str:
    return f"siptar_prov_{table}_{event}"


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in columns)


def postgresql_ddl() -> list[str]:
    statements = [
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_BUMP}; RETURN NULL; END $$"
    ]
    for table, columns in WATCHED.items():
        statements += [
            f"DROP TRIGGER IF EXISTS {_name(table, 'insdel')} ON {table}",
            f"CREATE TRIGGER {_name(table, 'insdel')} AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()",
            f"DROP TRIGGER IF EXISTS {_name(table, 'upd')} ON {table}",
        ]
        if columns is None:
            statements.append(
                f"CREATE TRIGGER {_name(table, 'upd')} AFTER UPDATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        else:
            statements.append(
                f"CREATE TRIGGER {_name(table, 'upd')} AFTER UPDATE OF {', '.join(columns)} "
                f"ON {table} FOR EACH ROW WHEN ({_changed(columns, 'IS DISTINCT FROM')}) "
                f"EXECUTE FUNCTION {FUNCTION}()"
            )
    return statements


def sqlite_ddl() -> list[str]:
    statements = []
    for table, columns in WATCHED.items():
        for event in ("ins", "del", "upd"):
            statements.append(f"DROP TRIGGER IF EXISTS {_name(table, event)}")
        statements += [
            f"CREATE TRIGGER {_name(table, 'ins')} AFTER INSERT ON {table} BEGIN {_BUMP}; END",
            f"CREATE TRIGGER {_name(table, 'del')} AFTER DELETE ON {table} BEGIN {_BUMP}; END",
        ]
        if columns is None:
            update = f"AFTER UPDATE ON {table}"
        else:
            update = (
                f"AFTER UPDATE OF {', '.join(columns)} ON {table} "
                f"FOR EACH ROW WHEN {_changed(columns, 'IS NOT')}"
            )
        statements.append(f"CREATE TRIGGER {_name(table, 'upd')} {update} BEGIN {_BUMP}; END")
    return statements


def _events(dialect: str) -> tuple[str, ...]:
    return ("insdel", "upd") if dialect == "postgresql" else ("ins", "del", "upd")


def trigger_names(dialect: str) -> set[str]:
    return {_name(table, event) for table in WATCHED for event in _events(dialect)}


def create_triggers(bind: Connection) -> None:
    """(Re)create every trigger; idempotent. `bind`: alembic's op.get_bind()."""
    ddl = postgresql_ddl() if bind.dialect.name == "postgresql" else sqlite_ddl()
    for statement in ddl:
        bind.execute(text(statement))


def drop_triggers(bind: Connection) -> None:
    dialect = bind.dialect.name
    for table in WATCHED:
        on = f" ON {table}" if dialect == "postgresql" else ""
        for event in _events(dialect):
            bind.execute(text(f"DROP TRIGGER IF EXISTS {_name(table, event)}{on}"))
    if dialect == "postgresql":
        bind.execute(text(f"DROP FUNCTION IF EXISTS {FUNCTION}()"))
