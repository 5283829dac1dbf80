"""PostgreSQL: a new call's whole hold in one statement, one round trip instead of four
(the ids, the INSERT of the chain's reservation rows, the accounts' `reserved`, the
trunk's `open_calls`), and Authorize's variant that sends its COMMIT with it.

Data-modifying CTEs all run on one snapshot and see none of each other's changes, only
what they RETURN; so the rows and the accounts' changes are made conditional on `tr`
having taken the channel, and a full trunk changes nothing (its ids are lost: a
sequence has gaps anyway). Lock order (services/credit/holds.py): the chain's accounts
are already locked by Authorize's lock statement (the same FOR NO KEY UPDATE lock the
UPDATE takes), new rows lock nobody, so the trunk row is the one lock this statement
takes: last, as the rule says. The customer's row gets the smallest id, as
`insert_reservations` gives it.

Each account is updated by its own `id = $n` (one statement text per chain length):
PostgreSQL plans these prepared statements once, without the call's values, and a
join of the chain's amounts to `accounts` was planned as a scan of the whole table
whenever it had less than a few thousand rows (estimated at ten chain rows, a scan
looks cheaper than ten probes); an equality on the primary key is a probe at any size.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from db.core_execute import direct_commit, direct_rows
from db.schema import Account, Trunk
from db.session import commit_not_sent
from db.types import Money, UtcDateTime
from services.credit.holds import refresh_loaded

_TAKE_CHANNEL = (
    " tr AS (UPDATE trunks SET open_calls = trunks.open_calls + 1"
    " WHERE trunks.id = :trunk AND (trunks.channel_limit IS NULL"
    " OR trunks.open_calls < trunks.channel_limit) RETURNING trunks.id),"
)
# The rows, after a `ranked` CTE of their ids (k = 1 the customer's).
_WRITE_ROWS = (
    " h AS (SELECT ranked.id, ranked.k, a.account_id, a.amount FROM ranked"
    " JOIN unnest(CAST(:accounts AS integer[]), CAST(:amounts AS numeric[]))"
    " WITH ORDINALITY AS a (account_id, amount, k) ON a.k = ranked.k"
    " WHERE EXISTS (SELECT 1 FROM tr)),"
    " ins AS (INSERT INTO reservations (id, parent_id, account_id, number, amount,"
    " max_seconds, reserved_seconds, status, uniqueid, created_at, expires_at, trunk_id)"
    " SELECT h.id, CASE WHEN h.k = 1 THEN NULL ELSE (SELECT id FROM ranked WHERE k = 1) END,"
    " h.account_id, CAST(:number AS varchar), h.amount, CAST(:max_seconds AS integer),"
    " CAST(:reserved_seconds AS integer), 'open', CAST(:uniqueid AS varchar),"
    " CAST(:created_at AS timestamptz), CAST(:expires_at AS timestamptz),"
    " CASE WHEN h.k = 1 THEN CAST(:trunk AS integer) END FROM h RETURNING 1)"
)
_TIMES = (
    bindparam("created_at", type_=UtcDateTime()),
    bindparam("expires_at", type_=UtcDateTime()),
)


def _take_and_write(levels: int) -> str:
    """The channel, the rows and each level's `reserved`, a CTE per level (see the
    module's docstring: one UPDATE joined to the levels was planned as a scan)."""
    reserved = "".join(
        f", acc{k} AS (UPDATE accounts SET reserved = accounts.reserved"
        f" + CAST(:amount_{k} AS numeric) WHERE accounts.id = CAST(:account_{k} AS integer)"
        f" AND CAST(:amount_{k} AS numeric) <> 0 AND EXISTS (SELECT 1 FROM tr) RETURNING 1)"
        for k in range(1, levels + 1)
    )
    return _TAKE_CHANNEL + _WRITE_ROWS + reserved


@cache
def _hold_call(levels: int) -> TextClause:
    """Takes the ids itself; answers (the customer's row id, whether the trunk had a
    channel)."""
    statement = text(
        "WITH ids AS MATERIALIZED ("
        " SELECT nextval(pg_get_serial_sequence('reservations', 'id')) AS id"
        " FROM generate_series(1, cardinality(CAST(:accounts AS integer[])))),"
        " ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM ids),"
        + _take_and_write(levels)
        + " SELECT (SELECT id FROM ranked WHERE k = 1), EXISTS (SELECT 1 FROM tr)"
    ).bindparams(*_TIMES)
    # Planned once per connection (db/prepared.py): planning it took longer than running
    # it; the CASTs above give the prepared statement its parameters' types.
    return statement.execution_options(prepared=f"siptar_hold_new_call_{levels}")


@cache
def _hold_and_commit(levels: int) -> TextClause:
    """The same hold with the ids taken beforehand (by Authorize's lock statement), sent
    with the COMMIT as one query string (`hold_and_commit`): the server answers the
    COMMIT's result, not the statement's, so nothing is read from it. A trunk filled
    since its count was read must not commit a call without its channel: then the
    statement fails whole, by a division by zero on purpose (plain SQL has no RAISE;
    SQLSTATE 22012 is the only error this statement can raise by itself), and the rest
    of the string, the COMMIT, is not run."""
    statement = text(
        "WITH ranked AS (SELECT i.id, i.k FROM unnest(CAST(:ids AS bigint[]))"
        " WITH ORDINALITY AS i (id, k)),"
        + _take_and_write(levels)
        + " SELECT 1 / CAST(EXISTS (SELECT 1 FROM tr) AS integer)"
    ).bindparams(*_TIMES)
    return statement.execution_options(prepared=f"siptar_hold_and_commit_{levels}")


_TRUNK_TAKEN = "22012"  # division_by_zero: the first trunk had no channel left


class TrunkTaken(Exception):
    """`hold_and_commit`: the first trunk filled since the route read its count. Nothing
    was written and the transaction failed: roll back, and hold the call again with the
    plain statements, which take the next trunk."""


def _hold_params(session: Session, rows: list[dict[str, object]], trunk_id: int) -> dict[str, Any]:
    dialect = session.get_bind().dialect
    money = Money()
    first = rows[0]
    accounts = [row["account_id"] for row in rows]
    amounts = [money.process_bind_param(row["amount"], dialect) for row in rows]
    params: dict[str, Any] = {
        "accounts": accounts,
        "amounts": amounts,
        "trunk": trunk_id,
        "number": first["number"],
        "max_seconds": first["max_seconds"],
        "reserved_seconds": first["reserved_seconds"],
        "uniqueid": first["uniqueid"],
        "created_at": first["created_at"],
        "expires_at": first["expires_at"],
    }
    for k, (account, amount) in enumerate(zip(accounts, amounts, strict=True), start=1):
        params[f"account_{k}"] = account
        params[f"amount_{k}"] = amount
    return params


def hold_new_call(session: Session, rows: list[dict[str, object]], trunk_id: int) -> int | None:
    """A new call's reservation rows (customer's first, as for `insert_reservations`,
    all with the same call fields), the accounts' `reserved` and one more open call on
    the trunk, if it has a channel free, in one statement (the accounts' locks held).
    Returns the customer's row id; None when the trunk is full, and then nothing
    changed."""
    params = _hold_params(session, rows, trunk_id)
    (found,) = direct_rows(session, _hold_call(len(rows)), params)
    if not found[1]:
        return None
    _loaded_changed(session, rows, trunk_id)
    return int(found[0])


def hold_and_commit(
    session: Session,
    rows: list[dict[str, object]],
    trunk_id: int,
    ids: tuple[int, ...],
    *,
    wait_for_disk: bool,
) -> bool:
    """`hold_new_call` with the rows' `ids` given (customer's first) and the COMMIT of the
    transaction in the same round trip, so that the trunk's row, which every call through
    the trunk updates, is locked for the server's time alone, not until this thread gets
    the interpreter back to send a COMMIT of its own. False: not possible on this
    connection (not db/merged_begin.py's, or SQLite), nothing sent. TrunkTaken: the trunk
    filled meanwhile, nothing written. True: held and committed (the unit of work's own
    commit then sends nothing)."""
    params = {**_hold_params(session, rows, trunk_id), "ids": list(ids)}
    statement = _hold_and_commit(len(rows))
    try:
        sent = direct_commit(session, statement, params, wait_for_disk=wait_for_disk)
    except DBAPIError as error:
        if getattr(error.orig, "pgcode", None) == _TRUNK_TAKEN:
            commit_not_sent(session)
            raise TrunkTaken from None
        raise
    if sent:
        _loaded_changed(session, rows, trunk_id)
    return sent


def _loaded_changed(session: Session, rows: list[dict[str, object]], trunk_id: int) -> None:
    refresh_loaded(session, Account, [row["account_id"] for row in rows], "reserved")
    refresh_loaded(session, Trunk, [trunk_id], "open_calls")
