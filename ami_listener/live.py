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

Credit (ami_listener/credit.py, in the same tick: release, expiry and the rest each commit
on their own, see its `run`): the reservations of answered
calls are extended slice by slice; a call whose reserved seconds have passed (its
extension was refused) is hung up with `Action: Hangup` and a `call_interventions` row
says why; the CDR that follows carries the reason in `hangup_reason`. The row is unique
per Uniqueid: of two listeners on one Asterisk only the one that inserted it sends the
Hangup, and only while its AMI connection is up. A failed Hangup is sent again with
backoff until the channel is gone (ami_listener/hangups.py). The reservations of
channels a reconcile finds gone are released; overdue ones expire.

Stale rows. Events missed (a disconnect, a listener that died mid-call) would leave rows
forever, so:

- Reconcile: after every AMI login, and every `reconcile_interval` s, the monitor asks
  Asterisk for the channels up now (`Action: CoreShowChannels`). A call in memory that
  is not listed and had no event since the question was sent is forgotten (its row
  deleted). A row of this Asterisk (`asterisk` = the AMI host:port) that nobody here
  knows is deleted when its channel is not listed and it started before the question
  (less `skew`, for the clocks of two listener hosts): a call another listener inserted
  meanwhile is newer and stays. A listed row nobody here knows (a restart) is adopted.
- Age: while connected and reconciled, the monitor refreshes `seen_at` of the calls it
  knows every `refresh_interval` s; any listener deletes rows nobody refreshed for
  `stale_after` s (a listener gone for good, or one cut off from its Asterisk). Two
  listeners on one Asterisk refresh the same rows, so one stopping deletes nothing.

Here: the events and the periodic work's flow. The table's statements are in
ami_listener/live_rows.py, the reading of CoreShowChannels in ami_listener/channel_list.py,
the Hangup retries in ami_listener/hangups.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ami_listener import live_rows
from ami_listener.channel_list import listed_uniqueids
from ami_listener.credit import CreditKeeper
from ami_listener.hangups import Hangup, HangupSender
from ami_listener.live_rows import Call
from db.schema import LIVE_CALL_STALE_AFTER_S

logger = logging.getLogger(__name__)


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
        asterisk: str = "",
        refresh_interval: float = 10.0,
        stale_after: float = LIVE_CALL_STALE_AFTER_S,
        reconcile_interval: float = 300.0,
        reconcile_timeout: float = 10.0,
        skew: float = 10.0,
        hangups: HangupSender | None = None,
        credit: CreditKeeper | None = None,
    ) -> None:
        self._factory = session_factory
        self.interval = interval
        self._clock = clock
        self.asterisk = asterisk  # the AMI host:port: whose rows a reconcile may touch
        self.refresh_interval = refresh_interval
        self.stale_after = stale_after
        self.reconcile_interval = reconcile_interval
        self.reconcile_timeout = reconcile_timeout
        self.skew = skew
        self.hangups = hangups or HangupSender()
        self.credit = credit or CreditKeeper(asterisk)
        self.channels: dict[str, datetime] = {}
        self.calls: dict[str, Call] = {}
        self._changed: dict[str, Call | None] = {}  # uniqueid -> new state, None = gone
        # Reconcile: every event stamps its Uniqueid with the current epoch; a reconcile
        # starts a new one, so "no event since the question" is `touched < epoch`.
        self._epoch = 0
        self._touched: dict[str, int] = {}
        self._ended: set[str] = set()  # Hangup events since the reconcile began
        self._login_seen = 0  # the listener's login count we reacted to
        self._reconciled_login = -1  # the login whose reconcile succeeded
        self._next_reconcile = 0.0  # time.monotonic()
        self._reconcile_delay = 1.0  # backoff after a failed reconcile
        self._next_refresh = 0.0  # time.monotonic()
        self.reconciles = 0  # successful ones, for logs and tests

    @property
    def hangups_sent(self) -> list[Hangup]:
        return self.hangups.sent

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
        uid = str(m.get("Uniqueid", ""))
        self.channels[uid] = _event_time(m)
        self._touched[uid] = self._epoch

    def on_dial_begin(self, m: Mapping[str, Any]) -> None:
        uid = str(m.get("Uniqueid") or "")
        if not uid:
            return  # an Originate: no caller channel dials
        dest = str(m.get("DestChannel") or "")
        call = self.calls.get(uid) or Call(uid)
        call.linkedid = str(m.get("Linkedid") or "")
        call.channel = str(m.get("Channel") or "")
        call.dstchannel = dest
        call.accountcode = str(m.get("AccountCode") or m.get("DestAccountCode") or "")
        call.number = str(m.get("Exten") or m.get("DestExten") or "")
        call.dialstring = f"{dest.split('/', 1)[0]}/{m.get('DialString') or ''}"
        call.started_at = self.channels.get(uid, _event_time(m))
        call.trunk_id = None
        self.calls[uid] = call
        self._changed[uid] = call
        self._touched[uid] = self._epoch

    def on_dial_end(self, m: Mapping[str, Any]) -> None:
        uid = str(m.get("Uniqueid") or "")
        call = self.calls.get(uid)
        if call is None:
            return
        self._touched[uid] = self._epoch
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
        self._touched.pop(uid, None)
        self._ended.add(uid)
        self.hangups.gone(uid, "Hangup event")
        self.credit.hung_up(uid)
        if self.calls.pop(uid, None) is not None:
            self._changed[uid] = None

    def _answer(self, call: Call, when: datetime) -> None:
        call.state, call.answered_at = "up", when
        self._changed[call.uniqueid] = call

    # -- the periodic work (the monitor's task; database work in a thread) --

    async def run(self, listener: Any) -> None:
        """Every `interval` s: reconcile when due, sync, send the Hangups over
        `listener`. Never ends on an error (logged); cancel it to stop."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                if self.reconcile_due(listener):
                    await self.reconcile(listener)
                await self.tick(listener)
            except Exception:
                logger.exception("live calls: unexpected error; going on")

    async def tick(self, listener: Any) -> None:
        changes, self._changed = self._changed, {}
        connected = listener.connected.is_set()
        now = time.monotonic()
        refresh = now >= self._next_refresh
        if refresh:
            self._next_refresh = now + self.refresh_interval
        # Refresh seen_at only with a picture checked against Asterisk since the last
        # login: a listener cut off from its Asterisk lets its rows age out.
        mine = list(self.calls) if refresh and connected and self._reconciled() else []
        try:
            hangups = await asyncio.to_thread(
                self.sync, changes, refresh=mine, purge=refresh, claim=connected
            )
        except Exception:
            logger.exception("live calls: database sync failed; will retry")
            self._changed = changes | self._changed
            for call in self.calls.values():  # rows may age out meanwhile: write them all
                self._changed.setdefault(call.uniqueid, call)
            if refresh:
                self._next_refresh = 0.0
        else:
            for hangup in hangups:
                self.hangups.add(hangup)
        await self.hangups.send_due(listener)

    def sync(
        self,
        changes: Mapping[str, Call | None],
        *,
        refresh: Sequence[str] = (),
        purge: bool = False,
        claim: bool = True,
    ) -> list[Hangup]:
        """Write `changes`, refresh `seen_at` of the `refresh` calls, delete the rows
        nobody refreshed (`purge`), and do the credit work (ami_listener/credit.py; the
        extensions and the hang-ups only with `claim`: connected); commits (the credit work
        commits between its steps)."""
        with self._factory() as session:
            now = self._clock()
            if changes:
                live_rows.write_changes(session, changes, asterisk=self.asterisk, now=self._clock())
            live_rows.refresh_seen(session, refresh, asterisk=self.asterisk, now=now)
            if purge:
                live_rows.purge_stale(session, now - timedelta(seconds=self.stale_after))
            hangups = self.credit.run(session, now, connected=claim)
            session.commit()
        return hangups

    # -- reconcile with Asterisk's own list of channels --

    def reconcile_due(self, listener: Any) -> bool:
        if not listener.connected.is_set():
            return False
        logins = int(getattr(listener, "logins", 0))
        if logins != self._login_seen:  # a new login: ask at once
            self._login_seen = logins
            self._next_reconcile, self._reconcile_delay = 0.0, 1.0
        return time.monotonic() >= self._next_reconcile

    def _reconciled(self) -> bool:
        return self._reconciled_login == self._login_seen

    async def reconcile(self, listener: Any) -> bool:
        """Ask Asterisk which channels are up; forget, delete and adopt accordingly.
        False (logged, retried with backoff) if Asterisk did not answer."""
        login = int(getattr(listener, "logins", 0))
        self._epoch += 1
        epoch, self._ended = self._epoch, set()
        asked_at = self._clock()
        try:
            reply = await listener.send_action(
                {"Action": "CoreShowChannels"}, timeout=self.reconcile_timeout
            )
            listed = listed_uniqueids(reply)
        except Exception as exc:
            self._next_reconcile = time.monotonic() + self._reconcile_delay
            logger.error(
                "live calls: CoreShowChannels failed (%s); retrying in %.0f s (the AMI "
                "user needs write = call,reporting)",
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                self._reconcile_delay,
            )
            self._reconcile_delay = min(self._reconcile_delay * 2, 60.0)
            return False
        forgotten = self._forget(listed, epoch)
        self.credit.gone(forgotten)
        cutoff = asked_at - timedelta(seconds=self.skew)
        try:
            removed, adopted = await asyncio.to_thread(
                self._reconcile_rows, listed, set(self.calls), cutoff
            )
        except Exception:
            logger.exception("live calls: reconcile: database failed; will ask again")
            self._next_reconcile = time.monotonic() + self._reconcile_delay
            self._reconcile_delay = min(self._reconcile_delay * 2, 60.0)
            return False
        for call in adopted:
            if call.uniqueid not in self.calls and call.uniqueid not in self._ended:
                self.calls[call.uniqueid] = call
                self._touched[call.uniqueid] = epoch
        for call in self.calls.values():  # rows may have aged out while we were away
            self._changed.setdefault(call.uniqueid, call)
        self._reconciled_login = login
        self._next_reconcile = time.monotonic() + self.reconcile_interval
        self._next_refresh = 0.0
        self.reconciles += 1
        logger.info(
            "live calls reconciled with Asterisk: %d channel(s) up; %d call(s) forgotten, "
            "%d row(s) removed, %d adopted",
            len(listed),
            len(forgotten),
            removed,
            len(adopted),
        )
        return True

    def _forget(self, listed: set[str], epoch: int) -> list[str]:
        """Drop what Asterisk no longer lists and no event touched since `epoch` began."""
        forgotten = []
        for uid in set(self.calls) | set(self.channels) | set(self._touched):
            if uid in listed or self._touched.get(uid, -1) >= epoch:
                continue
            self.channels.pop(uid, None)
            self._touched.pop(uid, None)
            if self.calls.pop(uid, None) is not None:
                self._changed[uid] = None
                forgotten.append(uid)
                logger.warning("live calls: %s is not up any more (its Hangup was missed)", uid)
        for uid in list(self.hangups.pending):
            if uid not in listed and uid not in self.calls:
                self.hangups.gone(uid, "not listed by CoreShowChannels")
        return forgotten

    def _reconcile_rows(
        self, listed: set[str], known: set[str], cutoff: datetime
    ) -> tuple[int, list[Call]]:
        """Delete this Asterisk's rows whose channel is gone; return the count and the
        listed rows nobody here knows (to adopt)."""
        with self._factory() as session:
            gone, adopted = live_rows.reconcile_rows(session, self.asterisk, listed, known, cutoff)
            self.credit.gone(gone)  # their reservations: released in the next sync
            session.commit()
        return len(gone), adopted
