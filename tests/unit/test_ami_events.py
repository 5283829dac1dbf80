"""cdr_from_message over the Cdr events Asterisk 22 really sent (tests/fixtures/ami)."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from panoramisk.message import Message

from ami_listener.events import cdr_from_message, parse_asterisk_time
from services.cdr.commands import CdrRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
MADRID = ZoneInfo("Europe/Madrid")
SESSIONS = {
    "ami_session_raw.txt": 14,
    "ami_burst_raw.txt": 14,
    "ami_helpercdr_raw.txt": 29,
    "ami_timestamps_raw.txt": 4,
}


def cdr_blocks(name: str) -> list[str]:
    """The `Event: Cdr` messages of a captured session, as sent (CRLF, no trailing CRLF)."""
    text = (FIXTURES / name).read_bytes().decode("ascii")
    return [block for block in text.split("\r\n\r\n") if block.startswith("Event: Cdr\r\n")]


def as_dict(block: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in block.split("\r\n"))


def cdr_messages(name: str) -> list[dict[str, str]]:
    return [as_dict(block) for block in cdr_blocks(name)]


def first_session_message() -> dict[str, str]:
    return cdr_messages("ami_session_raw.txt")[0]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class TestFieldMapping:
    def test_maps_every_field_of_an_answered_call(self) -> None:
        record = cdr_from_message(first_session_message(), UTC)

        assert record == CdrRecord(
            uniqueid="1795316003.67",
            sequence=57,
            accountcode="acct1001",
            src="100",
            dst="34911234567",
            dcontext="outbound",
            callerid='"Alice" <100>',
            channel="Local/34911234567@outbound-0000001a;2",
            dstchannel="Local/34911234567@pstn-sim-0000001b;1",
            lastapp="Dial",
            lastdata="Local/34911234567@pstn-sim,30",
            start=utc("2026-11-22 02:53:23"),
            answer=utc("2026-11-22 02:53:24"),
            end=utc("2026-11-22 02:53:28"),
            duration=4,
            billsec=3,
            disposition="ANSWERED",
            amaflags="DOCUMENTATION",
            userfield="route=default",
            linkedid="1795316003.66",
            peeraccount="acct1001",
            extra={"Carrier": "sim-carrier-1", "Rate": "0.0120"},
            source="ami",
        )
        assert record.answered

    def test_keeps_a_userfield_with_separators_verbatim(self) -> None:
        record = cdr_from_message(cdr_messages("ami_session_raw.txt")[2], UTC)

        assert record.userfield == "campaign=spring;agent=42"

    def test_leaves_the_ami_envelope_out_of_extra(self) -> None:
        msg = first_session_message() | {
            "Timestamp": "1795316160.440511",
            "ActionID": "x",
            "SystemName": "pbx1",
            "SequenceNumber": "12",
            "content": "",
        }

        assert cdr_from_message(msg, UTC).extra == {"Carrier": "sim-carrier-1", "Rate": "0.0120"}

    def test_ignores_the_timestamp_of_timestampevents(self) -> None:
        msg = cdr_messages("ami_timestamps_raw.txt")[0]
        assert "Timestamp" in msg

        assert "Timestamp" not in cdr_from_message(msg, UTC).extra

    def test_omits_empty_extra_fields(self) -> None:
        # Rate is empty here; panoramisk would drop it anyway, being the last line.
        msg = cdr_messages("ami_session_raw.txt")[3]
        assert msg["Rate"] == ""

        assert cdr_from_message(msg, UTC).extra == {"Carrier": "sim-carrier-1"}

    def test_turns_missing_text_fields_into_empty_strings(self) -> None:
        msg = first_session_message()
        for key in ("AccountCode", "LastData", "UserField", "LinkedID", "PeerAccount"):
            del msg[key]

        record = cdr_from_message(msg, UTC)

        assert (record.accountcode, record.lastdata, record.userfield) == ("", "", "")
        assert (record.linkedid, record.peeraccount) == ("", "")

    def test_matches_header_names_whatever_their_case(self) -> None:
        msg = first_session_message()
        lower = {key.lower(): value for key, value in msg.items()}

        record = cdr_from_message(lower, UTC)

        # extra keeps the headers as they were sent
        assert record.extra == {"carrier": "sim-carrier-1", "rate": "0.0120"}
        assert replace(record, extra={}) == replace(cdr_from_message(msg, UTC), extra={})

    def test_takes_the_first_of_a_header_sent_twice(self) -> None:
        # panoramisk makes a list of a repeated header, e.g. a [mappings] label clashing
        # with a standard field.
        msg: dict[str, object] = dict(first_session_message())
        msg["AccountCode"] = ["acct1001", "from-mapping"]

        assert cdr_from_message(msg, UTC).accountcode == "acct1001"  # type: ignore[arg-type]

    def test_a_panoramisk_message_takes_the_first_of_a_header_sent_twice(self) -> None:
        """The same through panoramisk's own message (its `_store`, read directly)."""
        block = cdr_blocks("ami_session_raw.txt")[0]
        message = Message.from_line(block.strip() + "\r\nAccountCode: from-mapping")

        record = cdr_from_message(message, UTC)

        assert record == cdr_from_message(as_dict(block), UTC)
        assert record.accountcode == as_dict(block)["AccountCode"] != ""

    @pytest.mark.parametrize("name", ["ami_session_raw.txt", "ami_timestamps_raw.txt"])
    def test_a_panoramisk_message_gives_the_same_record_as_the_raw_fields(self, name: str) -> None:
        # panoramisk strips each message, so an empty last field (here Rate) disappears.
        for block in cdr_blocks(name):
            message = Message.from_line(block.strip())

            assert cdr_from_message(message, UTC) == cdr_from_message(as_dict(block), UTC)


class TestCapturedSessions:
    @pytest.mark.parametrize(("name", "count"), SESSIONS.items())
    def test_every_cdr_of_the_session_parses(self, name: str, count: int) -> None:
        records = [cdr_from_message(msg, UTC) for msg in cdr_messages(name)]

        assert len(records) == count
        assert all(r.source == "ami" and r.end >= r.start for r in records)

    def test_sees_all_four_dispositions(self) -> None:
        records = [cdr_from_message(m, UTC) for m in cdr_messages("ami_session_raw.txt")]

        dispositions = {r.disposition for r in records}
        assert dispositions == {"ANSWERED", "NO ANSWER", "BUSY", "CONGESTION"}

    @pytest.mark.parametrize(
        ("index", "disposition", "duration"),
        [(3, "BUSY", 0), (4, "NO ANSWER", 4), (5, "CONGESTION", 0), (6, "NO ANSWER", 2)],
    )
    def test_an_unanswered_call_has_no_answer_time_and_no_billable_seconds(
        self, index: int, disposition: str, duration: int
    ) -> None:
        msg = cdr_messages("ami_session_raw.txt")[index]
        assert msg["AnswerTime"] == ""

        record = cdr_from_message(msg, UTC)

        assert (record.disposition, record.duration, record.billsec) == (disposition, duration, 0)
        assert record.answer is None
        assert not record.answered

    def test_a_ring_group_gives_two_records_with_one_uniqueid(self) -> None:
        records = [cdr_from_message(m, UTC) for m in cdr_messages("ami_session_raw.txt")]

        ring = [r for r in records if r.linkedid == "1795316046.110"]

        assert [(r.uniqueid, r.sequence, r.disposition) for r in ring] == [
            ("1795316046.111", 96, "ANSWERED"),
            ("1795316046.111", 101, "NO ANSWER"),
        ]

    def test_agrees_with_asterisks_own_master_csv(self) -> None:
        # cdr_csv wrote the session, burst and helpercdr runs in the same order.
        records = [
            cdr_from_message(msg, UTC)
            for name in ("ami_session_raw.txt", "ami_burst_raw.txt", "ami_helpercdr_raw.txt")
            for msg in cdr_messages(name)
        ]
        with (FIXTURES / "Master.csv").open(newline="") as f:
            rows = list(csv.reader(f))

        assert len(rows) == len(records) == 57
        for row, r in zip(rows, records, strict=True):
            answer = "" if r.answer is None else f"{r.answer:%Y-%m-%d %H:%M:%S}"
            assert row == [
                r.accountcode, r.src, r.dst, r.dcontext, r.callerid, r.channel, r.dstchannel,
                r.lastapp, r.lastdata, f"{r.start:%Y-%m-%d %H:%M:%S}", answer,
                f"{r.end:%Y-%m-%d %H:%M:%S}", str(r.duration), str(r.billsec), r.disposition,
                r.amaflags, r.uniqueid, r.userfield,
            ]  # fmt: skip


class TestTimes:
    def test_parses_local_time_into_aware_utc(self) -> None:
        value = parse_asterisk_time("2026-11-22 02:53:23", MADRID)

        assert value == utc("2026-11-22 01:53:23")
        assert value.tzinfo is UTC

    def test_follows_summer_time(self) -> None:
        assert parse_asterisk_time("2026-07-01 12:00:00", MADRID) == utc("2026-07-01 10:00:00")

    def test_accepts_a_fixed_offset(self) -> None:
        tz = timezone(timedelta(hours=-5))

        assert parse_asterisk_time("2026-11-22 02:53:23", tz) == utc("2026-11-22 07:53:23")

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "2026-11-22",
            "2026-11-22T02:53:23",
            "2026-11-22 25:00:00",
            "2026-11-22 02:53:23+02:00",
            "2026-11-22 02:53:23.5",
            "2026-02-30 02:53:23",
            "yesterday",
        ],
    )
    def test_rejects_anything_else(self, text: str) -> None:
        with pytest.raises(ValueError, match="bad Asterisk time"):
            parse_asterisk_time(text, UTC)

    def test_converts_every_time_of_a_cdr_from_the_hosts_zone(self) -> None:
        record = cdr_from_message(first_session_message(), MADRID)

        assert record.start == utc("2026-11-22 01:53:23")
        assert record.answer == utc("2026-11-22 01:53:24")
        assert record.end == utc("2026-11-22 01:53:28")

    def test_a_call_across_the_end_of_summer_time_ends_after_it_starts(self) -> None:
        # 2026-10-25 in Madrid: 03:00 CEST -> 02:00 CET, so 02:00-02:59 happens twice.
        msg = first_session_message() | {
            "StartTime": "2026-10-25 02:59:50",
            "AnswerTime": "2026-10-25 02:59:55",
            "EndTime": "2026-10-25 02:00:10",
            "Duration": "20",
            "BillableSeconds": "15",
        }

        record = cdr_from_message(msg, MADRID)

        assert record.start == utc("2026-10-25 00:59:50")
        assert record.answer == utc("2026-10-25 00:59:55")
        assert record.end == utc("2026-10-25 01:00:10")


class TestSequence:
    def test_is_an_int(self) -> None:
        assert cdr_from_message(first_session_message(), UTC).sequence == 57

    @pytest.mark.parametrize("value", [None, "", " "])
    def test_is_none_when_missing_or_empty(self, value: str | None) -> None:
        msg = first_session_message()
        if value is None:
            del msg["Sequence"]
        else:
            msg["Sequence"] = value

        assert cdr_from_message(msg, UTC).sequence is None


class TestRejects:
    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"UniqueID": None}, "without UniqueID"),
            ({"UniqueID": ""}, "without UniqueID"),
            ({"Event": "Hangup"}, "not a Cdr event"),
            ({"StartTime": "2026-11-22 02:61:23"}, "UniqueID=1795316003.67: bad Asterisk time"),
            ({"StartTime": None}, "StartTime is missing"),
            ({"AnswerTime": "soon"}, "bad Asterisk time 'soon'"),
            ({"EndTime": ""}, "EndTime is missing"),
            ({"Duration": "four"}, "Duration 'four' is not a whole number"),
            ({"BillableSeconds": None}, "BillableSeconds is missing"),
            ({"BillableSeconds": "-3"}, "BillableSeconds -3 is negative"),
            ({"Disposition": ""}, "Disposition is missing"),
            ({"Sequence": "57a"}, "Sequence '57a' is not a whole number"),
        ],
    )
    def test_an_event_that_cannot_be_billed(
        self, changes: dict[str, str | None], error: str
    ) -> None:
        msg = first_session_message()
        for key, value in changes.items():
            if value is None:
                del msg[key]
            else:
                msg[key] = value

        with pytest.raises(ValueError, match=error):
            cdr_from_message(msg, UTC)
