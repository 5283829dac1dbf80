"""The `live_calls` table, as the AMI listener's monitor (ami_listener/live.py) keeps it:
what a call in memory looks like, and the statements that write, refresh, age out and
reconcile its rows. Called inside the monitor's transactions; no commits here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.schema import Account, LiveCall, Trunk

logger = logging.getLogger("ami_listener.live")  # the monitor's log, as before the split

_CHUNK = 500  # ids per IN (...) list


@dataclass
class Call:
    """A call as the monitor follows it in memory: what its row says."""

    uniqueid: str
    linkedid: str = ""
    channel: str = ""
    dstchannel: str = ""
    accountcode: str = ""
    number: str = ""
    dialstring: str = ""  # <technology>/<DialString>
    state: str = "dialing"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    answered_at: datetime | None = None
    trunk_id: int | None = None  # an adopted row's (its dial string is not known)


def write_changes(
    session: Session, changes: Mapping[str, Call | None], *, asterisk: str, now: datetime
) -> None:
    """Upsert the changed calls' rows and delete the gone ones (None)."""
    gone = [uid for uid, call in changes.items() if call is None]
    if gone:
        session.execute(delete(LiveCall).where(LiveCall.uniqueid.in_(gone)))
    calls = [call for call in changes.values() if call is not None]
    if not calls:
        return
    trunks = {t.dial_string: t.id for t in session.scalars(select(Trunk))}
    codes = {c.accountcode for c in calls if c.accountcode}
    accounts = {
        code: id_
        for code, id_ in session.execute(
            select(Account.accountcode, Account.id).where(Account.accountcode.in_(codes))
        )
    }
    rows = [
        {
            "uniqueid": c.uniqueid,
            "linkedid": c.linkedid,
            "channel": c.channel,
            "dstchannel": c.dstchannel,
            "accountcode": c.accountcode,
            "account_id": accounts.get(c.accountcode),
            "trunk_id": trunk_of(trunks, c) if c.trunk_id is None else c.trunk_id,
            "number": c.number,
            "state": c.state,
            "started_at": c.started_at,
            "answered_at": c.answered_at,
            "updated_at": now,
            "asterisk": asterisk,
            "seen_at": now,
        }
        for c in calls
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(LiveCall)
    columns = {k: insert.excluded[k] for k in rows[0] if k != "uniqueid"}
    # executemany: one compiled statement, whatever the number of calls (a
    # multi-VALUES of every row took ~2 s to compile for 5,000 calls).
    session.execute(insert.on_conflict_do_update(index_elements=["uniqueid"], set_=columns), rows)


def refresh_seen(
    session: Session, uniqueids: Sequence[str], *, asterisk: str, now: datetime
) -> None:
    """Vouch for these calls: `seen_at` now (and this Asterisk's name on their rows)."""
    for chunk in chunks(uniqueids):
        session.execute(
            update(LiveCall)
            .where(LiveCall.uniqueid.in_(chunk))
            .values(seen_at=now, asterisk=asterisk)
        )


def purge_stale(session: Session, cutoff: datetime) -> None:
    """Delete the rows nobody refreshed since `cutoff`, whoever wrote them (logged)."""
    stale = session.execute(
        delete(LiveCall).where(LiveCall.seen_at < cutoff).returning(LiveCall.uniqueid)
    ).all()
    if stale:
        logger.warning(
            "live calls: removed %d row(s) no listener saw since %s UTC: %s",
            len(stale),
            f"{cutoff:%H:%M:%S}",
            ", ".join(uid for (uid,) in stale[:20]),
        )


def reconcile_rows(
    session: Session, asterisk: str, listed: set[str], known: set[str], cutoff: datetime
) -> tuple[list[str], list[Call]]:
    """Delete `asterisk`'s rows nobody here `known`s whose channel is not `listed` and
    that started before `cutoff`; return their Uniqueids and the listed unknown rows
    (to adopt)."""
    rows = session.scalars(select(LiveCall).where(LiveCall.asterisk == asterisk))
    gone, adopted = [], []
    for row in rows:
        if row.uniqueid in known:
            continue
        if row.uniqueid in listed:
            adopted.append(adopt(row))
        elif row.started_at < cutoff:
            gone.append(row.uniqueid)
    for chunk in chunks(gone):
        session.execute(delete(LiveCall).where(LiveCall.uniqueid.in_(chunk)))
    return gone, adopted


def trunk_of(trunks: Mapping[str, int], call: Call) -> int | None:
    for pattern, trunk_id in trunks.items():
        if pattern.replace("${NUMBER}", call.number) == call.dialstring:
            return trunk_id
    return None


def adopt(row: LiveCall) -> Call:
    return Call(
        uniqueid=row.uniqueid,
        linkedid=row.linkedid,
        channel=row.channel,
        dstchannel=row.dstchannel,
        accountcode=row.accountcode,
        number=row.number,
        state=row.state,
        started_at=row.started_at,
        answered_at=row.answered_at,
        trunk_id=row.trunk_id,
    )


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    batch = list(ids)
    for start in range(0, len(batch), _CHUNK):
        yield batch[start : start + _CHUNK]
