"""A prepared statement (db/prepared.py) run straight on the connection's DBAPI cursor.

`Connection.execute` costs ~0.1 ms of Python around psycopg2 for each statement: the
compiled cache's look-up, an execution context, the parameters' processing through the
compiled object, a `CursorResult` with its metadata and row processors. Authorize on
PostgreSQL is two statements (services/credit/chain_lock.py, services/credit/holds.py)
whose text never changes: that work is the same on every call. `Direct` does it once
per statement and dialect (the SQL text, each parameter's bind processor, each column's
result processor) and then, per call, only processes the values and runs the cursor.

What it keeps of SQLAlchemy's own path, so that nothing else can tell the difference:
- the same connection and transaction (the session's Core connection; psycopg2's BEGIN
  merged into the first statement by db/merged_begin.py's cursor, as before);
- the engine's `before_cursor_execute` / `after_cursor_execute` listeners are called
  around the cursor as SQLAlchemy calls them (the tests count statements with them;
  db/prepared.py's own hooks skip a call without an execution context);
- the PREPARE-once bookkeeping of db/prepared.py (`prepared.call_for`, `prepared.done`,
  `prepared.failed`: one registry per DBAPI connection for both paths);
- a DBAPI error goes through `Connection._handle_dbapi_exception`, SQLAlchemy's own
  wrapping: the same `DBAPIError`, and on a dropped connection the same invalidation of
  the pool (`connection_invalidated`, which the SOAP edge's retry reads). That method is
  private: tests/integration/test_prepared.py drops a connection under it.

PostgreSQL only (psycopg2); statements marked `prepared` with plain (non-expanding)
parameters. Rows come back as tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from db import prepared

_Processor = Callable[[Any], Any] | None


class Direct:
    """One statement's compiled form for one dialect, and its processors."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        name = statement.get_execution_options().get("prepared")
        if not name:
            raise ValueError("only a statement marked prepared runs directly")
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.name: str = name
        self._compiled = compiled
        self.form = prepared.form_of(compiled.string)
        # By the name each parameter has in the text (an anonymous one's is generated).
        self._binds: dict[str, _Processor] = {
            compiled.bind_names[bind]: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind in compiled.binds.values()
        }
        # A text() statement has no typed columns: its values come back as the driver's.
        columns = getattr(statement, "selected_columns", None)
        self._types = [column.type for column in columns] if columns is not None else None
        self._dialect = dialect
        # The columns that have a result processor (most have none on psycopg2), built
        # from the first answer's description (the DBAPI type codes).
        self._results: list[tuple[int, Callable[[Any], Any]]] | None = None

    def parameters(self, params: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(self._compiled.construct_params(params))
        for key, process in self._binds.items():
            if process is not None:
                values[key] = process(values[key])
        return values

    def rows(
        self, conn: Connection, params: Mapping[str, Any], tail: str = ""
    ) -> list[tuple[Any, ...]]:
        values = self.parameters(params)
        fairy = conn.connection
        cursor = fairy.cursor()
        call = prepared.call_for(conn, self.name, self.form)
        statement = call.text + tail
        try:
            for listener in conn.dispatch.before_cursor_execute:
                statement, values = listener(conn, cursor, statement, values, None, False)
            cursor.execute(statement, values)
            for listener in conn.dispatch.after_cursor_execute:
                listener(conn, cursor, statement, values, None, False)
            description = cursor.description
            raw = list(cursor.fetchall()) if description is not None else []
        except Exception as error:
            prepared.failed(conn, call, error)
            dbapi = self._dialect.loaded_dbapi
            if isinstance(error, dbapi.Error):
                conn._handle_dbapi_exception(error, statement, values, cursor, None)
            raise
        finally:
            cursor.close()
        prepared.done(conn, call)
        return self._processed(raw, description)

    def _processed(
        self, raw: list[tuple[Any, ...]], description: Sequence[Any] | None
    ) -> list[tuple[Any, ...]]:
        if self._results is None:
            if description is None or self._types is None:
                return raw
            self._results = [
                (i, process)
                for i, (kind, column) in enumerate(zip(self._types, description, strict=True))
                if (
                    process := kind.dialect_impl(self._dialect).result_processor(
                        self._dialect, column[1]
                    )
                )
                is not None
            ]
        if not self._results:
            return raw
        processed = []
        for row in raw:
            values = list(row)
            for i, process in self._results:
                values[i] = process(values[i])
            processed.append(tuple(values))
        return processed


_DIRECT: dict[tuple[int, str], Direct] = {}


def rows(
    conn: Connection, statement: Executable, params: Mapping[str, Any], tail: str = ""
) -> list[tuple[Any, ...]]:
    """`statement` (marked prepared) run on `conn`, its rows as tuples. `tail`: more of
    the same query string after it (a COMMIT: then no rows come back)."""
    key = (id(statement), conn.dialect.name)
    direct = _DIRECT.get(key)
    if direct is None:
        # Statements are module-level objects, built once: `id` names one for good.
        direct = _DIRECT.setdefault(key, Direct(statement, conn.dialect))
    return direct.rows(conn, params, tail)
