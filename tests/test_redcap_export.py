"""A program leaves as a REDCap longitudinal project: a data dictionary with REDCap's 18 columns,
events, the instrument-event mapping and one record row per participant and event, with research
consent only, no identity and no licensed wording."""

import csv
import datetime
import hashlib
import io
import json
import re

import pytest
from django.core.exceptions import PermissionDenied

from communitas.core.models import AuditEntry
from communitas.interop.models import ExportLog
from communitas.interop.redcap import form_fields, redcap_export, unique_event_name
from communitas.outcomes import services as outcomes
from communitas.outcomes.definitions import get_builtin, parse_instrument
from communitas.participants.services import (
    consent_document_publish,
    consent_sign,
    consent_withdraw,
    participant_archive,
)
from communitas.programs import services as programs
from tests.factories import ParticipantFactory

PHQ9 = {str(n): 1 for n in range(1, 10)}  # total 9
WELLBEING = {str(n): 3 for n in range(1, 6)}
SECRET = "Licensed wording that must not ship"
DICTIONARY_HEADER = [
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
]
VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,25}$")


def _licensed_copy(code="wellbeing_local", **changes) -> dict:
    """WHO-5 re-issued as an organization's own instrument whose wording may not be shipped."""
    definition = get_builtin("who5").model_dump(mode="json")
    definition |= {
        "code": code,
        "name": "Local wellbeing",
        "licence": {"name": "Proprietary", "item_text_included": False},
    }
    for n, item in enumerate(definition["items"], start=1):
        item["text"] = {"en": f"{SECRET} {n}"}
    return definition | changes


def _people(org, alice, program, document, labels):
    people = {}
    for label in labels:
        person = ParticipantFactory(
            organization=org,
            display_name=f"{label.title()} Quispe",
            email=f"{label}@example.net",
            phone="+1 503 555 0199",
            date_of_birth=datetime.date(1979, 3, 14),
        )
        enrollment = programs.enrollment_create(program=program, participant=person, actor=alice)
        granted = {"participation"} if label == "declined" else {"participation", "research"}
        consent_sign(participant=person, document=document, typed_name=f"{label} signed", granted=granted, via="staff")
        assessments = outcomes.enrollment_anchor_set(
            enrollment=enrollment, administration_date=datetime.date.today(), actor=None
        )
        people[label] = (person, {(a.instrument_code, a.timepoint): a for a in assessments})
    return people


def _answer(assessment, answers):
    outcomes.response_submit(assessment=assessment, answers=answers, language="en", source="staff")


@pytest.fixture
def study(org, alice):
    program = programs.program_create(
        organization=org, actor=alice, name="Spring cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.custom_instrument_add(organization=org, definition=_licensed_copy(), actor=alice)
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    outcomes.schedule_set(
        program=program,
        instrument_code="wellbeing_local",
        actor=None,
        timepoints=[{"code": "baseline", "offset_days": -7}, {"code": "month_1", "offset_days": 30}],
    )
    document = consent_document_publish(
        organization=org,
        actor=None,
        title="Consent",
        version="1",
        language="en",
        body="I agree to take part and, if I choose, to research use of my answers.",
        scopes=["participation", "research"],
        required_scopes=["participation"],
    )
    people = _people(org, alice, program, document, ["ana", "ben", "declined", "withdrawn", "archived"])
    for label, (_person, assessments) in people.items():
        _answer(assessments[("phq9", "baseline")], PHQ9)
        if label == "ana":
            _answer(assessments[("phq9", "post_session")], PHQ9 | {"9": 2})
            _answer(assessments[("wellbeing_local", "baseline")], WELLBEING)
            _answer(assessments[("wellbeing_local", "month_1")], WELLBEING)
    consent_withdraw(participant=people["withdrawn"][0], scope="research")
    participant_archive(participant=people["archived"][0], actor=alice)
    return program, {label: person for label, (person, _a) in people.items()}


def _table(text):
    return list(csv.reader(io.StringIO(text)))


def _dicts(text):
    return list(csv.DictReader(io.StringIO(text)))


# The data dictionary


@pytest.mark.django_db
def test_it_writes_the_dictionary_with_redcaps_18_columns_in_redcaps_order(study, alice):
    program, _people = study
    rows = _table(redcap_export(program=program, actor=alice, via="web").dictionary_csv)
    assert rows[0] == DICTIONARY_HEADER
    assert all(len(row) == 18 for row in rows)
    fields = [dict(zip(DICTIONARY_HEADER, row, strict=True)) for row in rows[1:]]
    assert (fields[0]["Variable / Field Name"], fields[0]["Form Name"], fields[0]["Field Type"]) == (
        "record_id",
        "phq9",
        "text",
    )
    forms = [f["Form Name"] for f in fields]
    assert list(dict.fromkeys(forms)) == ["phq9", "wellbeing_local"]  # one form per scheduled instrument
    assert forms == sorted(forms, key=["phq9", "wellbeing_local"].index)  # each form's fields together
    first = next(f for f in fields if f["Variable / Field Name"] == "phq9_1")
    assert first["Field Type"] == "radio" and first["Required Field?"] == "y"
    assert first["Field Label"] == "Little interest or pleasure in doing things"
    assert first["Choices, Calculations, OR Slider Labels"] == (
        "0, Not at all | 1, Several days | 2, More than half the days | 3, Nearly every day"
    )
    total = next(f for f in fields if f["Variable / Field Name"] == "phq9_total")
    assert (total["Field Type"], total["Text Validation Type OR Show Slider Number"]) == ("text", "number")
    assert total["Field Annotation"].startswith("@READONLY")


def test_variable_names_are_valid_for_redcap_even_for_long_instrument_codes():
    long_code = "a_rather_long_local_wellbeing_instrument"  # 40 characters, the longest a code may be
    instruments = [get_builtin("phq9"), get_builtin("ebi"), parse_instrument(_licensed_copy(long_code))]
    forms = form_fields(instruments)
    names = [f.name for fields in forms.values() for f in fields]
    assert names[0] == "record_id"
    assert all(VARIABLE.match(name) for name in names), names
    assert len(names) == len(set(names))
    assert not set(names) & {f"{form}_complete" for form in forms}
    vas = next(f for f in forms["ebi"] if f.item == "1")
    assert (vas.type, vas.validation, vas.low, vas.high) == ("text", "number", "0", "100")


def test_unique_event_names_follow_redcaps_rule():
    assert unique_event_name("Baseline") == "baseline_arm_1"
    assert unique_event_name("Month 1") == "month_1_arm_1"
    assert unique_event_name("3 Month Follow-up") == "3_month_followup_arm_1"


# Records, events and mappings


@pytest.mark.django_db
def test_records_have_one_row_per_participant_and_event_in_redcaps_flat_layout(study, alice):
    program, people = study
    export = redcap_export(program=program, actor=alice, via="web")
    dictionary = [row[0] for row in _table(export.dictionary_csv)[1:]]
    header = _table(export.records_csv)[0]
    expected = ["record_id", "redcap_event_name"]
    for form in ("phq9", "wellbeing_local"):
        expected += [n for n in dictionary if n.startswith(form + "_")] + [f"{form}_complete"]
    assert header == expected

    records = _dicts(export.records_csv)
    keys = [(r["record_id"], r["redcap_event_name"]) for r in records]
    ana, ben = people["ana"].pseudonym, people["ben"].pseudonym
    assert sorted(keys) == sorted(
        [(ana, "baseline_arm_1"), (ana, "post_session_arm_1"), (ana, "month_1_arm_1"), (ben, "baseline_arm_1")]
    )
    assert export.rows == 4
    baseline = next(r for r in records if r["record_id"] == ana and r["redcap_event_name"] == "baseline_arm_1")
    assert (baseline["phq9_1"], baseline["phq9_total"], baseline["phq9_complete"]) == ("1", "9", "2")
    assert (baseline["wellbeing_local_1"], baseline["wellbeing_local_complete"]) == ("3", "2")
    post = next(r for r in records if r["redcap_event_name"] == "post_session_arm_1")
    assert (post["phq9_9"], post["phq9_total"]) == ("2", "10")
    assert post["wellbeing_local_1"] == post["wellbeing_local_complete"] == ""  # not designated for the event


@pytest.mark.django_db
def test_events_and_mappings_agree_with_the_records(study, alice):
    program, _people = study
    export = redcap_export(program=program, actor=alice, via="web")
    events = _dicts(export.events_csv)
    assert _table(export.events_csv)[0] == ["event_name", "arm_num", "unique_event_name", "custom_event_label"]
    assert [e["unique_event_name"] for e in events] == [
        "baseline_arm_1",
        "post_session_arm_1",
        "week_1_arm_1",
        "month_1_arm_1",
        "month_3_arm_1",
        "month_6_arm_1",
        "month_12_arm_1",
    ]
    assert all(unique_event_name(e["event_name"]) == e["unique_event_name"] and e["arm_num"] == "1" for e in events)

    assert _table(export.mappings_csv)[0] == ["arm_num", "unique_event_name", "form"]
    mapping = {(m["unique_event_name"], m["form"]) for m in _dicts(export.mappings_csv)}
    wellbeing = {e for e, form in mapping if form == "wellbeing_local"}
    assert wellbeing == {"baseline_arm_1", "month_1_arm_1"}
    assert {e for e, form in mapping if form == "phq9"} == {e["unique_event_name"] for e in events}
    for record in _dicts(export.records_csv):
        assert record["redcap_event_name"] in {e["unique_event_name"] for e in events}
        for form in ("phq9", "wellbeing_local"):
            if record[f"{form}_complete"]:
                assert (record["redcap_event_name"], form) in mapping


@pytest.mark.django_db
def test_only_research_consenting_live_participants_of_the_program_appear(study, alice, org):
    program, people = study
    elsewhere = programs.program_create(
        organization=org, actor=alice, name="Autumn cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    programs.enrollment_create(program=elsewhere, participant=people["ben"], actor=alice)
    export = redcap_export(program=program, actor=alice, via="web")
    records = {r["record_id"] for r in _dicts(export.records_csv)}
    assert records == {people["ana"].pseudonym, people["ben"].pseudonym}
    everything = export.dictionary_csv + export.records_csv + export.events_csv + export.mappings_csv
    for label in ("declined", "withdrawn", "archived"):
        assert people[label].pseudonym not in everything
    assert redcap_export(program=elsewhere, actor=alice, via="web").rows == 0


@pytest.mark.django_db
def test_no_identity_dates_or_free_text_in_any_file(study, alice):
    program, people = study
    export = redcap_export(program=program, actor=alice, via="web")
    everything = export.dictionary_csv + export.records_csv + export.events_csv + export.mappings_csv
    for person in people.values():
        for value in (person.display_name, person.email, person.phone, "Quispe", "signed", "1979"):
            assert value not in everything
    assert not re.search(r"\d{4}-\d{2}-\d{2}", everything)  # no calendar dates at all


@pytest.mark.django_db
def test_licensed_item_wording_never_ships(study, alice):
    program, _people = study
    export = redcap_export(program=program, actor=alice, via="web")
    assert SECRET not in export.dictionary_csv
    labels = {row[0]: row[4] for row in _table(export.dictionary_csv)[1:]}
    assert labels["wellbeing_local_1"] == get_builtin("who5").items[0].label


# Log, audit and permissions


@pytest.mark.django_db
def test_each_export_is_logged_and_audited_without_identity(study, alice, org):
    program, people = study
    export = redcap_export(program=program, actor=alice, via="web")
    log = ExportLog.objects.get(kind="redcap")
    assert export.log == log
    assert (log.organization_id, log.actor, log.via, log.rows) == (org.pk, alice, "web", 4)
    assert log.fields[:2] == ["record_id", "redcap_event_name"]
    assert log.sha256 == hashlib.sha256(export.records_csv.encode()).hexdigest()
    assert log.parameters["instruments"] == ["phq9", "wellbeing_local"]
    entry = AuditEntry.objects.get(action="interop.redcap.exported")
    assert (entry.actor_id, entry.object_id, entry.data["rows"]) == (alice.pk, str(log.pk), 4)
    text = json.dumps(entry.data)
    assert all(p.pseudonym not in text and p.display_name not in text for p in people.values())


@pytest.mark.django_db
def test_coordinators_and_the_command_line_may_export_but_not_others(study, alice, bob, rita, charlie):
    program, _people = study
    assert redcap_export(program=program, actor=None, via="cli").rows == 4
    for actor, via in ((bob, "web"), (rita, "web"), (charlie, "web"), (None, "web")):
        with pytest.raises(PermissionDenied):  # the files carry the organization's own pseudonyms
            redcap_export(program=program, actor=actor, via=via)
    assert ExportLog.objects.filter(kind="redcap").count() == 1
