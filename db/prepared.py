"""Server-side prepared statements for the few statements every call runs (PostgreSQL).

psycopg2 sends every statement as text, so the server parses and plans it each time.
For the simple statements that is a few microseconds; Authorize's two combined
statements on PostgreSQL (services/credit/chain_lock.py, services/credit/holds.py)
are CTEs over several tables whose planning took ~0.3-0.9 ms per call, more than their
execution. A statement marked `execution_options(prepared="name")` is prepared once per
connection and then sent as `EXECUTE name(...)`: parsed and planned once for the life
of the connection (generic plans: `plan_cache_mode` is set to `force_generic_plan` for
the engine's connections, which affects prepared statements only, and only these are).

How: a `before_cursor_execute` hook rewrites the compiled text (psycopg2's
`%(name)s` placeholders become `$1..$n` in the PREPARE, and the values go to EXECUTE
in that order). The first use on a connection sends `PREPARE ...; EXECUTE ...` as one
query string: no round trip of its own. A prepared statement is not transactional:
it outlives a rollback, and a PREPARE that ran before a later failure in the same
string exists though the string failed. So a statement is counted as prepared on a
connection only after a success, and after a failure the next attempt prepares it under
a new name (`name_2`, ...), never one that may exist already. The server drops a
prepared plan by itself when a table it reads changes (a migration).

Only statements whose text is the same on every call may be marked (no expanding IN
lists: pass arrays), and the parameter types must follow from the SQL (a CAST where a
value stands alone in a select list). SQLite ignores the option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

PLAN_CACHE_OPTION = "-c plan_cache_mode=force_generic_plan"

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_NO_SUCH_STATEMENT = "26000"  # invalid_sql_statement_name
_KEY = "siptar_prepared"  # per DBAPI connection (the pool's record): name -> generation


class _Form:
    """A statement's PREPARE body and EXECUTE call, made once per text."""

    def __init__(self, statement: str) -> None:
        order: list[str] = []

        def number(found: re.Match[str]) -> str:
            key = found.group(1)
            if key not in order:
                order.append(key)
            return f"${order.index(key) + 1}"

        # A literal % stays `%%`: psycopg2 reads the whole query string, PREPARE included.
        self.body = _PLACEHOLDER.sub(number, statement)
        self.args = ", ".join(f"%({key})s" for key in order)


_FORMS: dict[str, _Form] = {}


def form_of(statement: str) -> _Form:
    """The PREPARE body and EXECUTE arguments of a compiled statement's text."""
    form = _FORMS.get(statement)
    if form is None:
        form = _FORMS.setdefault(statement, _Form(statement))
    return form


@dataclass(frozen=True, slots=True)
class Call:
    """One execution of a prepared statement on one connection: under which name, whether
    it is prepared there already, and the text to send (`PREPARE ...; EXECUTE ...` the
    first time)."""

    name: str
    generation: int
    ready: bool
    text: str


def call_for(conn: Any, name: str, form: _Form) -> Call:
    """How to run statement `name` on `conn` (a Connection: its `info` is the DBAPI
    connection's, kept by the pool across checkouts)."""
    known: dict[str, tuple[int, bool]] = conn.info.setdefault(_KEY, {})
    generation, ready = known.get(name, (1, False))
    full = name if generation == 1 else f"{name}_{generation}"
    call = f"EXECUTE {full}({form.args})" if form.args else f"EXECUTE {full}"
    if not ready:
        call = f"PREPARE {full} AS {form.body}; {call}"
    return Call(name, generation, ready, call)


def done(conn: Any, call: Call) -> None:
    """The call succeeded: from now on the statement is prepared on that connection."""
    if not call.ready:
        conn.info.setdefault(_KEY, {})[call.name] = (call.generation, True)


def failed(conn: Any, call: Call, error: BaseException) -> None:
    gone = getattr(error, "pgcode", None) == _NO_SUCH_STATEMENT
    if not call.ready or gone:
        # Not prepared yet: the PREPARE may have run before what failed, so its name
        # is never used again. Prepared but gone (a DISCARD ALL by hand): prepare anew.
        conn.info.setdefault(_KEY, {})[call.name] = (call.generation + 1, False)


def install(engine: Engine) -> None:
    """Prepare the statements marked `prepared` on this engine's connections."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _rewrite(
        conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        # No context: db/prepared_direct.py's call, rewritten already.
        name = context.execution_options.get("prepared") if context is not None else None
        if not name or many or not isinstance(parameters, dict):
            return statement, parameters
        call = call_for(conn, name, form_of(statement))
        context.siptar_prepared = call
        return call.text, parameters

    @event.listens_for(engine, "after_cursor_execute")
    def _prepared(conn: Any, _c: Any, _s: Any, _p: Any, context: Any, _m: bool) -> None:
        call = getattr(context, "siptar_prepared", None)
        if call is not None:
            done(conn, call)

    @event.listens_for(engine, "handle_error")
    def _failed(error: Any) -> None:
        call = getattr(error.execution_context, "siptar_prepared", None)
        if call is not None and error.connection is not None:
            failed(error.connection, call, error.original_exception)
