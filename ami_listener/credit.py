"""Credit control in the AMI listener's periodic transaction (ami_listener/live.py):

- **extend** the reservation of every answered call whose slice runs out soon, all at
  once (services/credit/slices.extend_due);
- **hang up** an answered call whose reserved seconds have passed: its extension was
  refused (or it reached its max_seconds). A `call_interventions` row, unique per
  Uniqueid, says why; of two listeners on one Asterisk only the one that inserted it
  sends the Hangup;
- **release** the reservations of channels that are gone and whose CDR has not come: at
  once for those a channel check (CoreShowChannels) no longer lists, and `release_after`
  seconds after a Hangup event (the CDR normally settles them before that);
- **expire** everybody's overdue reservations every `expire_interval` s, so nothing
  needs cron (services/credit/expiry.expire_due, which takes the time: the job worker
  can take it over).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ami_listener.hangups import Hangup
from db.schema import CallIntervention, LiveCall, Reservation
from services.common import runtime_settings
from services.credit.expiry import LONGEST_MARGIN, expire_due, release_gone
from services.credit.policy import DEFAULT_POLICY, CreditPolicy
from services.credit.slices import extend_due

logger = logging.getLogger(__name__)


class CreditKeeper:
    def __init__(
        self,
        asterisk: str,
        *,
        policy: CreditPolicy = DEFAULT_POLICY,
        release_after: float = 60.0,
        expire_interval: float = 30.0,
    ) -> None:
        self.asterisk = asterisk
        self.policy = policy
        self.release_after = release_after
        self.expire_interval = expire_interval
        self._hung_up: dict[str, float] = {}  # uniqueid -> time.monotonic() of its Hangup
        self._gone: set[str] = set()  # channels a channel check did not list
        self._next_expiry = 0.0  # time.monotonic()
        self.extended = 0  # for logs, tests and benchmarks
        self.released = 0

    # -- from the event loop (dicts only) --

    def hung_up(self, uniqueid: str) -> None:
        self._hung_up.setdefault(uniqueid, time.monotonic())

    def gone(self, uniqueids: set[str] | list[str]) -> None:
        self._gone.update(uniqueids)

    # -- in the monitor's transaction (a thread) --

    def run(self, session: Session, now: datetime, *, connected: bool) -> list[Hangup]:
        """Release, expire; and while connected to Asterisk (the picture of its calls is
        current) extend and claim the hang-ups due. Commits after the release and after
        the expiry, not after the rest: each step locks its accounts all at once, and a
        transaction that took a second set after a first could wait in a cycle with an
        Authorize (the one lock order, services/credit/holds.py)."""
        self._release(session)
        session.commit()
        if time.monotonic() >= self._next_expiry:
            self._next_expiry = time.monotonic() + self.expire_interval
            expire_due(session, now)
            session.commit()
        if not connected:
            return []
        # The runtime settings (SetSetting) over the environment's policy, as Authorize
        # reads them: a new slice reaches the listener without a restart.
        policy = runtime_settings.credit_policy(session, self.policy)
        self.extended += len(extend_due(session, now, policy, self.asterisk).extended)
        return self._overdue(session, now)

    def _release(self, session: Session) -> None:
        cutoff = time.monotonic() - self.release_after
        ripe = {uid for uid, at in self._hung_up.items() if at <= cutoff}
        wanted = ripe | self._gone
        if not wanted:
            return
        self.released += release_gone(session, wanted)
        # Cleared only now: a failed transaction leaves them to the next try.
        self._gone.clear()
        for uid in ripe:
            self._hung_up.pop(uid, None)

    def _overdue(self, session: Session, now: datetime) -> list[Hangup]:
        """Answered calls past their open reservation's reserved seconds, not acted on
        yet. The reserved end is expires_at less its margin (at most LONGEST_MARGIN),
        so the index of open rows by expires_at narrows them."""
        candidates = session.execute(
            select(LiveCall, Reservation)
            .join(Reservation, Reservation.uniqueid == LiveCall.uniqueid)
            .outerjoin(CallIntervention, CallIntervention.uniqueid == LiveCall.uniqueid)
            .where(
                LiveCall.asterisk == self.asterisk,  # a Hangup sent elsewhere cuts nothing
                LiveCall.answered_at.is_not(None),
                Reservation.status == "open",
                Reservation.expires_at <= now + LONGEST_MARGIN,
                CallIntervention.id.is_(None),
            )
        ).all()
        hangups = []
        for live, reservation in candidates:
            assert live.answered_at is not None
            held = reservation.reserved_seconds
            if live.answered_at + timedelta(seconds=held) > now:
                continue
            reason = (
                f"credit exhausted: reservation {reservation.id} holds {held} s "
                f"(max {reservation.max_seconds} s), call up since "
                f"{live.answered_at:%H:%M:%S} UTC"
            )
            if _claim(session, live, reservation, reason):
                hangups.append(Hangup(live.uniqueid, live.channel, reason))
        return hangups


def _claim(session: Session, live: LiveCall, reservation: Reservation, reason: str) -> bool:
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
