"""Booths: add, lock, unlock, and their live state; the Authorize gate.

A booth's state, from the most to the least pressing:
  locked   the shop locked it: no session can be opened, Authorize refuses its calls
  to_pay   its session was closed and waits to be charged
  in_call  a session is open and its peer has a call up (the listener's live calls)
  open     a session is open, no call
  free     unlocked, no session: Authorize refuses its calls too (nobody to charge)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.callshop_schema import Booth, BoothSession
from db.schema import LIVE_CALL_STALE_AFTER_S, Account, LiveCall, Login
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from services.callshop.shops import PEER, peer_of, shop_account, shop_settings
from services.common.caller import Caller

# Authorize's refusal codes (services/credit/authorize.py Reason).
BOOTH_LOCKED = "BoothLocked"
BOOTH_REQUIRED = "BoothRequired"


@dataclass(frozen=True)
class LiveBoothCall:
    uniqueid: str
    number: str
    state: str  # dialing, up
    started_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class BoothView:
    booth: Booth
    state: str
    session: BoothSession | None
    call: LiveBoothCall | None


def add_booth(uow: UnitOfWork, caller: Caller, name: str, sip_peer: str) -> Booth:
    session = uow.session
    shop = shop_account(session, caller)
    name, peer = name.strip(), sip_peer.strip()
    if not name:
        raise InvalidInput("name: give the booth a name")
    if not PEER.match(peer):
        raise InvalidInput("sip_peer: 1 to 80 letters, digits, dots, dashes or underscores")
    # Nothing else Authorize identifies an account by may be spelled like the peer:
    # booth_gate trusts an account found by that name (docs/callshop.md).
    by_account = session.scalar(
        select(Account.id).where(or_(Account.sip_username == peer, Account.accountcode == peer))
    )
    by_login = session.scalar(select(Login.id).where(Login.username == peer))
    by_booth = session.scalar(select(Booth.id).where(Booth.sip_peer == peer))
    if by_account is not None or by_login is not None or by_booth is not None:
        raise AlreadyExists(f"sip_peer {peer!r} is already in use")
    shop_settings(session, shop, create=True)
    booth = Booth(shop_id=shop.id, name=name, sip_peer=peer, locked=False)
    session.add(booth)
    uow.commit()
    return booth


def own_booth(session: Session, caller: Caller, booth_id: int, lock: bool = False) -> Booth:
    """A booth of the caller's shop (another shop's answers NotFound, like none)."""
    shop = shop_account(session, caller)
    query = select(Booth).where(Booth.id == booth_id, Booth.shop_id == shop.id)
    if lock:  # serialises every change of one booth's sessions
        query = query.with_for_update()
    booth = session.scalars(query).first()
    if booth is None:
        raise NotFound(f"booth {booth_id} not found")
    return booth


def set_locked(uow: UnitOfWork, caller: Caller, booth_id: int, locked: bool) -> BoothView:
    booth = own_booth(uow.session, caller, booth_id, lock=True)
    booth.locked = locked
    uow.commit()
    return booth_views(uow.session, [booth])[0]


def list_booths(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[BoothView], int]:
    session = uow.session
    shop = shop_account(session, caller)
    total = session.scalar(select(func.count()).where(Booth.shop_id == shop.id)) or 0
    booths = session.scalars(
        select(Booth).where(Booth.shop_id == shop.id).order_by(Booth.id).offset(offset).limit(limit)
    ).all()
    return booth_views(session, list(booths)), int(total)


def booth_views(session: Session, booths: list[Booth]) -> list[BoothView]:
    """Each booth with its unpaid session and its live call: three queries a page."""
    if not booths:
        return []
    ids = [b.id for b in booths]
    sessions = {
        s.booth_id: s
        for s in session.scalars(
            select(BoothSession).where(
                BoothSession.booth_id.in_(ids), BoothSession.status != "paid"
            )
        )
    }
    calls = _live_calls(session, booths)
    views = []
    for b in booths:
        current, call = sessions.get(b.id), calls.get(b.sip_peer)
        views.append(BoothView(b, _state(b, current, call), current, call))
    return views


def _state(booth: Booth, current: BoothSession | None, call: LiveBoothCall | None) -> str:
    if booth.locked:
        return "locked"
    if current is None:
        return "free"
    if current.status == "to_pay":
        return "to_pay"
    return "in_call" if call is not None else "open"


def _live_calls(session: Session, booths: list[Booth]) -> dict[str, LiveBoothCall]:
    """The newest live call of each booth's peer, from the rows the AMI listener keeps
    (fresh ones only: a row nobody refreshes is a call that is gone)."""
    fresh = datetime.now(UTC) - timedelta(seconds=LIVE_CALL_STALE_AFTER_S)
    peers = {b.sip_peer for b in booths}
    shops = {b.shop_id for b in booths}
    rows = session.scalars(
        select(LiveCall)
        .where(LiveCall.account_id.in_(shops), LiveCall.seen_at >= fresh)
        .order_by(LiveCall.started_at)
    ).all()
    found: dict[str, LiveBoothCall] = {}
    for row in rows:
        peer = peer_of(row.channel)
        if peer in peers:
            found[peer] = LiveBoothCall(
                row.uniqueid, row.number, row.state, row.started_at, row.answered_at
            )
    return found


def booth_gate(
    session: Session, account: Account | None, name: str
) -> tuple[Account | None, tuple[str, str] | None]:
    """Authorize's call-shop step. A booth's SIP peer stands for its shop; a call of a
    shop must come from one of its booths, and the booth must have an open session
    and not be locked. Answers (the account, None) or (the account, (code, detail))."""
    if account is not None and account.kind != "callshop":
        return account, None  # an ordinary call: no query (AddBooth keeps names apart)
    peer = name.strip()
    booth = session.scalars(select(Booth).where(Booth.sip_peer == peer)).first() if peer else None
    if booth is not None:
        account = session.get(Account, booth.shop_id)
    elif account is None or account.kind != "callshop":
        return account, None
    else:
        return account, (BOOTH_REQUIRED, "a call shop's calls must name the booth's SIP peer")
    if booth.locked:
        return account, (BOOTH_LOCKED, f"booth {booth.name} is locked")
    open_session = session.scalar(
        select(BoothSession.id).where(
            BoothSession.booth_id == booth.id, BoothSession.status == "open"
        )
    )
    if open_session is None:
        return account, (BOOTH_LOCKED, f"booth {booth.name} has no open session")
    return account, None
