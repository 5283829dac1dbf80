"""Many rows into one table in one statement, without ORM objects.

The hot paths (the AMI listener's batches of CDRs, rate decks) write thousands of rows a
second. An ORM object costs tens of microseconds to build and flush, and a multi-row
INSERT of 200 rows x 30 columns costs PostgreSQL a long parse. Here:

- PostgreSQL: COPY ... FROM STDIN on the session's own psycopg2 connection (so inside
  its transaction: a later failure rolls the rows back with everything else). Errors
  come back as SQLAlchemy's exceptions (IntegrityError, OperationalError), as from
  any other statement, and a lost connection is invalidated.
- SQLite: the driver's executemany through a Core insert.

Values go through the columns' own bind processors (Money, UtcDateTime), and a column a
row leaves out gets its Python-side default, exactly as a Core insert would: what is
stored is what the ORM would store.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from itertools import islice
from typing import Any, cast

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

CHUNK = 50_000

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, in the session's
    transaction. Columns missing from the rows get their Python-side defaults."""
    if not rows:
        return
    keys = rows[0].keys()
    # Same width here; a key of the first row missing from another is found below (on
    # PostgreSQL, reading the column out costs nothing more; comparing every row's keys
    # with the first's cost ~1 us a row, ~10 us a CDR).
    width = len(keys)
    for row in rows:
        if len(row) != width:
            raise _different_columns(table, row)
    given = list(keys)
    defaults = {
        c.name: _default_value(c)
        for c in table.columns
        if c.name not in keys and c.default is not None and not c.primary_key
    }
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        for row in rows:
            if row.keys() != keys:
                raise _different_columns(table, row)
        filled = [{**defaults, **row} for row in rows] if defaults else list(rows)
        conn.execute(insert(table), filled)
        return
    columns = given + list(defaults)
    # Column by column: one comprehension per column costs far less than a function
    # call per value (a batch of CDRs is ~6,000 values).
    try:
        texts = [_column_text(conn, table, name, [row[name] for row in rows]) for name in given]
    except KeyError:
        odd = [r for r in rows if r.keys() != keys]
        if odd:
            raise _different_columns(table, odd[0]) from None
        raise  # a column the table does not have
    tail = "".join(
        "\t" + copy_text(bind_processor(conn, table, name)(value))
        for name, value in defaults.items()
    )
    lines = [line + tail + "\n" for line in map("\t".join, zip(*texts, strict=True))]
    copy_lines(conn, table.name, columns, lines)


def _different_columns(table: Table, row: Mapping[str, Any]) -> ValueError:
    return ValueError(f"{table.name}: rows with different columns: {sorted(row)}")


def _column_text(conn: Connection, table: Table, name: str, values: list[Any]) -> list[str]:
    """One column's values in COPY's text format, through the column's bind processor."""
    proc = bind_processor(conn, table, name)
    if proc is not identity:
        first = values[0]
        if all(v is first for v in values):  # one timestamp or kind for a whole batch
            values = [proc(first)] * len(values)
        else:
            values = [proc(v) for v in values]
    python_type = _python_type(table.c[name])
    if python_type is str:
        # Text rarely holds a character COPY escapes: one scan of the whole column (in C)
        # instead of a `translate` per value (~600,000 a run of bench_ami). A None makes
        # the join fail: the column then goes value by value.
        try:
            clean = _COPY_SPECIAL.search("".join(values)) is None
        except TypeError:
            clean = False
        if clean:
            return values
        return ["\\N" if v is None else v.translate(_COPY_ESCAPES) for v in values]
    if python_type is int:
        return ["\\N" if v is None else str(v) for v in values]
    # Amounts and times are most of a CDR batch's values: their own text form straight
    # away, not copy_text's chain of isinstance checks. An amount as `str` (a third of
    # `format(v, "f")`'s cost): PostgreSQL's numeric reads its exponent form (`1E-7`)
    # exactly. A value of another type falls back to copy_text, which says what it
    # can't write.
    try:
        if python_type is Decimal:
            return ["\\N" if v is None else str(v) for v in values]
        if python_type is datetime:
            return ["\\N" if v is None else v.isoformat(" ") for v in values]
    except (TypeError, ValueError, AttributeError):
        pass
    return [copy_text(v) for v in values]


def _python_type(column: Any) -> type | None:
    try:
        return cast(type, column.type.python_type)
    except NotImplementedError:
        return None


def copy_lines(conn: Connection, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY `table` (`columns`) FROM STDIN, `lines` in COPY's text format, in chunks, on
    the connection's psycopg2 connection (inside its transaction)."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"

    def copy(cursor: Any) -> None:
        for chunk in _chunks(lines):
            cursor.copy_expert(sql, io.StringIO("".join(chunk)))

    _on_driver_cursor(conn, sql, copy)


def copy_out(conn: Connection, sql: str) -> bytes:
    """The rows of the query `sql` in COPY's text format (COPY (sql) TO STDOUT), on the
    connection's psycopg2 connection (inside its transaction), as the bytes sent (a
    StringIO would hold 4 bytes a character while it fills)."""
    buffer = io.BytesIO()
    copy = f"COPY ({sql}) TO STDOUT"
    _on_driver_cursor(conn, copy, lambda cursor: cursor.copy_expert(copy, buffer))
    return buffer.getvalue()


def update_from_values(
    session: Session, sql: str, rows: Sequence[tuple[Any, ...]], template: str
) -> list[tuple[Any, ...]]:
    """PostgreSQL: ONE `UPDATE ... FROM (VALUES %s) AS v(...)` for every row (psycopg2's
    execute_values), inside the session's transaction, with what its RETURNING gives
    (raw driver values). An executemany of the same UPDATE costs a round trip per ~100
    rows and SQLAlchemy's per-statement work; one statement costs one. Values are
    passed as they are (no bind processors): give Decimals and ints."""
    from psycopg2.extras import execute_values  # type: ignore[import-untyped]

    conn = session.connection()
    result: list[tuple[Any, ...]] = []

    def update(cursor: Any) -> None:
        found = execute_values(
            cursor, sql, rows, template=template, page_size=len(rows), fetch=True
        )
        result.extend(found)

    _on_driver_cursor(conn, sql, update)
    return result


def _on_driver_cursor(conn: Connection, sql: str, work: Any) -> None:
    """Run `work(cursor)` on the connection's own psycopg2 connection (inside its
    transaction); errors come back as SQLAlchemy's, a lost connection invalidated."""
    raw = conn.connection.driver_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            work(cursor)
        finally:
            cursor.close()
    except dbapi.Error as exc:
        invalidated = conn.dialect.is_disconnect(exc, raw, None)
        if invalidated:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            None,
            exc,
            dbapi.Error,
            connection_invalidated=invalidated,
            dialect=conn.dialect,
        ) from exc


def _chunks(lines: Iterable[str]) -> Iterator[list[str]]:
    it = iter(lines)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def copy_text(value: Any) -> str:
    """A value in COPY's text format; None is \\N."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):  # after datetime, which is a date too
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no COPY text form for {type(value).__name__}")


def bind_processor(conn: Connection, table: Table, name: str) -> Any:
    """The column's bind processor (what the ORM would apply), or the identity."""
    proc = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return proc or identity


def identity(value: Any) -> Any:
    return value


def _default_value(column: Any) -> Any:
    default = column.default
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a no-argument callable to take a context
    raise ValueError(f"{column.name}: a SQL default can't be bulk-filled")
