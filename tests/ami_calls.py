"""Synthetic AMI sessions of whole calls (Newchannel, DialBegin, DialEnd ANSWER, Hangup,
Cdr), in the captured sessions' format, for the credit-control tests and benchmarks.

    calls = [Call(n, "acct1001", "34911234567", billsec=40) for n in range(20)]
    write_calls(path, calls, parts=("up", "end"))   # "up": until the answer; "end": the rest

A call's channel is `PJSIP/phone-<n>` and it dials `PJSIP/<number>@carrier1` (trunk
carrier1 of the demo), or a Local channel (`local=True`): what the issue's Asterisk used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.ami_synth import BANNER

FMT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Call:
    n: int
    accountcode: str
    number: str
    billsec: int
    start: datetime = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    ring: int = 1
    local: bool = False

    @property
    def uniqueid(self) -> str:
        return f"1795400000.{self.n}"

    @property
    def channel(self) -> str:
        return f"PJSIP/phone-{self.n:08x}"

    @property
    def dstchannel(self) -> str:
        if self.local:
            return f"Local/{self.number}@pstn-sim-{self.n:08x};1"
        return f"PJSIP/carrier1-{self.n:08x}"

    @property
    def dialstring(self) -> str:
        """What Dial() was given, after the technology (DialBegin's DialString)."""
        return f"{self.number}@carrier1"

    @property
    def answer(self) -> datetime:
        return self.start + timedelta(seconds=self.ring)

    @property
    def end(self) -> datetime:
        return self.answer + timedelta(seconds=self.billsec)


def _event(name: str, at: datetime, fields: dict[str, str]) -> str:
    # timestampevents = yes: when it happened, not when the listener reads it
    stamp = f"Timestamp: {at.timestamp():.6f}"
    lines = [f"Event: {name}", "Privilege: call,all", stamp]
    lines += [f"{k}: {v}" for k, v in fields.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


def up_events(call: Call) -> list[str]:
    common = {"Uniqueid": call.uniqueid, "Linkedid": call.uniqueid}
    return [
        _event(
            "Newchannel",
            call.start,
            {"Channel": call.channel, "AccountCode": call.accountcode, "Exten": call.number}
            | common,
        ),
        _event(
            "DialBegin",
            call.start,
            {
                "Channel": call.channel,
                "AccountCode": call.accountcode,
                "Exten": call.number,
                "DestChannel": call.dstchannel,
                "DialString": call.dialstring,
            }
            | common,
        ),
        _event("DialEnd", call.answer, {"Channel": call.channel, "DialStatus": "ANSWER"} | common),
    ]


def end_events(call: Call, sequence: int) -> list[str]:
    common = {"Uniqueid": call.uniqueid, "Linkedid": call.uniqueid}
    hangup = _event("Hangup", call.end, {"Channel": call.channel, "Cause": "16"} | common)
    return [hangup, cdr_event(call, sequence)]


def cdr_fields(call: Call) -> list[tuple[str, str]]:
    """The fixed Cdr fields, in cdr_manager's (and Master.csv's) order."""
    return [
        ("AccountCode", call.accountcode),
        ("Source", "100"),
        ("Destination", call.number),
        ("DestinationContext", "outbound"),
        ("CallerID", '"Burst" <100>'),
        ("Channel", call.channel),
        ("DestinationChannel", call.dstchannel),
        ("LastApplication", "Dial"),
        ("LastData", f"PJSIP/{call.dialstring},30"),
        ("StartTime", f"{call.start:{FMT}}"),
        ("AnswerTime", f"{call.answer:{FMT}}"),
        ("EndTime", f"{call.end:{FMT}}"),
        ("Duration", str(call.ring + call.billsec)),
        ("BillableSeconds", str(call.billsec)),
        ("Disposition", "ANSWERED"),
        ("AMAFlags", "DOCUMENTATION"),
        ("UniqueID", call.uniqueid),
        ("UserField", ""),
    ]


def cdr_event(call: Call, sequence: int) -> str:
    lines = ["Event: Cdr", "Privilege: cdr,all"]
    lines += [f"{k}: {v}" for k, v in cdr_fields(call)]
    lines += [f"LinkedID: {call.uniqueid}", f"PeerAccount: {call.accountcode}"]
    lines += [f"Sequence: {sequence}"]
    return "\r\n".join(lines) + "\r\n\r\n"


def write_calls(path: Path, calls: Sequence[Call], parts: Iterable[str] = ("up", "end")) -> Path:
    """All the calls' events: every call up first (a burst), then every end."""
    wanted = set(parts)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(BANNER)
        if "up" in wanted:
            for call in calls:
                f.write("".join(up_events(call)))
        if "end" in wanted:
            for call in calls:
                f.write("".join(end_events(call, 1000 + call.n)))
    return path


def master_csv(calls: Iterable[Call]) -> str:
    """The calls as Asterisk's cdr_csv writes them (loguniqueid and loguserfield on)."""
    rows = []
    for call in calls:
        values = [v for _, v in cdr_fields(call)]
        quoted = [
            v if k in ("Duration", "BillableSeconds") else '"' + v.replace('"', '""') + '"'
            for (k, _), v in zip(cdr_fields(call), values, strict=True)
        ]
        rows.append(",".join(quoted))
    return "\n".join(rows) + "\n"
