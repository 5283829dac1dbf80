"""Asterisk's answer to `Action: CoreShowChannels`, read for the live calls' reconcile
(ami_listener/live.py): the Uniqueids of the channels up now, or why there are none."""

from __future__ import annotations

from typing import Any


class ReconcileError(RuntimeError):
    """Asterisk did not list its channels (refused, or an incomplete list)."""


def listed_uniqueids(reply: Any) -> set[str]:
    """The Uniqueids of a CoreShowChannels reply (panoramisk: the list of the response
    and its events); ReconcileError unless it is a complete list."""
    messages = reply if isinstance(reply, list) else [reply]
    first = messages[0] if messages else None
    if first is None or str(first.get("Response", "")).lower() != "success":
        message = first.get("Message", "") if first is not None else "no reply"
        raise ReconcileError(f"Asterisk answered: {message or 'error'}")
    events = [str(m.get("Event", "")).lower() for m in messages]
    if "coreshowchannelscomplete" not in events:
        raise ReconcileError("the channel list did not end with CoreShowChannelsComplete")
    return {
        str(m.get("Uniqueid", ""))
        for m, name in zip(messages, events, strict=True)
        if name == "coreshowchannel"
    }
