"""Synthetic AMI sessions: many `Event: Cdr` messages for the demo accounts, in the
captured sessions' exact format, written as a raw file that AmiReplayServer replays.

Used by the fault-injection tests and bench/bench_ami.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

BANNER = "Asterisk Call Manager/11.0.0\r\n"
ACCOUNTS = ("acct1001", "acct1002", "acct1003")
NUMBERS = ("34911234567", "442071234567", "12125551234", "447700900123", "4930123456")
DISPOSITIONS = ("ANSWERED", "ANSWERED", "ANSWERED", "NO ANSWER", "BUSY")


def cdr_event(n: int, start: datetime) -> str:
    account = ACCOUNTS[n % len(ACCOUNTS)]
    number = NUMBERS[n % len(NUMBERS)]
    disposition = DISPOSITIONS[n % len(DISPOSITIONS)]
    answered = disposition == "ANSWERED"
    billsec = 1 + n % 300 if answered else 0
    ring = 1 + n % 5
    begin = start + timedelta(seconds=n)
    answer = begin + timedelta(seconds=ring) if answered else None
    end = begin + timedelta(seconds=ring + billsec)
    fmt = "%Y-%m-%d %H:%M:%S"
    uniqueid = f"1800000000.{n}"
    lines = [
        "Event: Cdr",
        "Privilege: cdr,all",
        f"AccountCode: {account}",
        "Source: 100",
        f"Destination: {number}",
        "DestinationContext: outbound",
        'CallerID: "Synth" <100>',
        f"Channel: PJSIP/phone-{n:08x}",
        f"DestinationChannel: PJSIP/carrier1-{n:08x}",
        "LastApplication: Dial",
        f"LastData: PJSIP/{number}@carrier1,30",
        f"StartTime: {begin:{fmt}}",
        f"AnswerTime: {answer:{fmt}}" if answer else "AnswerTime: ",
        f"EndTime: {end:{fmt}}",
        f"Duration: {ring + billsec}",
        f"BillableSeconds: {billsec}",
        f"Disposition: {disposition}",
        "AMAFlags: DOCUMENTATION",
        f"UniqueID: {uniqueid}",
        "UserField: ",
        f"LinkedID: {uniqueid}",
        f"PeerAccount: {account}",
        f"Sequence: {n}",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def write_session(path: Path, count: int, start: datetime | None = None) -> Path:
    """A raw session file of `count` Cdr events (UniqueIDs 1800000000.0 ...)."""
    start = start or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(BANNER)
        for n in range(count):
            f.write(cdr_event(n, start))
    return path
