"""Authorize's chain lock: the caller's account and every account above it but the
admin, locked in the one order (deepest first: services/credit/holds.py), with what the
rest of Authorize decides from in the same statement.

Two forms of one statement:

- `lock_chain`: the chain of an account already found (services/credit/identify.py);
- `identify_and_lock` (PostgreSQL): the caller found by SIP peer or accountcode AND its
  chain locked, one round trip instead of two. A CTE finds the caller; the chain's ids
  come from its `path`; the lock itself is a CTE joined to the caller's row, so that a
  caller whose chain is not to be locked here still says it was found. Not locked here,
  and left to the plain statements: a call shop's account (its booth gate reads the
  booth first: services/callshop/booths.booth_gate), a caller that the login does not
  own (nothing of another subtree is locked), the admin (never locked), a broken tree.
  SQLite keeps the two statements: there a statement has no round trip.

The statements are built once, at import. Spyne-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.orm import Session

from db.bundle_schema import AccountBundle
from db.config_schema import ConfigVersion
from db.config_versions import ROUTING, SETTINGS
from db.core_execute import direct_rows, execute_core
from db.schema import Account, RateSheet, Reservation, Trunk
from db.shared_sql import prime
from services.credit.answers import Denied, Reason
from services.credit.identify import ON_NET
from services.credit.levels import COLUMNS, WIDTH, Level, level
from services.credit.route_cache import Live, live_ids, route_cache
from services.credit.routing import remember_plans


@dataclass(frozen=True)
class LockedChain:
    """The chain's accounts, locked, customer first, and what the lock's statement read
    with them: whether any of their open reservations is due (expiry), whether any level
    holds a bundle, the routes' stamp (services/credit/route_cache.RouteCache) and the
    runtime settings' stamp (the credit policy's check: services/credit/policy.py
    `PolicySource`, so that a SOAP Authorize sends no statement of its own for it)."""

    chain: list[Level]
    due: bool
    bundled: bool
    routing: int
    settings: int = 0
    # The ids of the call's reservation rows, customer first, when the lock statement
    # took them (PostgreSQL's identify_and_lock): the hold may then commit with itself.
    hold_ids: tuple[int, ...] = ()


# 'open' written into the SQL, not bound: the prepared statement's generic plan can use
# the partial index of open rows (`WHERE status = 'open'`) only if the planner sees the
# value; with a parameter it scanned the whole reservations table on every call.
_OPEN = literal_column("'open'", String)
_DUE = exists().where(
    Reservation.account_id == Account.id,
    Reservation.status == _OPEN,
    Reservation.expires_at <= bindparam("now"),
)
_BUNDLED = exists().where(AccountBundle.account_id == Account.id)
_ROUTING = select(ConfigVersion.version).where(ConfigVersion.name == ROUTING).scalar_subquery()
_SETTINGS = select(ConfigVersion.version).where(ConfigVersion.name == SETTINGS).scalar_subquery()
# What every form reads with each account row: its sheet's version (the plans' check)
# and what decides which of expiry's, the bundles' and the routes' statements this
# Authorize needs at all.
_WITH = (
    RateSheet.version.label("sheet_version"),
    _DUE.label("due"),
    _BUNDLED.label("bundled"),
    _ROUTING.label("routing"),
    _SETTINGS.label("settings"),
)
# The accounts are read as plain columns (services/credit/levels.py): no ORM entity.
_LOCK = (
    select(*COLUMNS, *_WITH)
    .outerjoin(RateSheet, RateSheet.id == Account.rate_sheet_id)
    .where(Account.id.in_(bindparam("ids", expanding=True)))
    .order_by(func.length(Account.path).desc())
    .with_for_update(key_share=True, of=Account)
)

# PostgreSQL's identify-and-lock. The caller: the SIP peer first, should one account's
# peer be another's code (as identify's own statement).
_NAME = bindparam("name", type_=String())
_IS_PEER = func.coalesce(Account.sip_username == _NAME, False)
# The path runs from the root, the admin (the one account without a parent): the chain
# is every id on it but the admin's.
_PATH_IDS = cast(func.string_to_array(func.btrim(Account.path, "/"), "/"), ARRAY(Integer))
_CALLER = (
    select(Account.id, Account.path, Account.kind, _PATH_IDS.label("ids"), ON_NET)
    .where(or_(Account.sip_username == _NAME, Account.accountcode == _NAME))
    .order_by(_IS_PEER.desc())
    .limit(1)
    .cte("caller")
)
# The ids to lock, or NULL (nothing locked) for a call shop or a caller the login does
# not own. A scalar subquery (an InitPlan), so that the accounts are found by their
# primary key (`id = ANY($1)`), never by a scan joined to the caller's row.
_TO_LOCK = (
    select(_CALLER.c.ids)
    .where(_CALLER.c.kind != "callshop", func.starts_with(_CALLER.c.path, bindparam("owner")))
    .scalar_subquery()
)
# The chain's ids deepest first (a path runs from the root): the one lock order.
_WANTED = (
    func.unnest(cast(_TO_LOCK, ARRAY(Integer)))
    .table_valued("id", with_ordinality="n")
    .render_derived(name="path_ids")
)
_NO_MERGE = literal_column("0", Integer)  # an OFFSET the planner sees: rendered, not a parameter
_DEEPEST_FIRST = (
    select(_WANTED.c.id).order_by(_WANTED.c.n.desc()).offset(_NO_MERGE).subquery("wanted")
)
# Each level's row found by its primary key and locked, one id after the other in that
# order (a LATERAL subquery that OFFSET 0 keeps from being merged into a join: the only
# plan is a nested loop over the ids). With `id = ANY(...)` over the whole table, the
# generic plan of a table of a few hundred accounts scanned every row (0.14 ms a call).
_LEVEL = (
    select(*COLUMNS, RateSheet.version.label("sheet_version"), _DUE.label("due"))
    .outerjoin(RateSheet, RateSheet.id == Account.rate_sheet_id)
    .where(Account.id == _DEEPEST_FIRST.c.id, Account.parent_id.is_not(None))
    .offset(_NO_MERGE)
    .with_for_update(key_share=True, of=Account)
    .lateral("level")
)
# What holds for the chain as a whole is read once, not per level (uncorrelated: an
# InitPlan each): whether any account of the path holds a bundle (the admin, the root,
# holds none: nobody is above it to give one), and the two stamps. Per level, the
# bundles' EXISTS was a scan of account_bundles for each level of a small table.
_CHAIN_BUNDLED = exists().where(AccountBundle.account_id == any_(cast(_TO_LOCK, ARRAY(Integer))))
# Materialized, so that the locks are taken once, whatever plan the outer join gets.
_CHAIN = (
    select(
        _LEVEL,
        _CHAIN_BUNDLED.label("bundled"),
        _ROUTING.label("routing"),
        _SETTINGS.label("settings"),
    )
    .select_from(_DEEPEST_FIRST)
    .join(_LEVEL, true())
    .cte("chain")
    .prefix_with("MATERIALIZED")
)
# The live figures of the route the caller's number took on the last load of the routes
# (services/credit/route_cache.RouteCache.peek): its buy sheets' versions and its trunks'
# open calls, (id, value) pairs, read once (uncorrelated: an InitPlan) at the
# statement's snapshot, as the route's own statement would read them.
_SHEETS_LIVE = (
    select(func.array_agg(array([RateSheet.id, RateSheet.version])))
    .where(RateSheet.id == any_(bindparam("sheets", type_=ARRAY(Integer))))
    .scalar_subquery()
)
_TRUNKS_LIVE = (
    select(func.array_agg(array([Trunk.id, Trunk.open_calls])))
    .where(Trunk.id == any_(bindparam("trunks", type_=ARRAY(Integer))))
    .scalar_subquery()
)
_LOCKED = [_CHAIN.c[column.key] for column in COLUMNS]
# The ids of the call's reservation rows, one per level, taken from the sequence with
# the lock (an InitPlan, evaluated once; none when nothing is locked), smallest first:
# the customer's row gets the smallest, as holds.insert_reservations gives it. Known
# before the hold, they let the hold and the COMMIT travel as one query string
# (call_hold.hold_and_commit), whose answer is the COMMIT's. A call refused after its lock
# leaves those ids unused: a sequence has gaps anyway (a BIGINT).
_SEQUENCE = func.pg_get_serial_sequence("reservations", "id")
_TAKEN = func.generate_series(1, func.cardinality(cast(_TO_LOCK, ARRAY(Integer))) - 1).alias(
    "taken"
)
_HOLD_IDS = (
    select(func.array_agg(aggregate_order_by(func.nextval(_SEQUENCE), _TAKEN.column)))
    .select_from(_TAKEN)
    .scalar_subquery()
)
# Compiled once at import: its first compile must not race (db/shared_sql.py).
_IDENTIFY_AND_LOCK = prime(
    select(
        _CALLER.c.id,
        _CALLER.c.path,
        _CALLER.c.on_net,
        *_LOCKED,
        _CHAIN.c.sheet_version,
        _CHAIN.c.due,
        _CHAIN.c.bundled,
        _CHAIN.c.routing,
        _CHAIN.c.settings,
        _SHEETS_LIVE,
        _TRUNKS_LIVE,
        _HOLD_IDS,
    )
    .select_from(_CALLER)
    .outerjoin(_CHAIN, true())
    .order_by(func.length(_CHAIN.c.path).desc())
    # Planned once per connection (db/prepared.py): planning it took longer than running it.
    .execution_options(prepared="siptar_identify_and_lock")
)


def chain_ids(path: str) -> list[int]:
    """The ids of a path's chain: every account on it but the root (the admin, which
    pays nobody and is never locked: every call would wait on its row)."""
    return [int(i) for i in path.strip("/").split("/") if i][1:]


def lock_chain(session: Session, account: Account | Level, now: datetime) -> LockedChain:
    """The account and every account above it except the admin, locked in that order
    (customer first, up to the root): the one order every writer of balances uses.
    One statement whatever the depth: PostgreSQL takes a FOR UPDATE query's row locks
    as its rows come out of the ORDER BY, and an ancestor's path is a strict prefix of
    its descendant's, so the longest path (the customer) is locked first. The same
    statement reads every level's sheet version (the plans' check) and the flags of
    `LockedChain`: its subqueries read the snapshot of the statement, which can only
    miss a change committed while it waited on a lock: a reservation made then is not
    due yet, and a bundle or route changed then counts from the next call."""
    ids = chain_ids(account.path)
    if not ids:
        raise Denied(Reason.UNKNOWN_ACCOUNT)  # the admin itself places no billed calls
    rows = execute_core(session, _LOCK, {"ids": ids, "now": now}).all()
    return _locked(session, rows, len(ids))


@dataclass(frozen=True)
class Identified:
    """What `identify_and_lock` found: whether an account has that peer or accountcode,
    whether the number may be on-net (as identify_call says it: None when nothing was
    found), and the chain locked, customer first (None: left to the plain statements)."""

    found: bool
    on_net: bool | None
    locked: LockedChain | None
    live: Live | None = None  # the guessed route's live figures, read with the lock


def identify_and_lock(
    session: Session, name: str, number: str, owner: str, now: datetime
) -> Identified:
    """PostgreSQL: the account whose SIP peer or accountcode is `name`, and its chain
    locked when the login of path `owner` ("" for a trusted edge) owns it and it is no
    call shop's (see the module's docstring). With them, the live figures of the route
    `number` took at the routes' last load in this process: `Identified.live` when the
    routes' stamp read with the lock is still that load's (else the route's own
    statement reads them)."""
    guess = route_cache.peek(session, number)
    sheets, trunks = live_ids(guess[1]) if guess else ([], [])
    params = {"name": name, "number": number, "owner": owner, "now": now}
    # Straight on the cursor: its text, processors and plan are the same on every call.
    rows = direct_rows(session, _IDENTIFY_AND_LOCK, {**params, "sheets": sheets, "trunks": trunks})
    if not rows:
        return Identified(False, None, None)
    caller_id, path, on_net, first = rows[0][:4]
    if first is None or first != caller_id:  # found, not locked here
        return Identified(True, bool(on_net), None)
    locked = _locked(session, [row[3 : 3 + _READ] for row in rows], len(chain_ids(path)))
    locked = replace(locked, hold_ids=tuple(int(i) for i in rows[0][5 + _READ] or ()))
    live = None
    if guess is not None and guess[0] == locked.routing:
        versions, in_use = rows[0][3 + _READ] or [], rows[0][4 + _READ] or []
        live = Live(
            guess[1],
            [(int(i), int(v)) for i, v in versions],
            {int(i): int(n) for i, n in in_use},
        )
    return Identified(True, bool(on_net), locked, live)


# A lock row: the account's COLUMNS, then sheet version, due, bundled, routing, settings.
_READ = WIDTH + 5
_SHEET, _DUE_AT, _BUNDLED_AT, _ROUTING_AT, _SETTINGS_AT = range(WIDTH, _READ)


def _locked(session: Session, rows: Sequence[Sequence[Any]], wanted: int) -> LockedChain:
    """`LockedChain` from the lock's rows (the account's columns, then its sheet's
    version, due, bundled, routing, settings), deepest first."""
    if len(rows) != wanted:
        raise Denied(Reason.UNKNOWN_ACCOUNT)  # a broken tree: refuse, never guess
    chain = [level(row) for row in rows]
    # Every level's sheet checked against the version just read: no statement of its own.
    remember_plans(
        session,
        [
            (a.rate_sheet_id, int(row[_SHEET]))
            for a, row in zip(chain, rows, strict=True)
            if a.rate_sheet_id is not None and row[_SHEET] is not None
        ],
    )
    return LockedChain(
        chain,
        due=any(row[_DUE_AT] for row in rows),
        bundled=any(row[_BUNDLED_AT] for row in rows),
        routing=int(rows[0][_ROUTING_AT] or 0),
        settings=int(rows[0][_SETTINGS_AT] or 0),
    )
