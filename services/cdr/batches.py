"""Storing a batch of CDRs in one transaction: the AMI listener's and the imports' path.

The same rules as one CDR at a time (services/cdr/usecases.store_cdr: idempotent on
(uniqueid, sequence) and on the AMI/CSV fingerprint, every level charged, one ledger
row per balance change, an unratable CDR stored with its reason), at a constant number
of statements per batch: one query for the duplicates, one lookup of each kind for the
whole batch (services/cdr/prefetch.py: accounts, plans, trunks, DIDs, bundles), one
bulk insert each of the CDRs, the charges and the ledger rows (COPY on PostgreSQL,
db/bulk.py), one UPDATE of the balances and one of the reservations. Rows are plain dicts, not ORM
objects: at thousands of CDRs a second, building and flushing ORM objects cost more
than rating the calls. Spyne-free.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db import bulk, ledger
from db.by_key import for_each_key
from db.schema import CallIntervention, Cdr, Charge, utcnow
from db.session import UnitOfWork
from services.cdr import prefetch, pricing
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome, fingerprint, sequence_of, store_cdr_safely
from services.credit import cdr_batch, settlement

logger = logging.getLogger(__name__)

CDRS = cast(Table, Cdr.__table__)
CHARGES = cast(Table, Charge.__table__)


def store_batch(uow: UnitOfWork, records: Sequence[CdrRecord]) -> list[Outcome | None]:
    """Store and rate many CDRs in ONE transaction and commit; one outcome per record.

    Fast path (`_store_many`): the whole batch with a constant number of statements. If
    anything fails (a duplicate racing in from another listener, a bad value), the
    transaction is rolled back and redone record by record, each in a transaction of
    its own, so one bad record costs only itself: its outcome is None (logged), the
    others are committed. One transaction per record, not one for all: each record
    locks its own chain of accounts, and a transaction that took one chain and then
    another could wait in a cycle with an Authorize (the one lock order,
    services/credit/holds.py). A lost connection (OperationalError) is raised: nothing of
    the batch is committed (but, in the record-by-record path, the records before it,
    which a retry of the whole batch finds stored: duplicates, changing nothing).
    """
    try:
        outcomes: list[Outcome | None] = list(_store_many(uow, records))
        uow.commit()
        return outcomes
    except OperationalError:
        uow.rollback()
        raise
    except Exception as exc:
        uow.rollback()
        logger.info("batch of %d CDRs redone one by one: %s", len(records), exc)
    return one_by_one(uow, records)


def one_by_one(uow: UnitOfWork, records: Sequence[CdrRecord]) -> list[Outcome | None]:
    """`store_batch`'s second way: each record in a transaction of its own (a refused
    one: None, logged); a lost connection is raised."""
    outcomes: list[Outcome | None] = []
    for record in records:
        try:
            outcomes.append(store_cdr_safely(uow, record))
        except OperationalError:
            raise
        except Exception:
            logger.exception(
                "CDR UniqueID=%s Sequence=%s can't be stored", record.uniqueid, record.sequence
            )
            outcomes.append(None)
        uow.commit()
    return outcomes


@dataclass(frozen=True)
class Written:
    """What a batch's transaction writes that a batch read beside it, before that
    transaction commits, must take as written (services/cdr/pipeline.py): its CDRs'
    keys, and the reservations it closes."""

    keys: frozenset[tuple[str, int]] = frozenset()  # (uniqueid, sequence)
    fingerprints: frozenset[str] = frozenset()
    reservations: frozenset[int] = frozenset()


def _store_many(uow: UnitOfWork, records: Sequence[CdrRecord]) -> list[Outcome]:
    """The batch without a commit."""
    steps = stages(uow, records)
    next(steps)
    try:
        next(steps)
    except StopIteration as done:
        return cast(list[Outcome], done.value)
    raise AssertionError("a batch has two stages")


def stages(
    uow: UnitOfWork, records: Sequence[CdrRecord], beside: Written = Written()
) -> Generator[Written, None, list[Outcome]]:
    """The batch without a commit, in two stages: the first (up to the `yield`) reads
    and rates (its statements read and draw ids from the cdrs sequence, but for a
    bundled call's, which lock and update its counters); the second writes. What the
    first yields is what the second will write.
    `beside`: what a batch whose transaction is still open will have written (the
    previous one of services/cdr/pipeline.py): its CDRs are duplicates here and its
    reservations are not this batch's, as they would be once it committed."""
    session = uow.session
    outcomes = [Outcome.DUPLICATE] * len(records)
    new = _new_records(session, records, beside)
    ids = _allocate_cdr_ids(session, len(new))
    now = utcnow()
    cdrs: list[dict[str, object]] = []
    charges: list[dict[str, object]] = []
    postings: list[ledger.Posting] = []
    closings: list[settlement.Closing] = []
    with cdr_batch.batch(session, [r.uniqueid for _, r, _ in new], beside.reservations):
        # Accounts, plans, trunks, providers, DIDs, bundles: one statement each.
        prefetch.prefetch(session, [r for _, r, _ in new], ids)
        for (i, record, row), cdr_id in zip(new, ids, strict=True):
            row["id"], row["received_at"] = cdr_id, now
            try:
                priced = pricing.price_call(uow, record, cdr_id)
            except pricing.Unratable as why:
                row.update(pricing.unrated_columns(why))
                outcomes[i], charged, account_id = Outcome.UNRATED, None, why.account_id
            else:
                row.update(pricing.rated_columns(priced.levels, now))
                row["account_id"] = account_id = priced.account_id
                row["onnet_account_id"] = priced.onnet_account_id
                charges += pricing.charge_rows(cdr_id, priced.levels)
                postings += pricing.postings(cdr_id, record.dst, priced.levels)
                outcomes[i], charged = Outcome.RATED, len(priced.levels)
            costs = settlement.trunk_costs(session, record.uniqueid, record, charged)
            row["trunk_id"] = costs.trunk_id
            if costs.buy is not None:
                charges.append(costs.buy.row(cdr_id))
            cdrs.append(row)
            closings.append(settlement.Closing(cdr_id, account_id, record.uniqueid, charged))
        closed = settlement.to_close(session, closings)
        yield Written(
            frozenset((cast(str, r["uniqueid"]), cast(int, r["sequence"])) for r in cdrs),
            frozenset(cast(str, r["fingerprint"]) for r in cdrs if r["fingerprint"]),
            frozenset(closed),
        )
        # Every account the batch changes, locked at once in the one order (holds.py),
        # before the inserts' foreign keys take their share locks on them.
        settlement.lock_accounts_of_calls(session, closed, {p.account_id for p in postings})
        # The CDRs first: charges, ledger rows and reservations point at them.
        bulk.insert_rows(session, CDRS, cdrs)
        for charge in charges:
            charge["created_at"] = now
        bulk.insert_rows(session, CHARGES, charges)
        ledger.post_all(session, postings)
        settlement.close_calls(session, closed, accounts_locked=True)
    return outcomes


def _new_records(
    session: Session, records: Sequence[CdrRecord], beside: Written
) -> list[tuple[int, CdrRecord, dict[str, object]]]:
    """The records not stored yet (nor twice in the batch, nor by `beside`), by position,
    each with its CDR row so far: one query for the keys already stored, one for
    hang-up reasons."""
    uniqueids = sorted({r.uniqueid for r in records})
    if session.get_bind().dialect.name == "postgresql":
        wanted = {"uniqueids": uniqueids}
        known = session.execute(_STORED_BY_UNIQUEID, wanted).all()
        found = session.execute(_REASONS_BY_UNIQUEID, wanted).all()
    else:
        known = session.execute(_STORED.where(Cdr.uniqueid.in_(uniqueids))).all()
        found = session.execute(_REASONS.where(CallIntervention.uniqueid.in_(uniqueids))).all()
    keys = {(u, s) for u, s, _ in known} | beside.keys
    prints = {f for _, _, f in known if f} | beside.fingerprints
    reasons: dict[str, str] = dict(found)
    new = []
    for i, record in enumerate(records):
        print_ = fingerprint(record)
        sequence = sequence_of(record, print_)
        if (record.uniqueid, sequence) in keys or print_ in prints:
            continue
        keys.add((record.uniqueid, sequence))
        prints.add(print_)
        row = pricing.cdr_values(record, sequence, print_)
        row["hangup_reason"] = reasons.get(record.uniqueid, "")
        new.append((i, record, row))
    return new


# What a batch asks by its UniqueIDs; on PostgreSQL one index probe per UniqueID
# (db/by_key.py): `uniqueid IN (...)` read the whole of a `cdrs` table nobody had
# analyzed yet (as bench_ami's, growing by 200 rows a batch).
_STORED = select(Cdr.uniqueid, Cdr.sequence, Cdr.fingerprint)
_REASONS = select(CallIntervention.uniqueid, CallIntervention.reason)
_STORED_BY_UNIQUEID = for_each_key(_STORED, Cdr.uniqueid, "uniqueids")
_REASONS_BY_UNIQUEID = for_each_key(_REASONS, CallIntervention.uniqueid, "uniqueids")


def _allocate_cdr_ids(session: Session, count: int) -> list[int]:
    """`count` new ids of `cdrs`: from its sequence on PostgreSQL; on SQLite after the
    largest one (every transaction there holds the write lock from its BEGIN
    IMMEDIATE, so nobody else can take the same ids)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('cdrs', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return sorted(int(r[0]) for r in rows)
    last = session.execute(select(func.coalesce(func.max(Cdr.id), 0))).scalar_one()
    return list(range(int(last) + 1, int(last) + 1 + count))
