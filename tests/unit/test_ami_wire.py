"""ami_listener/wire.py: the messages cut from the stream, and a Cdr event's fields read
off its text give the record panoramisk's Message gave, over the Cdr events Asterisk 22
really sent (tests/fixtures/ami). Over TCP, cut into reads of every size, the listener's
own tests (tests/integration/test_ami_listener.py) run through it."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from panoramisk.message import Message

from ami_listener.events import cdr_from_fields, cdr_from_message
from ami_listener.wire import SEPARATOR, cdr_fields, split_messages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
SESSIONS = [
    "ami_session_raw.txt",
    "ami_burst_raw.txt",
    "ami_helpercdr_raw.txt",
    "ami_timestamps_raw.txt",
]


def messages(name: str) -> list[str]:
    text = (FIXTURES / name).read_bytes().decode("ascii")
    whole, _rest = split_messages("", text)
    return whole


@pytest.mark.parametrize("name", SESSIONS)
def test_every_cdr_gives_the_record_panoramisk_gave_and_nothing_else_is_a_cdr(
    name: str,
) -> None:
    cdrs = 0
    for message in messages(name):
        fields = cdr_fields(message)
        parsed = Message.from_line(message.strip())
        is_cdr = parsed is not None and parsed.get("Event") == "Cdr"
        assert (fields is not None) == is_cdr, message
        if fields is not None:
            cdrs += 1
            assert cdr_from_fields(fields, UTC) == cdr_from_message(parsed, UTC)
    assert cdrs > 0


def test_a_header_sent_twice_keeps_the_first_and_a_line_without_value_is_dropped() -> None:
    block = next(m for m in messages("ami_session_raw.txt") if m.startswith("Event: Cdr\r\n"))
    fields = cdr_fields(block + "\r\nAccountCode: from-mapping\r\nZone:\r\nTariff: 0.0120  ")
    assert fields is not None
    first = dict(line.split(": ", 1) for line in block.split("\r\n"))["AccountCode"]
    assert fields["accountcode"] == ("AccountCode", first)
    assert "zone" not in fields  # as panoramisk: no ": " on the line
    assert fields["tariff"] == ("Tariff", "0.0120")  # the message is stripped, as panoramisk does
    record = cdr_from_fields(fields, UTC)
    assert record.extra["Tariff"] == "0.0120" and "Zone" not in record.extra


def test_other_events_and_responses_are_not_cdrs() -> None:
    assert cdr_fields("Response: Success\r\nMessage: Authentication accepted") is None
    assert cdr_fields("Event: Hangup\r\nUniqueid: 1.1") is None
    assert cdr_fields("Event: CdrSomething\r\nUniqueid: 1.1") is None
    assert cdr_fields("Event: Cdr") is None  # no field at all: panoramisk's to refuse


@pytest.mark.parametrize("size", [1, 7, 97, 997])
def test_reads_of_any_size_give_the_same_messages(size: int) -> None:
    text = (FIXTURES / "ami_session_raw.txt").read_bytes().decode("ascii")
    got: list[str] = []
    pending = ""
    for start in range(0, len(text), size):
        whole, pending = split_messages(pending, text[start : start + size])
        got += whole
    assert got == messages("ami_session_raw.txt")
    assert SEPARATOR not in pending
