"""SQL objects built once, at import, and then used by every thread of a worker.

SQLAlchemy fills some of its look-ups lazily, the first time a statement is compiled,
and not all of them under a lock: a selectable's proxy index (what
`corresponding_column` searches) is filled one entry at a time, and a second thread
that sees it half-filled finds no column. An aliased entity's adapter then remembers
"no such column" for good, so from then on the statement selects the entity's columns
from the base table as well: `FROM caller LEFT OUTER JOIN chain ON true, accounts`, a
cartesian product that the engine's linter turns into a warning and the test suite into
an error, on every Authorize of that process (seen in CI on SQLAlchemy 2.1.9, 2026-12:
the first PostgreSQL Authorize of the run was 50 parallel calls).

`prime` compiles what it is given once, under the import lock, so that every lazy
look-up is complete before two threads can reach it. Use it on every module-level
statement that selects from an aliased entity, a CTE or a subquery.
"""

from __future__ import annotations

import warnings
from typing import TypeVar

from sqlalchemy import exc, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import AliasedClass
from sqlalchemy.sql.elements import ClauseElement

_T = TypeVar("_T")
_DIALECTS = (postgresql.psycopg2.dialect(), sqlite.pysqlite.dialect())


def prime(obj: _T) -> _T:
    """`obj` compiled once on each dialect it compiles on (a PostgreSQL-only statement
    fails on SQLite's: that compile is skipped), and returned as it was."""
    element = select(obj) if isinstance(obj, AliasedClass) else obj
    assert isinstance(element, ClauseElement), obj
    for dialect in _DIALECTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", exc.SAWarning)
            try:
                element.compile(dialect=dialect)
            except exc.CompileError:
                continue
    return obj
