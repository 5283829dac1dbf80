"""A CDR's times and record, built the cheap way (ami_listener/events.py: a memo of parsed
times, `record_of` in place of the frozen dataclass's __init__), are exactly what the
plain way gives: checked against a reference parser written another way (strptime and a
round trip of the text), on the captured Asterisk sessions (tests/fixtures/ami) and on
texts hypothesis makes up, in zones with and without summer time, both folds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami_listener import events
from ami_listener.events import cdr_from_fields, parse_asterisk_time
from ami_listener.wire import cdr_fields, split_messages
from services.cdr.commands import CdrRecord, record_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
SESSIONS = sorted(p.name for p in FIXTURES.glob("ami_*_raw.txt"))  # the captured streams
ZONES: list[tzinfo] = [
    UTC,
    ZoneInfo("UTC"),
    ZoneInfo("Europe/Madrid"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # summer time of half an hour
    timezone(timedelta(hours=-5)),
]


def reference(text: str, tz: tzinfo, fold: int = 0) -> datetime | None:
    """The contract, parsed another way: exactly `YYYY-MM-DD HH:MM:SS` in ASCII digits
    once stripped (strptime would also take `2026-1-1 1:1:1`, so the text must come back
    from the value unchanged), local time in `tz`, `fold` for an hour that repeats.
    None where the text is refused."""
    stripped = text.strip()
    try:
        local = datetime.strptime(stripped, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    spelled = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
    if spelled != stripped:
        return None
    return local.replace(tzinfo=tz, fold=fold).astimezone(UTC)


def parsed(text: str, tz: tzinfo, fold: int = 0) -> datetime | None:
    try:
        return parse_asterisk_time(text, tz, fold=fold)
    except ValueError:
        return None


def same(a: datetime | None, b: datetime | None) -> bool:
    """Equal, and alike in what equality does not see (zone object, fold)."""
    if a is None or b is None:
        return a is b
    return (a, a.tzinfo, a.fold, a.utcoffset()) == (b, b.tzinfo, b.fold, b.utcoffset())


def session_fields(name: str) -> list[events.Fields]:
    text = (FIXTURES / name).read_bytes().decode("ascii")
    return [f for f in map(cdr_fields, split_messages("", text)[0]) if f is not None]


def records(name: str, tz: tzinfo) -> list[CdrRecord]:
    return [cdr_from_fields(fields, tz) for fields in session_fields(name)]


def cdr_times(name: str) -> list[str]:
    keys = ("starttime", "answertime", "endtime")
    return [f[key][1] for f in session_fields(name) for key in keys if key in f]


@pytest.mark.parametrize("name", SESSIONS)
@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_the_captured_sessions_times_parse_as_the_reference_parses_them(
    name: str, tz: tzinfo
) -> None:
    times = cdr_times(name)
    assert times
    for text in times:
        for fold in (0, 1):
            want = reference(text, tz, fold)
            assert same(parsed(text, tz, fold), want), text
            assert same(parsed(text, tz, fold), want), text  # again: from the memo


@pytest.mark.parametrize("name", SESSIONS)
@pytest.mark.parametrize("tz", ZONES[1:4], ids=str)
def test_the_captured_sessions_records_are_the_constructors_records(name: str, tz: tzinfo) -> None:
    assert records(name, tz)
    for record in records(name, tz):
        values = {f.name: getattr(record, f.name) for f in dataclasses.fields(CdrRecord)}
        built = CdrRecord(**values)
        assert record == built and repr(record) == repr(built)
        assert record.source == "ami" and record.answered == built.answered
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.billsec = 0  # type: ignore[misc]


_DIGITS = st.sampled_from("0123456789")
_NOISE = st.sampled_from(["", " ", "\t", "\r\n", "\u00a0", ".5", "+02:00", "Z", "0", "x"])


@st.composite
def asterisk_texts(draw: st.DrawFn) -> str:
    """Mostly well-formed times (summer-time edges included), bent in the ways a wire
    can bend them: padding, a fraction or an offset, one character changed or dropped."""
    moment = draw(
        st.one_of(
            st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
            # the hours around summer time's ends in the zones above
            st.sampled_from(
                [
                    datetime(2026, 3, 29, 2, 30),
                    datetime(2026, 10, 25, 2, 30),
                    datetime(2026, 3, 8, 2, 30),
                    datetime(2026, 11, 1, 1, 30),
                    datetime(2026, 4, 5, 1, 45),
                    datetime(2026, 10, 4, 2, 15),
                ]
            ).map(lambda d: d + timedelta(seconds=draw(st.integers(-3600, 3600)))),
        )
    )
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    bend = draw(st.integers(0, 5))
    if bend == 1:
        text = draw(_NOISE) + text + draw(_NOISE)
    elif bend == 2:
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.one_of(_DIGITS, _NOISE)) + text[at + 1 :]
    elif bend == 3:
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + text[at + 1 :]
    elif bend == 4:
        text = text.replace(" ", draw(st.sampled_from(["T", "  ", "_"])), 1)
    return text


@settings(max_examples=600, deadline=None)
@given(text=asterisk_texts(), tz=st.sampled_from(ZONES), fold=st.sampled_from([0, 1]))
def test_any_text_parses_as_the_reference_parses_it(text: str, tz: tzinfo, fold: int) -> None:
    want = reference(text, tz, fold)
    assert same(parsed(text, tz, fold), want)
    assert same(parsed(text, tz, fold), want)  # again: from the memo
    assert same(parsed(text, tz, 1 - fold), reference(text, tz, 1 - fold))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="0123456789-: T.+Z\t", max_size=24))
def test_any_text_of_the_format_s_characters_parses_as_the_reference(text: str) -> None:
    for tz in (UTC, ZoneInfo("Europe/Madrid")):
        assert same(parsed(text, tz), reference(text, tz))


def test_the_memo_stays_bounded_and_answers_what_a_fresh_parse_answers() -> None:
    start = datetime(2026, 10, 25, 0, 0)
    texts = [f"{start + timedelta(seconds=n):%Y-%m-%d %H:%M:%S}" for n in range(10_000)]
    madrid = ZoneInfo("Europe/Madrid")
    first = [parse_asterisk_time(t, madrid) for t in texts]
    assert len(events._parsed) <= events._MEMO_SIZE
    # whatever the memo kept or dropped meanwhile, every answer is the first one
    assert [parse_asterisk_time(t, madrid) for t in reversed(texts)] == first[::-1]
    assert all(same(a, reference(t, madrid)) for a, t in zip(first, texts, strict=True))


def test_a_refused_text_is_refused_every_time_and_kept_nowhere() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="bad Asterisk time '2026-02-30 02:53:23'"):
            parse_asterisk_time("2026-02-30 02:53:23", UTC)
    assert not any(key[0] == "2026-02-30 02:53:23" for key in events._parsed)


def test_record_of_refuses_a_missing_or_unknown_field_as_the_constructor_does() -> None:
    record = records(SESSIONS[0], UTC)[0]
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(CdrRecord)}
    assert record_of(**values) == CdrRecord(**values)
    without_source = {k: v for k, v in values.items() if k != "source"}
    with pytest.raises(TypeError, match=r"missing \['source'\]"):
        record_of(**without_source)
    with pytest.raises(TypeError, match=r"unknown \['carrier'\]"):
        record_of(**values, carrier="x")
