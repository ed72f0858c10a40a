"""A program's outcomes as a REDCap longitudinal project: the four CSV files REDCap's own upload
pages take, in the column layouts REDCap documents.

- **Data dictionary** (Designer → Data Dictionary upload): REDCap's 18 columns in REDCap's order
  (``DICTIONARY_COLUMNS``). ``record_id`` comes first, in the first form; then one form per
  instrument the program schedules (form name = instrument code), one ``radio`` field per choice
  item (``"0, Not at all | 1, Several days | ..."``), a ``text`` field validated as a number for
  each visual-analogue item, and ``<form>_total``, a read-only number field holding the total
  Communitas' scoring engine computed (a REDCap ``calc`` cannot reproduce prorating or
  domain-maximum scoring). Item wording appears only where the instrument's licence permits it,
  otherwise the item's neutral label (``fhir.item_text``).
- **Events** (Define My Events → upload events): ``event_name,arm_num,unique_event_name,
  custom_event_label``, one arm, one event per timepoint of the program's schedules, in time order.
  REDCap generates each unique event name from the event name (lower case, spaces to underscores,
  at most 18 characters, ``_arm_1``); event names here are chosen so that the name REDCap generates
  is the one written in this file and in the records.
- **Instrument-event mapping** (Designate Instruments for My Events → upload): ``arm_num,
  unique_event_name,form``.
- **Records** (Data Import Tool, flat longitudinal format): ``record_id``, ``redcap_event_name``,
  then every dictionary field in dictionary order with each form's ``<form>_complete`` after its
  fields. One row per participant and event with at least one submitted response. ``<form>_complete``
  is 2 (Complete) where the form was answered and blank where it was not (a 0 would mark an
  unanswered form "Incomplete"); fields of forms not designated for a row's event stay blank, as
  REDCap requires. No ``redcap_repeat_*`` columns: nothing repeats.

Upload order: make the project longitudinal, then dictionary, events, mapping, records.

De-identified by construction: ``record_id`` is the participant's pseudonym; only participants
enrolled in the program whose newest research consent is a yes (``research_participants``:
withdrawn or declined consent and archived participants are absent); no names, contact details,
dates of birth, calendar dates or free text; the event says when.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from communitas.accounts.models import User
from communitas.interop import fhir
from communitas.interop.models import ExportLog
from communitas.interop.permissions import can_file_reports
from communitas.interop.services import export_log_record
from communitas.outcomes.definitions import Instrument, Item
from communitas.outcomes.models import AssessmentSchedule, Response
from communitas.outcomes.registry import instruments_for
from communitas.outcomes.schedules import DEFAULT_TIMEPOINTS, ScheduleError, parse_timepoints
from communitas.participants.selectors import research_participants
from communitas.programs.models import Program

DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
EVENT_COLUMNS = ("event_name", "arm_num", "unique_event_name", "custom_event_label")
MAPPING_COLUMNS = ("arm_num", "unique_event_name", "form")
ARM = 1
MAX_VARIABLE = 26  # REDCap's advised maximum length of a variable name
MAX_EVENT = 18  # REDCap keeps this many characters of an event name in its unique name
RECORD_ID = "record_id"
COMPLETE = "2"
TOTAL_NOTE = "@READONLY Total score computed by Communitas; blank when too many items were unanswered."
VARIABLE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Field:
    name: str
    form: str
    type: str
    label: str
    choices: str = ""
    validation: str = ""
    low: str = ""
    high: str = ""
    required: bool = False
    section: str = ""
    annotation: str = ""
    item: str = ""  # the instrument item id, or "" for record_id and totals

    def row(self) -> list[str]:
        required = "y" if self.required else ""
        head = [self.name, self.form, self.section, self.type, self.label, self.choices, "", self.validation]
        return [*head, self.low, self.high, "", "", required, "", "", "", "", self.annotation]


@dataclass(frozen=True)
class Event:
    code: str  # the timepoint code
    name: str
    unique_name: str


@dataclass
class RedcapExport:
    dictionary_csv: str
    records_csv: str
    events_csv: str
    mappings_csv: str
    rows: int
    log: ExportLog


# Pure: names and fields


def _clean(text: str) -> str:
    """One line, no pipe (REDCap's choice separator)."""
    return " ".join(text.replace("|", "/").split())


def _slug(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", text.lower())).strip("_")


def unique_event_name(event_name: str, arm: int = ARM) -> str:
    """The unique event name REDCap generates for ``event_name`` in ``arm``."""
    base = re.sub(r"[^a-z0-9_ ]", "", event_name.lower()).strip().replace(" ", "_")[:MAX_EVENT].strip("_")
    return f"{base}_arm_{arm}"


def events_for(codes: list[str]) -> list[Event]:
    """One event per timepoint code: a display name REDCap turns back into a unique name that
    no other event has."""
    events: list[Event] = []
    taken: set[str] = set()
    for code in codes:
        stem = _slug(code) or "event"
        stem = (stem if stem[0].isalpha() else f"e{stem}")[:MAX_EVENT].rstrip("_")
        n, candidate = 1, stem
        while candidate in taken:
            n += 1
            candidate = f"{stem[: MAX_EVENT - len(str(n)) - 1].rstrip('_')}_{n}"
        taken.add(candidate)
        name = candidate.replace("_", " ").capitalize()
        events.append(Event(code, name, unique_event_name(name)))
    return events


class _Names:
    """Variable names valid for REDCap: lower case, starting with a letter, letters, digits and
    underscores, at most 26 characters, unique (``<form>_complete`` included)."""

    def __init__(self, forms: list[str]):
        self.taken = {RECORD_ID} | {f"{form}_complete" for form in forms}

    def claim(self, prefix: str, suffix: str) -> str:
        suffix = _slug(suffix) or "item"
        head = _slug(prefix)[: MAX_VARIABLE - len(suffix) - 1].rstrip("_") or "v"
        name, n = f"{head}_{suffix}"[:MAX_VARIABLE], 1
        while name in self.taken or not VARIABLE.fullmatch(name):
            n += 1
            tail = f"{suffix}{n}"
            name = f"{head[: MAX_VARIABLE - len(tail) - 1]}_{tail}"
        self.taken.add(name)
        return name


def _item_field(names: _Names, instrument: Instrument, item: Item, *, section: str) -> Field:
    rs = instrument.response_set_for(item)
    choice = rs.type == "choice"
    return Field(
        name=names.claim(instrument.code, item.id),
        form=instrument.code,
        type="radio" if choice else "text",
        label=_clean(fhir.item_text(instrument, item)),
        choices=" | ".join(f"{fhir.value_code(o.value)}, {_clean(fhir.option_display(o))}" for o in rs.options),
        validation="" if choice else "number",
        low="" if choice else fhir.value_code(rs.low),
        high="" if choice else fhir.value_code(rs.high),
        required=item.required,
        section=section,
        item=item.id,
    )


def form_fields(instruments: list[Instrument]) -> dict[str, list[Field]]:
    """Every field per form (instrument code), ``record_id`` first in the first form."""
    names = _Names([i.code for i in instruments])
    forms: dict[str, list[Field]] = {}
    for n, instrument in enumerate(instruments):
        fields = [Field(RECORD_ID, instrument.code, "text", "Record ID (Communitas pseudonym)")] if n == 0 else []
        total = names.claim(instrument.code, "total")
        for index, item in enumerate(instrument.items):
            fields.append(_item_field(names, instrument, item, section=_clean(instrument.name) if index == 0 else ""))
        label = f"{_clean(instrument.name)} total score"
        fields.append(Field(total, instrument.code, "text", label, validation="number", annotation=TOTAL_NOTE))
        forms[instrument.code] = fields
    return forms


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _number(value) -> str:
    return "" if value is None else fhir.value_code(float(value))


def records_header(forms: dict[str, list[Field]]) -> list[str]:
    header = [RECORD_ID, "redcap_event_name"]
    for form, fields in forms.items():
        header += [f.name for f in fields if f.name != RECORD_ID] + [f"{form}_complete"]
    return header


def record_row(header: list[str], forms: dict[str, list[Field]], record: str, event: Event, responses: dict) -> list:
    """``responses``: form -> (answers, total) for this participant and event."""
    values = {RECORD_ID: record, "redcap_event_name": event.unique_name}
    for form, (answers, total) in responses.items():
        for field in forms[form]:
            if field.item:
                values[field.name] = _number(answers.get(field.item))
            elif field.name != RECORD_ID:
                values[field.name] = _number(total)
        values[f"{form}_complete"] = COMPLETE
    return [values.get(column, "") for column in header]


# Reads


def _schedules(program: Program, available: dict[str, Instrument]) -> list[tuple[Instrument, list[tuple[str, int]]]]:
    """(instrument, [(timepoint code, offset days)]) per schedule of the program, in the order
    the schedules were set."""
    out = []
    for schedule in AssessmentSchedule.objects.filter(program=program).order_by("created_at", "pk"):
        instrument = available.get(schedule.instrument_code)
        if instrument is None:
            continue
        try:
            timepoints = [(tp.code, tp.offset_days) for tp in parse_timepoints(schedule.timepoints)]
        except ScheduleError:
            timepoints = []
        out.append((instrument, timepoints))
    return out


def _responses(program: Program, codes: list[str]) -> list[tuple[str, str, str, dict, float | None]]:
    """(pseudonym, instrument, timepoint, answers, total) of every research-consenting
    participant's submitted response in the program."""
    consenting = research_participants(program.organization_id).filter(enrollments__program=program)
    rows = (
        Response.objects.filter(
            organization_id=program.organization_id,
            participant__in=consenting,
            instrument_code__in=codes,
            assessment__enrollment__program=program,
            assessment__cancelled_at__isnull=True,
        )
        .order_by("participant__pseudonym", "assessment__due_on", "pk")
        .values_list("participant__pseudonym", "instrument_code", "assessment__timepoint", "answers", "score__total")
    )
    return list(rows)


# The export


def _require_exporter(actor: User | None, organization_id: int, via: str) -> None:
    if via not in ExportLog.Via.values:
        raise ValueError(f"unknown channel {via!r}")
    if actor is None and via == ExportLog.Via.CLI:
        return  # the deployment's operator, at its command line
    membership = actor.memberships.filter(organization_id=organization_id).first() if actor else None
    if actor is None or not actor.is_active or not can_file_reports(membership):
        raise PermissionDenied


def _event_order(schedules, responses) -> list[str]:
    offsets: dict[str, int] = {tp.code: tp.offset_days for tp in DEFAULT_TIMEPOINTS}
    for _instrument, timepoints in schedules:
        for code, offset in timepoints:
            offsets[code] = offset
    codes = {code for _i, timepoints in schedules for code, _o in timepoints} | {r[2] for r in responses}
    return sorted(codes, key=lambda code: (offsets.get(code, 10**6), code))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def redcap_export(*, program: Program, actor: User | None, via: str) -> RedcapExport:
    """The program's REDCap files (see the module docstring), logged and audited
    (``interop.redcap.exported``). They carry the organization's own pseudonyms, so they are made
    by those who file reports (coordinators, administrators) or at the command line; researchers
    get the research export instead."""
    _require_exporter(actor, program.organization_id, via)
    schedules = _schedules(program, instruments_for(program.organization_id))
    instruments = [instrument for instrument, _timepoints in schedules]
    responses = _responses(program, [i.code for i in instruments])
    events = {e.code: e for e in events_for(_event_order(schedules, responses))}
    forms = form_fields(instruments)

    pairs = {(code, i.code) for i, timepoints in schedules for code, _o in timepoints}
    pairs |= {(timepoint, form) for _p, form, timepoint, _a, _t in responses}
    form_order = {code: n for n, code in enumerate(forms)}
    mapping = sorted(pairs, key=lambda pair: (list(events).index(pair[0]), form_order[pair[1]]))

    grouped: dict[tuple[str, str], dict] = {}
    for pseudonym, form, timepoint, answers, total in responses:
        grouped.setdefault((pseudonym, timepoint), {})[form] = (answers, total)
    order = list(events)
    keys = sorted(grouped, key=lambda key: (key[0], order.index(key[1])))
    header = records_header(forms)

    files = {
        "dictionary": _csv(DICTIONARY_COLUMNS, [f.row() for fields in forms.values() for f in fields]),
        "records": _csv(header, [record_row(header, forms, p, events[t], grouped[(p, t)]) for p, t in keys]),
        "events": _csv(EVENT_COLUMNS, [[e.name, ARM, e.unique_name, ""] for e in events.values()]),
        "mappings": _csv(MAPPING_COLUMNS, [[ARM, events[t].unique_name, form] for t, form in mapping]),
    }
    log = export_log_record(
        organization_id=program.organization_id,
        kind=ExportLog.Kind.REDCAP,
        via=via,
        actor=actor,
        fields=header,
        rows=len(keys),
        content=files["records"],
        parameters={
            "program": program.pk,
            "instruments": list(forms),
            "events": [e.unique_name for e in events.values()],
            "sha256": {name: _digest(text) for name, text in files.items()},
        },
    )
    return RedcapExport(files["dictionary"], files["records"], files["events"], files["mappings"], len(keys), log)
