"""psycopg2 connections whose `BEGIN` travels with the transaction's first statement.

In its usual mode psycopg2 sends `BEGIN` as a query of its own before the first
statement of every transaction: one more round trip for every unit of work (two of three
for a read-only SOAP call: BEGIN, the statement, ROLLBACK). This connection class runs
in psycopg2's autocommit mode, where psycopg2 sends nothing of its own, and opens the
transaction itself: it puts `BEGIN;` in front of the first statement's text (one query
string, one round trip; the server runs both in order and answers with the statement's
result), and `commit()` / `rollback()` send `COMMIT` / `ROLLBACK` while one is open.

Whether a transaction is open is libpq's own record of the server's answers
(`info.transaction_status`, read locally): there is no flag of ours to go stale. Every
way the code here reaches the server goes through one of these methods:

- `execute`, `executemany` (and so SQLAlchemy's statements, its executemany pages and
  psycopg2.extras' `execute_values` / `execute_batch`, which call `execute`);
- `copy_expert` / `copy_from` / `copy_to` (db/bulk.py's COPY): `BEGIN` first, on its
  own, as COPY can't share a query string;
- a named (server-side) cursor (`yield_per`, `stream_results`): psycopg2 refuses those
  outside a transaction, so the connection goes back to psycopg2's usual mode until the
  transaction ends, and psycopg2 opens and ends that transaction as it always did;
- savepoints are statements like any other; SQLAlchemy's pool, returning a connection,
  calls `rollback()`, which sends nothing when no transaction is open.

A COMMIT that need not wait for the disk (`wait_for_disk` False, set by db/session.py's
`UnitOfWork.commit` for that one commit) is sent as `SET LOCAL synchronous_commit TO
off; COMMIT`: one query string, one round trip, as a plain COMMIT. Not in psycopg2's
own mode (a named cursor's transaction): psycopg2 sends that COMMIT itself, and it
waits for the disk as every other (always safe, only slower; no writer of holds streams
from a named cursor). Nor for a transaction already failed: its COMMIT is a ROLLBACK,
and a SET LOCAL in front would fail and leave it open.

Used for every PostgreSQL engine of db/session.py `make_engine`; SQLite is untouched.
"""

from __future__ import annotations

from typing import Any

import psycopg2.extensions as ext  # type: ignore[import-untyped]
from psycopg2 import sql as pgsql

_IDLE = ext.TRANSACTION_STATUS_IDLE
_OPEN = ext.TRANSACTION_STATUS_INTRANS  # open and not failed
_BEGIN = "BEGIN;"
# The transaction's own setting, read by its COMMIT (docs/credit_control.md, "Holds
# that need not wait for the disk").
COMMIT_NO_WAIT = "SET LOCAL synchronous_commit TO off; COMMIT"


class MergedBeginCursor(ext.cursor):
    def execute(self, query: Any, vars: Any = None) -> Any:
        if self.name is not None:
            self.connection.driver_transactions()
        elif self.connection.opens_next():
            query = _with_begin(query)
        return super().execute(query, vars)

    def executemany(self, query: Any, vars_list: Any) -> Any:
        self.connection.begin_alone()
        return super().executemany(query, vars_list)

    def copy_expert(self, *args: Any, **kwargs: Any) -> Any:
        self.connection.begin_alone()
        return super().copy_expert(*args, **kwargs)

    def copy_from(self, *args: Any, **kwargs: Any) -> Any:
        self.connection.begin_alone()
        return super().copy_from(*args, **kwargs)

    def copy_to(self, *args: Any, **kwargs: Any) -> Any:
        self.connection.begin_alone()
        return super().copy_to(*args, **kwargs)


class MergedBeginConnection(ext.connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.autocommit = True
        self.cursor_factory = MergedBeginCursor
        # False for the next commit only (db/session.py sets it): its COMMIT need not
        # wait for the WAL to reach the disk.
        self.wait_for_disk = True

    def opens_next(self) -> bool:
        """Whether the next statement must open the transaction: in our mode and no
        transaction open on the server."""
        return bool(self.autocommit) and self.info.transaction_status == _IDLE

    def begin_alone(self) -> None:
        if self.opens_next():
            with self.cursor(cursor_factory=ext.cursor) as cur:
                cur.execute("BEGIN")

    def driver_transactions(self) -> None:
        """Hand the transaction to psycopg2 until it ends (a named cursor needs its
        usual mode). If ours is open already, psycopg2's own BEGIN only draws the
        server's warning that one is in progress: the transaction goes on."""
        if self.autocommit:
            self.autocommit = False

    def commit_suffix(self, wait_for_disk: bool) -> str | None:
        """What ends a query string so that it also commits its transaction (its
        statement's own result is then not returned: the COMMIT's is): None when the
        transaction is psycopg2's (a named cursor's) or failed."""
        if not self.autocommit or self.info.transaction_status not in (_IDLE, _OPEN):
            return None
        return f"; {COMMIT_NO_WAIT}" if not wait_for_disk else "; COMMIT"

    def commit(self) -> None:
        # For this one commit: cleared before the pool can hand the connection to
        # another thread (SQLAlchemy returns it inside the session's commit).
        wait, self.wait_for_disk = self.wait_for_disk, True
        self._end("COMMIT", super().commit, no_wait=not wait)

    def rollback(self) -> None:
        self._end("ROLLBACK", super().rollback)

    def _end(self, command: str, driver_end: Any, *, no_wait: bool = False) -> None:
        if not self.autocommit:  # psycopg2's transaction (a named cursor's)
            driver_end()
            self.autocommit = True
            if self.info.transaction_status == _IDLE:
                return
        status = self.info.transaction_status
        if status != _IDLE:
            if no_wait and status == _OPEN:
                command = COMMIT_NO_WAIT
            with self.cursor(cursor_factory=ext.cursor) as cur:
                cur.execute(command)


def _with_begin(query: Any) -> Any:
    if isinstance(query, bytes):
        return _BEGIN.encode() + query
    if isinstance(query, pgsql.Composable):
        return pgsql.SQL(_BEGIN) + query
    return _BEGIN + query
