"""A record document (``records.record_document``) shown to a person: each row as labelled,
readable values in the active language, and the two downloads (JSON exact, PDF readable)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from communitas.participants.records import record_views

ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


def display(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str):
        match = ISO_DATETIME.match(value)
        return f"{match.group(1)} {match.group(2)}" if match else value
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {display(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " | ".join(display(v) for v in value)
    return str(value)


def labelled(section, rows: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    return [[(str(label), display(r.get(key))) for key, label in section.fields if key in r] for r in rows]


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def pdf_bytes(document: dict[str, Any], *, name: str) -> bytes:
    """The PDF of ``document`` in the active language; ``name`` is the person's name as used."""
    retention = document["retention"]
    until = retention.get("until")
    kept = (
        _("Kept until at least %(date)s, then destroyed if you ask.") % {"date": until}
        if until
        else _("No retention period is known for this record, so it has no automatic end.")
    )
    intro = [
        _("Record of %(name)s (%(pseudonym)s) held by %(organization)s.")
        % {
            "name": name,
            "pseudonym": document["participant"]["pseudonym"],
            "organization": document["organization"]["name"],
        },
        _("Made on %(when)s.") % {"when": display(document["generated_at"])},
        kept,
    ]
    from communitas.participants.records_pdf import PdfRecord, PdfSection, record_pdf  # fpdf2: on first PDF

    sections = [
        PdfSection(str(view.section.title), labelled(view.section, view.rows), empty=_("Nothing recorded."))
        for view in record_views(document)
    ]
    return record_pdf(
        PdfRecord(
            title=_("Your record"),
            intro=intro,
            sections=sections,
            closing_title=_("Not in this record"),
            closing=[str(text) for text in document["not_included"]],
            author=document["organization"]["name"],
        )
    )
