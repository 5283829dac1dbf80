"""Asterisk `Event: Cdr` (cdr_manager) -> `CdrRecord`. Pure: no I/O, no clock, no logging.

Works on any mapping: a plain dict in tests, a panoramisk `Message` on the wire. Header
names are matched case-insensitively (panoramisk does so too, a plain dict does not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, cast

from services.cdr.commands import CdrRecord, record_of

# A Cdr message's fields: lower-cased header name -> (header as sent, value). What
# ami_listener/wire.cdr_fields reads off the stream and cdr_from_fields reads from.
Fields = dict[str, tuple[str, str]]

ASTERISK_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The same, checked before datetime.fromisoformat (a fifth of strptime's cost, and three
# times per CDR), which alone would also take offsets, a "T" or fractions.
_ASTERISK_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

# Times already parsed: (text, zone, fold) -> aware UTC. A CDR's answer and end are
# often another CDR's start (times are whole seconds; at 2,000 CDRs/s most seconds of
# the last hour are somebody's start), and a parse costs ~4 us, most of it
# `replace(tzinfo=)` and the zone's offset, against ~0.3 us for a look-up. Parsing is a
# pure function of the key and datetimes are immutable, so a hit is the parse's own
# answer; the memo is emptied when full, so it holds at most _MEMO_SIZE times.
_MEMO_SIZE = 8192
_parsed: dict[tuple[str, tzinfo, int], datetime] = {}

# cdr_manager's fixed text fields and the two `[mappings]` the contract names (lower case).
_TEXT_FIELDS = frozenset(
    {
        "accountcode",
        "source",
        "destination",
        "destinationcontext",
        "callerid",
        "channel",
        "destinationchannel",
        "lastapplication",
        "lastdata",
        "amaflags",
        "userfield",
        "linkedid",
        "peeraccount",
    }
)
# Parsed one by one in cdr_from_message.
_TYPED_FIELDS = frozenset(
    {
        "uniqueid",
        "sequence",
        "starttime",
        "answertime",
        "endtime",
        "duration",
        "billableseconds",
        "disposition",
    }
)
# The AMI envelope, not CDR data: Asterisk adds Timestamp (timestampevents=yes),
# SequenceNumber (manager debug) and SystemName (asterisk.conf systemname) to every event;
# panoramisk's Message carries a `content` key of its own.
_ENVELOPE = frozenset(
    {"event", "privilege", "timestamp", "sequencenumber", "systemname", "actionid", "content"}
)
_KNOWN = _TEXT_FIELDS | _TYPED_FIELDS | _ENVELOPE  # not `extra`


def parse_asterisk_time(text: str, tz: tzinfo, *, fold: int = 0) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` in the Asterisk host's local time zone `tz` -> aware UTC.

    Asterisk writes no offset, so a wall-clock time repeated when DST ends is ambiguous:
    `fold=0` takes its first occurrence, `fold=1` the second (see `zoneinfo`).
    """
    key = (text.strip(), tz, fold)
    value = _parsed.get(key)
    if value is None:
        value = _parse(key[0], text, tz, fold)
        if len(_parsed) >= _MEMO_SIZE:
            _parsed.clear()
        _parsed[key] = value
    return value


def _parse(stripped: str, text: str, tz: tzinfo, fold: int) -> datetime:
    try:
        if not _ASTERISK_TIME.fullmatch(stripped):
            raise ValueError
        local = datetime.fromisoformat(stripped)  # still refuses 2026-02-30
    except ValueError:
        raise ValueError(f"bad Asterisk time {text!r}: expected YYYY-MM-DD HH:MM:SS") from None
    return local.replace(tzinfo=tz, fold=fold).astimezone(UTC)


def cdr_from_message(msg: Mapping[str, str], tz: tzinfo) -> CdrRecord:
    """Translate one `Event: Cdr` message; raise ValueError if it can't be billed from.

    Empty or missing text fields become "" (panoramisk 1.4 drops an empty field on the
    last line of an event), an empty AnswerTime None, an empty Sequence None. Fields
    beyond the standard ones (cdr_manager `[mappings]` such as Carrier, Rate) go to
    `extra` when they are not empty, so a record does not depend on which field came last.
    """
    return cdr_from_fields(_by_lower_name(msg), tz)


def cdr_from_fields(fields: Mapping[str, tuple[str, str]], tz: tzinfo) -> CdrRecord:
    """`cdr_from_message` on the fields of a message already cut: lower-cased header
    name -> (header as sent, value) (ami_listener/wire.cdr_fields reads them off the
    stream)."""
    event = fields.get("event")
    if event is not None and event[1].lower() != "cdr":
        raise ValueError(f"not a Cdr event: Event: {event[1]!r}")
    uniqueid = _text(fields, "uniqueid").strip()
    if not uniqueid:
        raise ValueError("Cdr event without UniqueID")
    try:
        return _build(fields, uniqueid, tz)
    except ValueError as exc:
        raise ValueError(f"Cdr event UniqueID={uniqueid}: {exc}") from None


def _build(fields: Mapping[str, tuple[str, str]], uniqueid: str, tz: tzinfo) -> CdrRecord:
    start = parse_asterisk_time(_required(fields, "starttime"), tz)
    get = fields.get  # the text fields read inline: a call of _text each was ~3 us a CDR
    answer_text = get("answertime", _ABSENT)[1].strip()
    # record_of, not CdrRecord(...): a frozen dataclass's __init__ sets its 23 fields
    # one object.__setattr__ at a time, ~8 us, a third of this translation.
    return record_of(
        uniqueid=uniqueid,
        sequence=_optional_int(fields, "sequence"),
        accountcode=get("accountcode", _ABSENT)[1],
        src=get("source", _ABSENT)[1],
        dst=get("destination", _ABSENT)[1],
        dcontext=get("destinationcontext", _ABSENT)[1],
        callerid=get("callerid", _ABSENT)[1],
        channel=get("channel", _ABSENT)[1],
        dstchannel=get("destinationchannel", _ABSENT)[1],
        lastapp=get("lastapplication", _ABSENT)[1],
        lastdata=get("lastdata", _ABSENT)[1],
        start=start,
        answer=_parse_not_before(answer_text, tz, start) if answer_text else None,
        end=_parse_not_before(_required(fields, "endtime"), tz, start),
        duration=_count(fields, "duration"),
        billsec=_count(fields, "billableseconds"),
        disposition=_required(fields, "disposition"),
        amaflags=get("amaflags", _ABSENT)[1],
        userfield=get("userfield", _ABSENT)[1],
        linkedid=get("linkedid", _ABSENT)[1],
        peeraccount=get("peeraccount", _ABSENT)[1],
        extra=_extra(fields),
        source="ami",
    )


def _by_lower_name(msg: Mapping[str, object]) -> Fields:
    """lower-cased header -> (header as sent, value as text)."""
    store = getattr(msg, "_store", None)
    if isinstance(store, dict):
        # panoramisk's CaseInsensitiveDict keeps exactly this (lower-cased name -> (name
        # as sent, value)) in `_store`: copied as it is, only a value that is not text
        # fixed up. Its Mapping methods cost a third of parsing an event, and a loop that
        # lower-cased and re-packed every header again a tenth of the listener's CPU.
        fields = cast(dict[str, tuple[str, Any]], dict(store))
        for name, (key, value) in fields.items():
            if value.__class__ is not str:
                fields[name] = (key, _as_text(value))
        return cast(Fields, fields)
    by_name: Fields = {}
    for key, value in msg.items():
        by_name.setdefault(key.lower(), (key, _as_text(value)))
    return by_name


def _as_text(value: object) -> str:
    # panoramisk turns a header sent twice into a list: the first one is the standard
    # field, a later one a `[mappings]` label clashing with it.
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


_ABSENT = ("", "")  # a field not sent reads as ""


def _text(fields: Mapping[str, tuple[str, str]], name: str) -> str:
    return fields.get(name, _ABSENT)[1]


def _required(fields: Mapping[str, tuple[str, str]], name: str) -> str:
    value = _text(fields, name).strip()
    if not value:
        raise ValueError(f"{_label(name)} is missing or empty")
    return value


def _count(fields: Mapping[str, tuple[str, str]], name: str) -> int:
    """A whole number of seconds, >= 0."""
    text = _required(fields, name)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{_label(name)} {text!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{_label(name)} {value} is negative")
    return value


def _optional_int(fields: Mapping[str, tuple[str, str]], name: str) -> int | None:
    if not _text(fields, name).strip():
        return None
    return _count(fields, name)


def _parse_not_before(text: str, tz: tzinfo, earliest: datetime) -> datetime:
    """Parse a time of the call that can't be earlier than its start.

    Across the DST fall-back hour the first occurrence of an ambiguous time can put the
    end before the start: the second occurrence is then the right one.
    """
    value = parse_asterisk_time(text, tz)
    if value < earliest:
        later = parse_asterisk_time(text, tz, fold=1)
        if later >= earliest:
            return later
    return value


def _extra(fields: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    # Most CDRs carry no field beyond the known ones: one set difference in C finds that,
    # instead of a test per field in Python.
    if not fields.keys() - _KNOWN:
        return {}
    return {key: value for name, (key, value) in fields.items() if name not in _KNOWN and value}


def _label(name: str) -> str:
    """The header as cdr_manager spells it, for error messages."""
    labels = {
        "starttime": "StartTime",
        "endtime": "EndTime",
        "duration": "Duration",
        "billableseconds": "BillableSeconds",
        "disposition": "Disposition",
        "sequence": "Sequence",
    }
    return labels.get(name, name)
