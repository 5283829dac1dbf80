"""What the AMI events of a callback's channel (its UniqueID is the callback's
`channel_id`) do to it (docs/onnet_callback.md, "Web callback"):

- OriginateResponse `Success`: leg A answered; the callback is `connected` and the
  dialplan now dials leg B.
- OriginateResponse `Failure` (A busy, not answering, unreachable): `failed`, both legs'
  reservations released; nothing is charged.
- Hangup of the channel: a connected callback is `completed`, and leg A's CDR is made
  here and stored by the CDR path (services/cdr/usecases.store_cdr_safely): Asterisk's
  own CDR of that channel is the bridged call to B (its destination is B), so A's time
  on the line (answer to hang-up) has no CDR of its own. It is keyed `<channel>.a`
  (sequence 0): stored once however often the Hangup is replayed, rated at the
  account's sheet for A, settling A's reservation, with the trunk of A's dial string.
  A Hangup before any OriginateResponse fails the callback.

Leg B is billed by Asterisk's CDR of the channel like any outbound call (its
reservation carries the channel's UniqueID). Spyne-free.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select

from db.callback_schema import Callback
from db.schema import Account
from db.session import UnitOfWork
from services.callback.requests import CONTEXT, fail
from services.cdr.commands import CdrRecord
from services.cdr.usecases import store_cdr_safely

PREFIX = "siptar-cb-"  # every callback channel's UniqueID starts so


def originate_result(
    uow: UnitOfWork, channel_id: str, success: bool, reason: str, at: datetime
) -> None:
    row = _row(uow, channel_id)
    if row is None or row.status != "calling":
        return  # not ours, or a repeated event
    if success:
        row.status, row.answered_at = "connected", at
    else:
        fail(uow, row, f"leg A not answered (reason {reason or '?'})")
    uow.commit()


def hung_up(uow: UnitOfWork, channel_id: str, channel: str, at: datetime) -> None:
    row = _row(uow, channel_id)
    if row is None:
        return
    if row.status == "calling":
        fail(uow, row, "hung up before leg A answered")
    elif row.status == "connected":
        row.status, row.ended_at = "completed", at
        account = uow.session.get(Account, row.account_id)
        assert account is not None
        store_cdr_safely(uow, _leg_a(row, account, channel, at))
    uow.commit()


def _row(uow: UnitOfWork, channel_id: str) -> Callback | None:
    if not channel_id.startswith(PREFIX):
        return None
    return uow.session.scalars(
        select(Callback).where(Callback.channel_id == channel_id).with_for_update()
    ).first()


def _leg_a(row: Callback, account: Account, channel: str, at: datetime) -> CdrRecord:
    answered = row.answered_at or at
    billsec = max(0, math.ceil((at - answered).total_seconds()))
    return CdrRecord(
        uniqueid=f"{row.channel_id}.a",
        sequence=0,
        accountcode=account.accountcode or "",
        src=row.number_b,
        dst=row.number_a,
        dcontext=CONTEXT,
        callerid=row.number_b,
        channel=channel,
        # The channel to A is the one that went out over A's trunk.
        dstchannel=channel,
        lastapp="Originate",
        lastdata=row.dial_a,
        start=row.created_at,
        answer=answered,
        end=at,
        duration=max(0, math.ceil((at - row.created_at).total_seconds())),
        billsec=billsec,
        disposition="ANSWERED",
        linkedid=row.channel_id,
        extra={"SiptarCallback": str(row.id)},
        source="callback",
    )
