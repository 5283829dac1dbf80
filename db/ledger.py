"""The only way a balance changes: one SQL update and one ledger row, one transaction.

Each change also checks the account's low-balance alerts (db/alerts), in the same
transaction.

The balance is moved by `UPDATE ... SET balance = balance + :amount` (never read,
changed in Python and written back), so concurrent writers can't lose an update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, CursorResult, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from db import alerts, bulk
from db.schema import Account, LedgerEntry, utcnow
from db.types import Money, UtcDateTime

KINDS = ("payment", "call", "recurring", "refund", "adjustment", "tax", "voucher", "bundle")
LEDGER = cast(Table, LedgerEntry.__table__)


def post(
    session: Session,
    account_id: int,
    kind: str,
    amount: Decimal,
    *,
    reference: str = "",
    cdr_id: int | None = None,
    login_id: int | None = None,
) -> LedgerEntry:
    """Add `amount` (signed: negative for a charge) to the account's balance and record it.

    The caller commits; until then neither the balance nor the row is visible.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    balance_after = session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(balance=Account.balance + amount)
        .returning(Account.balance)
    ).scalar_one()
    entry = LedgerEntry(
        account_id=account_id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        reference=reference,
        cdr_id=cdr_id,
        login_id=login_id,
    )
    session.add(entry)
    alerts.check(session, (account_id,))
    # Keep an already loaded Account object in step with the database.
    loaded = session.identity_map.get(identity_key(Account, account_id))
    if loaded is not None:
        session.expire(loaded, ["balance"])
    return entry


class Posting(NamedTuple):
    """One balance change for `post_all`: `post`'s arguments."""

    account_id: int
    kind: str
    amount: Decimal
    reference: str = ""
    cdr_id: int | None = None


def post_all(session: Session, postings: Sequence[Posting]) -> None:
    """`post` for many changes at once (the AMI listener's batches of CDRs): every
    account's total added in ONE statement on PostgreSQL (the caller has locked the
    accounts in the one order, deepest first, see services/credit/holds.py) and one bulk
    insert of every ledger row, each row's `balance_after` computed in order from the
    account's new balance. Rows that point at CDRs need those CDRs inserted first."""
    by_account = _by_account(postings)
    if not by_account:
        return
    totals = {a: sum((p.amount for p in ps), Decimal(0)) for a, ps in by_account.items()}
    ids = sorted(totals)
    # One statement for every account on PostgreSQL (was one UPDATE per account).
    after = _add_to_balances(session, ids, totals)
    now = utcnow()
    rows: list[dict[str, object]] = []
    for account_id in ids:
        start_balance = after[account_id] - totals[account_id]
        rows += _entries(session, account_id, by_account[account_id], start_balance, now)
    bulk.insert_rows(session, LEDGER, rows)
    alerts.check(session, by_account.keys())


def post_batch(session: Session, postings: Sequence[Posting]) -> None:
    """`post_all` for batches touching many accounts (the recurring-charges job: a
    thousand customers and their resellers per batch): ONE executemany UPDATE of every
    account's total (psycopg2 pages it, ~100 rows a round trip, in id order), the new
    balances read back in one SELECT per 1,000 accounts, and one bulk insert of the
    ledger rows, each row's `balance_after` computed in order from the new balance."""
    by_account = _by_account(postings)
    if not by_account:
        return
    totals = {a: sum((p.amount for p in ps), Decimal(0)) for a, ps in by_account.items()}
    ids = sorted(totals)
    after = _add_to_balances(session, ids, totals)
    now = utcnow()
    rows: list[dict[str, object]] = []
    for account_id in ids:
        start_balance = after[account_id] - totals[account_id]
        rows += _entries(session, account_id, by_account[account_id], start_balance, now)
    bulk.insert_rows(session, LEDGER, rows)


def post_selected(session: Session, rows: str, kind: str, params: Mapping[str, object]) -> int:
    """`post` for rows the database holds already (the recurring-charges job: the
    charge rows a batch has just inserted), set-based: nothing comes back to Python.

    `rows` is a SELECT giving `account_id`, `amount` (signed), `reference` and `seq`
    (the order of an account's rows). ONE INSERT ... SELECT writes the ledger rows, each
    `balance_after` being the balance plus the window sum of the account's rows up to
    it; then ONE UPDATE adds each account's total, from the same rows. The caller holds
    the accounts' row locks (taken in id order) and `rows` must select the same rows
    both times (a temporary table, say); the INSERT reads the balances before the
    UPDATE changes them. Returns the number of ledger rows."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    written = session.execute(
        text(
            "INSERT INTO ledger (account_id, kind, amount, balance_after, reference,"
            " cdr_id, login_id, created_at)"
            " SELECT p.account_id, :kind, p.amount, a.balance + SUM(p.amount) OVER ("
            "  PARTITION BY p.account_id ORDER BY p.seq"
            "  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),"
            " p.reference, NULL, NULL, :created_at"
            f" FROM ({rows}) AS p JOIN accounts AS a ON a.id = p.account_id"
            " ORDER BY p.account_id, p.seq"
        ).bindparams(bindparam("created_at", type_=UtcDateTime())),
        {**params, "kind": kind, "created_at": utcnow()},
    )
    count = int(cast(CursorResult[Any], written).rowcount)
    if count:
        session.execute(
            text(
                "UPDATE accounts SET balance = accounts.balance + t.total FROM"
                f" (SELECT p.account_id, SUM(p.amount) AS total FROM ({rows}) AS p"
                "  GROUP BY p.account_id) AS t WHERE accounts.id = t.account_id"
            ),
            dict(params),
        )
        # Keep already loaded Account objects in step with the database.
        for loaded in list(session.identity_map.values()):
            if isinstance(loaded, Account):
                session.expire(loaded, ["balance"])
    return count


def _add_to_balances(
    session: Session, ids: list[int], totals: dict[int, Decimal]
) -> dict[int, Decimal]:
    """Add each account's total to its balance; the new balances. The callers hold the
    accounts' row locks already (taken in the one order), so the order of the UPDATE's rows
    does not matter."""
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the whole batch, the new balances from its RETURNING.
        updated = bulk.update_from_values(
            session,
            "UPDATE accounts AS a SET balance = a.balance + v.amount FROM (VALUES %s)"
            " AS v(id, amount) WHERE a.id = v.id RETURNING a.id, a.balance",
            [(a, Money().process_bind_param(totals[a], session.get_bind().dialect)) for a in ids],
            "(%s, %s::numeric)",
        )
        return {int(a): Decimal(b) for a, b in updated}
    table = cast(Table, Account.__table__)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(balance=table.c.balance + bindparam("b_amount", type_=Money())),
        [{"b_id": a, "b_amount": totals[a]} for a in ids],
    )
    after: dict[int, Decimal] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        after.update(
            session.execute(select(Account.id, Account.balance).where(Account.id.in_(chunk))).all()
        )
    return after


def _by_account(postings: Sequence[Posting]) -> dict[int, list[Posting]]:
    by_account: dict[int, list[Posting]] = {}
    for posting in postings:
        if posting.kind not in KINDS:
            raise ValueError(f"unknown ledger kind {posting.kind!r}")
        by_account.setdefault(posting.account_id, []).append(posting)
    return by_account


def _entries(
    session: Session, account_id: int, changes: list[Posting], running: Decimal, now: datetime
) -> list[dict[str, object]]:
    """The ledger rows of one account's changes, `running` being its balance before
    them; an already loaded Account object is expired to stay in step."""
    rows: list[dict[str, object]] = []
    for p in changes:
        running += p.amount
        rows.append(
            {
                "account_id": account_id,
                "kind": p.kind,
                "amount": p.amount,
                "balance_after": running,
                "reference": p.reference,
                "cdr_id": p.cdr_id,
                "login_id": None,
                "created_at": now,
            }
        )
    loaded = session.identity_map.get(identity_key(Account, account_id))
    if loaded is not None:
        session.expire(loaded, ["balance"])
    return rows


def ledger_sum(session: Session, account_id: int) -> Decimal:
    total = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    ).scalar_one()
    return Decimal(total)


def post_where(
    session: Session,
    where: ColumnElement[bool],
    kind: str,
    amount: Decimal,
    *,
    reference: str = "",
    login_id: int | None = None,
) -> int:
    """`post` for every account matching `where`, set-based (a PIN lot of 100,000 cards
    is one UPDATE ... RETURNING and one bulk INSERT of ledger rows). Returns the count."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    changed = session.execute(
        update(Account)
        .where(where)
        .values(balance=Account.balance + amount)
        .returning(Account.id, Account.balance),
        execution_options={"synchronize_session": False},
    ).all()
    _insert_entries(session, [(i, amount, b) for i, b in changed], kind, reference, login_id)
    alerts.check(session, [i for i, _ in changed])
    return len(changed)


def post_many(
    session: Session,
    amounts: Mapping[int, Decimal],
    kind: str,
    *,
    reference: str = "",
    login_id: int | None = None,
) -> None:
    """`post` for many accounts with an amount each (an import's initial credits):
    one executemany UPDATE, then the balances read back for the ledger rows."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if not amounts:
        return
    table = cast(Table, Account.__table__)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(balance=table.c.balance + bindparam("b_amount", type_=Money())),
        [{"b_id": i, "b_amount": a} for i, a in amounts.items()],
    )
    ids = list(amounts)
    after: dict[int, Decimal] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        after.update(
            session.execute(select(Account.id, Account.balance).where(Account.id.in_(chunk))).all()
        )
    rows = [(i, a, after[i]) for i, a in amounts.items()]
    _insert_entries(session, rows, kind, reference, login_id)
    alerts.check(session, ids)


def _insert_entries(
    session: Session,
    rows: list[tuple[int, Decimal, Decimal]],
    kind: str,
    reference: str,
    login_id: int | None,
) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    bulk.insert_rows(
        session,
        LEDGER,
        [
            {
                "account_id": i,
                "kind": kind,
                "amount": amount,
                "balance_after": after,
                "reference": reference,
                "login_id": login_id,
                "created_at": now,
            }
            for i, amount, after in rows
        ],
    )
