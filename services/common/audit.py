"""The audit log: every change a service call makes, recorded by a hook, not by the
operations.

SiptarApplication (services/common/app.py) marks the session of each call with an
`Actor` (who, from where, which operation: the spyne method name). Two SQLAlchemy
session events, registered once for every Session, then see what the call changes:

- `after_flush`: every ORM insert, update and delete of the flush, one event per row,
  with the before/after values of the changed columns;
- `do_orm_execute`: every UPDATE or DELETE statement run through the session (set-based
  changes such as blocking a whole PIN lot), one event per statement, with the values
  it sets.

The events are written in the same transaction: a call that fails leaves no event, a
committed change always has one. So a new operation is audited without code of its
own. Left out, on purpose: what is not a change somebody made (`SKIPPED` tables: call
records, credit reservations, live calls, the security record itself), the balance
updates of db/ledger.py (each has its ledger row, which is audited), the `MAINTAINED`
counters, and the bulk writers that bypass the session (COPY of rate decks and CDR
batches: the import's sheet version bump is audited instead). A column whose name says
it holds a secret (`password`, `secret`, `pin`, `token`) is written as "***".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.dml import Delete, Update

from db.schema import Account, AuditEvent, utcnow

logger = logging.getLogger(__name__)

AUDIT_KEY = "siptar.audit"
SKIPPED = frozenset(
    {
        "audit_events",
        "login_attempts",
        "reservations",
        "cdrs",
        "charges",
        "live_calls",
        "call_interventions",
    }
)
# Counters kept by the code that writes the rows they sum, never set by somebody:
# `balance` by db/ledger.py (its ledger row is the record), `reserved` and `open_calls`
# by services/credit/holds.py (the reservation rows are). A statement that sets nothing
# else is not an event: on every Authorize it was one more INSERT (a round trip) and a
# row in the log per call.
MAINTAINED = {"accounts": frozenset({"balance", "reserved"}), "trunks": frozenset({"open_calls"})}
_SECRET_PARTS = ("password", "secret", "pin", "token")
_AUDIT = cast(Table, AuditEvent.__table__)
_MAX_VALUE = 200


@dataclass(frozen=True)
class Actor:
    operation: str
    login_id: int | None
    username: str
    account_id: int | None
    path: str


def mark(session: Session, actor: Actor) -> None:
    """Audit what this session changes from now on, as done by `actor`."""
    session.info[AUDIT_KEY] = actor


def _is_secret(column: str) -> bool:
    name = column.lower()
    return any(part in name for part in _SECRET_PARTS)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) else value[:_MAX_VALUE]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)[:_MAX_VALUE]


def _shown(column: str, value: Any) -> Any:
    return "***" if _is_secret(column) and value not in (None, "") else _plain(value)


def _scope(session: Session, obj: Any, actor: Actor, paths: dict[int, str]) -> str:
    """The tree path the change belongs to: the account's own, or its owner's."""
    if isinstance(obj, Account) and obj.path:
        return obj.path
    for attr in ("account_id", "owner_id", "parent_id"):
        account_id = getattr(obj, attr, None)
        if isinstance(account_id, int):
            if account_id not in paths:
                found = session.connection().scalar(
                    select(Account.path).where(Account.id == account_id)
                )
                paths[account_id] = found or actor.path
            return paths[account_id]
    return actor.path


def _row_changes(obj: Any, action: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        history = state.attrs[key].history
        if action == "update":
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            changes[key] = [_shown(key, before), _shown(key, after)]
        elif action == "insert":
            changes[key] = [None, _shown(key, getattr(obj, key, None))]
        else:
            value = history.unchanged[0] if history.unchanged else None
            changes[key] = [_shown(key, value), None]
    return changes


def _event(
    actor: Actor, scope: str, table: str, object_id: str, action: str, changes: Any
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "operation": actor.operation,
        "login_id": actor.login_id,
        "username": actor.username,
        "actor_account_id": actor.account_id,
        "scope_path": scope,
        "object_type": table[:40],
        "object_id": object_id[:40],
        "action": action,
        "changes": json.dumps(changes, sort_keys=True),
    }


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context: Any) -> None:
    actor = session.info.get(AUDIT_KEY)
    if actor is None:
        return
    rows: list[dict[str, Any]] = []
    paths: dict[int, str] = {}
    for action, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            table = getattr(type(obj), "__tablename__", "")
            if not table or table in SKIPPED:
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _row_changes(obj, action)
            if action == "update" and not changes:
                continue
            key = inspect(obj).mapper.primary_key_from_instance(obj)
            object_id = ",".join("" if v is None else str(v) for v in key)
            scope = _scope(session, obj, actor, paths)
            rows.append(_event(actor, scope, table, object_id, action, changes))
    if rows:
        session.connection().execute(insert(_AUDIT), rows)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    actor = state.session.info.get(AUDIT_KEY)
    if actor is None or not (state.is_update or state.is_delete):
        return
    statement = state.statement
    if not isinstance(statement, Update | Delete):
        return
    table = statement.table
    name = table.name if isinstance(table, Table) else str(table)
    if name in SKIPPED:
        return
    action = "update" if state.is_update else "delete"
    changes: dict[str, Any] = {}
    if isinstance(statement, Update):
        for column, value in statement._values.items() if statement._values else ():
            key = getattr(column, "key", str(column))
            literal = getattr(value, "value", None) if hasattr(value, "value") else None
            shown = _shown(key, literal) if literal is not None else str(value)[:_MAX_VALUE]
            changes[key] = [None, shown]
    if changes and set(changes) <= MAINTAINED.get(name, frozenset()):
        return
    where = str(statement.whereclause)[:_MAX_VALUE] if statement.whereclause is not None else ""
    changes["where"] = where
    state.session.connection().execute(
        insert(_AUDIT), [_event(actor, actor.path, name, "", action, changes)]
    )
