"""iCalendar feeds are plain RFC 5545 text: CRLF lines folded at 75 octets, escaped text, UTC
times, one stable UID per session, and nothing about who attends. No database."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from communitas.programs.ical import calendar, escape_text, fold, utc

PORTLAND = ZoneInfo("America/Los_Angeles")
NOW = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)


def _event(**overrides):
    event = {
        "id": 42,
        "kind": "Preparation",
        "group": "Thursday circle",
        "location": "Room 2",
        "start": datetime.datetime(2026, 3, 5, 10, 0, tzinfo=PORTLAND),
        "end": datetime.datetime(2026, 3, 5, 16, 0, tzinfo=PORTLAND),
        "status": "planned",
    }
    event.update(overrides)
    return event


def _lines(text):
    """Unfolded content lines."""
    return text.replace("\r\n ", "").split("\r\n")


def _value(text, name):
    return next(line.split(":", 1)[1] for line in _lines(text) if line.split(":")[0].split(";")[0] == name)


def test_it_ends_every_line_with_crlf():
    text = calendar([_event()], name="Communitas", now=NOW)
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")


def test_it_folds_long_lines_at_75_octets_without_splitting_a_character():
    long = "Sala de integración Ñandutí, " * 8
    text = calendar([_event(location=long)], name="Communitas", now=NOW)
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert _value(text, "LOCATION") == escape_text(long)


def test_a_folded_line_continues_with_one_space():
    folded = fold("X" * 200)
    parts = folded.split("\r\n")
    assert [len(p) for p in parts] == [75, 75, 52]  # 75 + 74 + 51 characters
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == "X" * 200


def test_it_folds_multibyte_text_on_character_boundaries():
    folded = fold("é" * 60)  # 120 octets
    for part in folded.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
        part.encode("utf-8").decode("utf-8")  # a whole number of characters
    assert folded.replace("\r\n ", "") == "é" * 60


def test_it_leaves_a_short_line_alone():
    assert fold("SUMMARY:Preparation") == "SUMMARY:Preparation"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("line one\nline two", "line one\\nline two"),
        ("line one\r\nline two", "line one\\nline two"),
        ("bell\x07", "bell"),
        ("C:\\rooms;east,2", "C:\\\\rooms\\;east\\,2"),
    ],
)
def test_it_escapes_text(raw, escaped):
    assert escape_text(raw) == escaped


def test_it_escapes_the_summary_location_and_calendar_name():
    text = calendar([_event(group="Circle; north, west", location="Barn\nupstairs")], name="Ana, the guide", now=NOW)
    assert _value(text, "SUMMARY") == "Preparation · Circle\\; north\\, west"
    assert _value(text, "LOCATION") == "Barn\\nupstairs"
    assert _value(text, "X-WR-CALNAME") == "Ana\\, the guide"


def test_it_writes_times_in_utc():
    text = calendar([_event()], name="Communitas", now=NOW)
    assert _value(text, "DTSTART") == "20260305T180000Z"  # 10:00 in Portland (PST)
    assert _value(text, "DTEND") == "20260306T000000Z"
    assert _value(text, "DTSTAMP") == "20260302T120000Z"


def test_the_stamp_is_when_the_session_last_changed():
    changed = datetime.datetime(2026, 2, 1, 9, 30, 15, tzinfo=datetime.UTC)
    text = calendar([_event(updated=changed)], name="Communitas", now=NOW)
    assert _value(text, "DTSTAMP") == "20260201T093015Z"


def test_it_refuses_naive_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        utc(datetime.datetime(2026, 3, 5, 10, 0))


def test_the_uid_is_stable_per_session():
    first = calendar([_event()], name="Communitas", now=NOW)
    later = calendar([_event(location="Room 9", status="cancelled")], name="Communitas", now=NOW)
    assert _value(first, "UID") == _value(later, "UID") == "session-42@communitas"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("planned", "TENTATIVE"), ("in_progress", "CONFIRMED"), ("completed", "CONFIRMED"), ("cancelled", "CANCELLED")],
)
def test_it_maps_session_statuses(status, expected):
    assert _value(calendar([_event(status=status)], name="C", now=NOW), "STATUS") == expected


def test_it_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="unknown session status"):
        calendar([_event(status="postponed")], name="C", now=NOW)


def test_the_summary_is_the_kind_and_the_group():
    assert _value(calendar([_event()], name="C", now=NOW), "SUMMARY") == "Preparation · Thursday circle"
    assert _value(calendar([_event(group="")], name="C", now=NOW), "SUMMARY") == "Preparation"


def test_it_leaves_out_an_empty_location():
    text = calendar([_event(location="")], name="C", now=NOW)
    assert not any(line.startswith("LOCATION") for line in _lines(text))


def test_it_writes_nothing_it_was_not_asked_for():
    event = _event(
        title="Marisol's first session",
        participants=["Marisol Quispe", "p-7F3K"],
        pseudonyms=["p-7F3K"],
        doses={"p-7F3K": "25 mg"},
        notes="anxious about the drive",
        description="Marisol Quispe",
    )
    text = calendar([event], name="Communitas", now=NOW)
    for secret in ("Marisol", "p-7F3K", "25 mg", "anxious", "first session"):
        assert secret not in text
    names = {line.split(":")[0].split(";")[0] for line in _lines(text) if line}
    assert names == {
        "BEGIN",
        "END",
        "VERSION",
        "PRODID",
        "CALSCALE",
        "METHOD",
        "X-WR-CALNAME",
        "REFRESH-INTERVAL",
        "X-PUBLISHED-TTL",
        "UID",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "SUMMARY",
        "LOCATION",
        "STATUS",
    }


def test_an_empty_calendar_is_still_valid():
    text = calendar([], name="Communitas", now=NOW)
    assert _lines(text)[0] == "BEGIN:VCALENDAR"
    assert "BEGIN:VEVENT" not in text
    assert text.endswith("END:VCALENDAR\r\n")


def test_each_event_is_one_vevent():
    text = calendar([_event(id=1), _event(id=2)], name="C", now=NOW)
    assert text.count("BEGIN:VEVENT\r\n") == text.count("END:VEVENT\r\n") == 2
    assert "UID:session-1@communitas" in text and "UID:session-2@communitas" in text
