"""A statement run at SQLAlchemy's Core level on the session's own connection.

`Session.execute` runs every statement through the ORM's execution path: an ORM
compile state, `do_orm_execute` events, and for a select of mapped columns the ORM's
row loading (a row processor per column). For Authorize's two PostgreSQL statements,
whose rows are read as plain tuples and which touch no ORM object, that path was the
larger part of their Python cost (bench/profile_authorize.py). `Connection.execute`
keeps what matters: the same transaction, the compiled cache, the columns' type
processors (Money, UtcDateTime), the engine's events (the prepared statements of
db/prepared.py, the statement counts of the tests) and the DBAPI error wrapping that
marks a dropped connection.

Two things the ORM path did that this one does not: the autoflush (done here when the
session has pending objects, so a statement never misses what the transaction added),
and the ORM execute events (services/common/audit.py and caller_cache.py watch ORM
UPDATE/DELETE statements of mapped tables; a textual statement never reached them
either). Use it only for statements whose rows need no ORM entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session
from sqlalchemy.util.typing import TupleAny

from db import prepared_direct
from db.session import commit_sent


def execute_core(
    session: Session, statement: Executable, params: Mapping[str, Any]
) -> CursorResult[*TupleAny]:
    """`statement` with `params` on the session's connection (its transaction)."""
    _autoflush(session)
    return session.connection().execute(statement, params)


def _autoflush(session: Session) -> None:
    """What session.execute's autoflush would have written, so that a statement never
    misses what the transaction added."""
    if session.autoflush and (session.new or session.deleted or session.dirty):
        session.flush()


def direct_rows(
    session: Session, statement: Executable, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """A statement marked `prepared` (PostgreSQL) run on the session's connection
    straight on its cursor (db/prepared_direct.py), its rows as tuples."""
    _autoflush(session)
    return prepared_direct.rows(session.connection(), statement, params)


def direct_commit(
    session: Session, statement: Executable, params: Mapping[str, Any], *, wait_for_disk: bool
) -> bool:
    """A statement marked `prepared` and the COMMIT of the session's transaction, sent as
    one query string (PostgreSQL through db/merged_begin.py's connection, in its own
    mode): one round trip, and no lock of the transaction outlives the server's answer.
    The statement's own rows are not returned (the server answers the COMMIT's). The
    session is marked as having sent its commit (db/session.py `commit_sent`): a dropped
    connection now may have committed. False, and nothing sent, where the connection
    can't do it; the caller then runs its statement and commits as usual."""
    _autoflush(session)
    conn = session.connection()
    driver = conn.connection.driver_connection
    ends = getattr(driver, "commit_suffix", None)
    suffix = ends(wait_for_disk) if ends is not None else None
    if suffix is None:
        return False
    commit_sent(session)
    prepared_direct.rows(conn, statement, params, tail=suffix)
    return True
