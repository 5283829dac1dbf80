"""Calls up right now, and cutting the ones whose credit ran out.

AMI events -> an in-memory picture of this Asterisk's calls (handlers run in the event
loop and only touch dicts) -> every `interval` s, in a thread, one transaction that
writes the changes to `live_calls` (so every gunicorn worker can show them) and checks
credit:

- Newchannel: a channel exists (its start time).
- DialBegin with a caller (Uniqueid): the caller dials out; the call is keyed by the
  caller's Uniqueid (which is the CDR's UniqueID and the reservation's `uniqueid`). The
  trunk is the one whose dial string, with ${NUMBER} filled in, equals
  `<technology of DestChannel>/<DialString>`.
- DialEnd ANSWER or BridgeEnter: the call is up (`answered_at`); DialEnd otherwise: the
  attempt ended (a failover may dial again).
- Hangup: the channel is gone.

Credit: an answered call whose open reservation's `max_seconds` have passed is hung up
with `Action: Hangup` and a `call_interventions` row says why; the CDR that follows
carries the reason in `hangup_reason`. The row is unique per Uniqueid: of two listeners
on one Asterisk only the one that inserted it sends the Hangup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.schema import Account, CallIntervention, LiveCall, Reservation, Trunk

logger = logging.getLogger(__name__)


@dataclass
class _Call:
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


@dataclass(frozen=True)
class Hangup:
    uniqueid: str
    channel: str
    reason: str


def _event_time(message: Mapping[str, Any]) -> datetime:
    stamp = message.get("Timestamp")
    if stamp:
        try:
            return datetime.fromtimestamp(int(str(stamp).split(".")[0]), UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


class LiveCallMonitor:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        interval: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._factory = session_factory
        self.interval = interval
        self._clock = clock
        self.channels: dict[str, datetime] = {}
        self.calls: dict[str, _Call] = {}
        self._changed: dict[str, _Call | None] = {}  # uniqueid -> new state, None = gone
        self.hangups_sent: list[Hangup] = []

    def handlers(self) -> dict[str, Callable[[Any], object]]:
        return {
            "Newchannel": self.on_newchannel,
            "DialBegin": self.on_dial_begin,
            "DialEnd": self.on_dial_end,
            "BridgeEnter": self.on_bridge_enter,
            "Hangup": self.on_hangup,
        }

    # -- events (event loop; dicts only) --

    def on_newchannel(self, m: Mapping[str, Any]) -> None:
        self.channels[str(m.get("Uniqueid", ""))] = _event_time(m)

    def on_dial_begin(self, m: Mapping[str, Any]) -> None:
        uid = str(m.get("Uniqueid") or "")
        if not uid:
            return  # an Originate: no caller channel dials
        dest = str(m.get("DestChannel") or "")
        call = self.calls.get(uid) or _Call(uid)
        call.linkedid = str(m.get("Linkedid") or "")
        call.channel = str(m.get("Channel") or "")
        call.dstchannel = dest
        call.accountcode = str(m.get("AccountCode") or m.get("DestAccountCode") or "")
        call.number = str(m.get("Exten") or m.get("DestExten") or "")
        call.dialstring = f"{dest.split('/', 1)[0]}/{m.get('DialString') or ''}"
        call.started_at = self.channels.get(uid, _event_time(m))
        self.calls[uid] = call
        self._changed[uid] = call

    def on_dial_end(self, m: Mapping[str, Any]) -> None:
        uid = str(m.get("Uniqueid") or "")
        call = self.calls.get(uid)
        if call is None:
            return
        if str(m.get("DialStatus", "")).upper() == "ANSWER":
            self._answer(call, _event_time(m))
        else:
            del self.calls[uid]
            self._changed[uid] = None

    def on_bridge_enter(self, m: Mapping[str, Any]) -> None:
        call = self.calls.get(str(m.get("Uniqueid") or ""))
        if call is not None and call.answered_at is None:
            self._answer(call, _event_time(m))

    def on_hangup(self, m: Mapping[str, Any]) -> None:
        uid = str(m.get("Uniqueid") or "")
        self.channels.pop(uid, None)
        if self.calls.pop(uid, None) is not None:
            self._changed[uid] = None

    def _answer(self, call: _Call, when: datetime) -> None:
        call.state, call.answered_at = "up", when
        self._changed[call.uniqueid] = call

    # -- the periodic sync (thread) --

    async def run(self, listener: Any) -> None:
        """Sync and check every `interval` s; send the Hangups over `listener`."""
        while True:
            await asyncio.sleep(self.interval)
            await self.tick(listener)

    async def tick(self, listener: Any) -> None:
        changes, self._changed = self._changed, {}
        try:
            hangups = await asyncio.to_thread(self.sync, changes)
        except Exception:
            logger.exception("live calls: database sync failed; will retry")
            self._changed = changes | self._changed
            return
        for hangup in hangups:
            action = {"Action": "Hangup", "Channel": hangup.channel, "Cause": "16"}
            try:
                await listener.send_action(action)
            except Exception:
                logger.exception("Hangup of %s (%s) not sent", hangup.channel, hangup.uniqueid)
                continue
            self.hangups_sent.append(hangup)
            logger.warning("hung up %s: %s", hangup.channel, hangup.reason)

    def sync(self, changes: Mapping[str, _Call | None]) -> list[Hangup]:
        with self._factory() as session:
            if changes:
                self._write(session, changes)
            hangups = self._overdue(session)
            session.commit()
        return hangups

    def _write(self, session: Session, changes: Mapping[str, _Call | None]) -> None:
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
        now = self._clock()
        rows = [
            {
                "uniqueid": c.uniqueid,
                "linkedid": c.linkedid,
                "channel": c.channel,
                "dstchannel": c.dstchannel,
                "accountcode": c.accountcode,
                "account_id": accounts.get(c.accountcode),
                "trunk_id": _trunk_of(trunks, c),
                "number": c.number,
                "state": c.state,
                "started_at": c.started_at,
                "answered_at": c.answered_at,
                "updated_at": now,
            }
            for c in calls
        ]
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(LiveCall).values(rows)
        columns = {k: insert.excluded[k] for k in rows[0] if k != "uniqueid"}
        session.execute(insert.on_conflict_do_update(index_elements=["uniqueid"], set_=columns))

    def _overdue(self, session: Session) -> list[Hangup]:
        """Answered calls past their open reservation's max_seconds, not yet acted on."""
        candidates = session.execute(
            select(LiveCall, Reservation)
            .join(Reservation, Reservation.uniqueid == LiveCall.uniqueid)
            .outerjoin(CallIntervention, CallIntervention.uniqueid == LiveCall.uniqueid)
            .where(
                LiveCall.answered_at.is_not(None),
                Reservation.status == "open",
                CallIntervention.id.is_(None),
            )
        ).all()
        now = self._clock()
        hangups = []
        for live, reservation in candidates:
            assert live.answered_at is not None
            if live.answered_at + timedelta(seconds=reservation.max_seconds) > now:
                continue
            reason = (
                f"credit exhausted: reservation {reservation.id} allowed "
                f"{reservation.max_seconds} s, call up since {live.answered_at:%H:%M:%S} UTC"
            )
            if self._claim(session, live, reservation, reason):
                hangups.append(Hangup(live.uniqueid, live.channel, reason))
        return hangups

    def _claim(
        self, session: Session, live: LiveCall, reservation: Reservation, reason: str
    ) -> bool:
        """Insert the intervention; False if another listener got there first."""
        try:
            with session.begin_nested():
                session.add(
                    CallIntervention(
                        uniqueid=live.uniqueid,
                        channel=live.channel,
                        account_id=live.account_id or reservation.account_id,
                        reservation_id=reservation.id,
                        reason=reason[:255],
                    )
                )
        except IntegrityError:
            return False
        return True


def _trunk_of(trunks: Mapping[str, int], call: _Call) -> int | None:
    for pattern, trunk_id in trunks.items():
        if pattern.replace("${NUMBER}", call.number) == call.dialstring:
            return trunk_id
    return None
