"""iCalendar feeds (RFC 5545), written by hand: plain dicts in, text out, no ORM.

An event dict carries only what a calendar needs: ``id``, ``kind`` (the translated session
kind), ``group`` (the circle's or retreat's name, may be empty), ``location``, ``start`` and
``end`` (timezone-aware datetimes), ``status`` (a ``Session.Status`` value) and optionally
``updated``. Any other key is ignored, so participant names, pseudonyms, doses or notes can
never reach a feed even if a caller passes them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping

CRLF = "\r\n"
LINE_OCTETS = 75  # RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets
PRODID = "-//Communitas//Session calendar//EN"
UID_DOMAIN = "communitas"
STATUS = {
    "planned": "TENTATIVE",
    "in_progress": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # §3.3.11: no CONTROL except HTAB


def escape_text(value: str) -> str:
    """A TEXT value (§3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROL.sub("", value)


def fold(line: str) -> str:
    """Split a content line longer than 75 octets (§3.1): CRLF then one space, never inside a
    UTF-8 character. Continuation lines count their leading space."""
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(char)
        size += octets
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def utc(value: datetime.datetime) -> str:
    """A DATE-TIME in UTC form (§3.3.5, form #2): ``19980119T070000Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("calendar times must be timezone-aware")
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def uid(session_id: int) -> str:
    return f"session-{int(session_id)}@{UID_DOMAIN}"


def summary(kind: str, group: str = "") -> str:
    return f"{kind} · {group}" if group else kind


def event_lines(event: Mapping, *, now: datetime.datetime) -> list[str]:
    """The unfolded content lines of one VEVENT."""
    if event["status"] not in STATUS:
        raise ValueError(f"unknown session status {event['status']!r}")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid(event['id'])}",
        f"DTSTAMP:{utc(event.get('updated') or now)}",
        f"DTSTART:{utc(event['start'])}",
        f"DTEND:{utc(event['end'])}",
        f"SUMMARY:{escape_text(summary(str(event['kind']), str(event.get('group') or '')))}",
    ]
    if event.get("location"):
        lines.append(f"LOCATION:{escape_text(str(event['location']))}")
    lines += [f"STATUS:{STATUS[event['status']]}", "END:VEVENT"]
    return lines


def calendar(events: Iterable[Mapping], *, name: str, now: datetime.datetime) -> str:
    """A whole VCALENDAR, CRLF line endings, every line folded."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines += event_lines(event, now=now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
