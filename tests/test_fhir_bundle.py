"""An organization's data leaves as one FHIR R4B collection Bundle (pseudonymous unless an
administrator asks for an identified one), and QuestionnaireResponses come back in, all or
nothing, into the participants' matching assessments."""

import copy
import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.interop import fhir
from communitas.interop.fhir_bundle import IDENTIFIED_EXPORT_ROLES, fhir_export, fhir_import, pseudonym_system
from communitas.interop.models import ExportLog
from communitas.outcomes import services as outcomes
from communitas.outcomes.models import Response
from communitas.participants.services import consent_sign, consent_withdraw, participant_archive
from communitas.programs import services as programs
from communitas.programs.models import Enrollment
from communitas.programs.session_services import attendance_set, circle_create, circle_set_members, session_plan
from communitas.safety import services as safety
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import make_user
from tests.journey_helpers import oregon_program
from tests.outcomes_helpers import enrolled_with_schedule
from tests.session_helpers import make_ready, prepare

Role = Membership.Role
PHQ9 = {str(n): 1 for n in range(1, 10)}
TYPES = {
    "Organization",
    "Patient",
    "Group",
    "Encounter",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
    "AdverseEvent",
    "Consent",
}
PEOPLE = [
    {"display_name": "Marisol Quispe", "email": "marisol@example.net", "phone": "+1 503 555 0147"},
    {"display_name": "Tomás Herrera", "email": "tomas@example.net", "phone": "+1 503 555 0148"},
]
DESCRIPTION = "Marisol hyperventilated at 13:20 and her brother came to pick her up."


def _valid(resource: dict) -> dict:
    """Parse with the fhir.resources R4B model of its type (and each bundle entry's), or fail."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        _valid(entry["resource"])
    return resource


def _of(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _membership(user, org):
    return Membership.objects.get(user=user, organization=org)


def _export(user, org, **kwargs):
    return fhir_export(organization=org, actor=user, membership=_membership(user, org), via="web", **kwargs)


@pytest.fixture
def community(org, alice):
    """Two ready participants in an Oregon program, in one circle, a planned preparation session
    and a circle session, a PHQ-9 answered, an adverse event, granted, declined and withdrawn
    consents; plus an archived participant with data of their own."""
    program, document = oregon_program(org, name="Group sessions")
    guide = make_profile(org, alice, display_name="Ana Lucía Ramos", languages=["en"])
    add_credential(guide, alice)
    people = [
        make_ready(program, document, alice, date_of_birth=datetime.date(1979, 3, 14), **fields) for fields in PEOPLE
    ]
    archived = make_ready(program, document, alice, display_name="Dale Archived", email="dale@example.net")
    prepare(program, alice, guide, [*people, archived])
    circle = circle_create(program=program, actor=alice, name="Cedar circle", capacity=8)
    circle_set_members(circle=circle, actor=alice, participants=[*people, archived], facilitators=[guide])
    start = timezone.now() + datetime.timedelta(hours=3)
    session = session_plan(
        program=program,
        actor=alice,
        kind="preparation",
        title="Marisol's second preparation",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=1),
        facilitators=[guide],
        participants=people,
        circle=circle,
    )
    attendance_set(session=session, participant_id=people[1].pk, status="absent", actor=alice)
    consent_sign(
        participant=people[0],
        document=document,
        typed_name="M. Quispe",
        granted={"participation", "research"},
        via="staff",
    )
    consent_withdraw(participant=people[0], scope="research", actor=alice)
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    for person in (people[0], archived):
        enrollment = Enrollment.objects.get(program=program, participant=person)
        planned = outcomes.enrollment_anchor_set(
            enrollment=enrollment, administration_date=timezone.localdate() + datetime.timedelta(days=7), actor=None
        )
        outcomes.response_submit(assessment=planned[0], answers=PHQ9, language="en", source="staff")
    for person in (people[0], archived):
        safety.adverse_event_record(
            participant=person,
            actor=alice,
            jurisdiction="US-OR",
            session_ref="Saturday circle",
            during_administration=True,
            kind="behavioral",
            onset_at=timezone.now() - datetime.timedelta(hours=3),
            description=DESCRIPTION,
            severity="life_threatening",
            serious=True,
            emergency_services=True,
            outcome="resolved",
            relatedness="probable",
        )
    participant_archive(participant=archived, actor=alice)
    return people, archived, circle, session


@pytest.fixture
def admin(org):
    return make_user(org, Role.ADMIN, email="ada@cascadia.example")


# Export


@pytest.mark.django_db
def test_the_bundle_validates_and_holds_every_resource_type(community, alice, org):
    people, _archived, circle, session = community
    bundle = _valid(_export(alice, org))
    assert bundle["type"] == "collection" and "total" not in bundle
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == TYPES
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")

    patients = {p["id"]: p for p in _of(bundle, "Patient")}
    assert set(patients) == {p.pseudonym for p in people}
    assert patients[people[0].pseudonym]["identifier"] == [
        {"system": pseudonym_system(org.pk), "value": people[0].pseudonym}
    ]
    (group,) = _of(bundle, "Group")
    assert group["member"] == [{"entity": {"reference": f"Patient/{p.pseudonym}"}} for p in sorted(people, key=str)]
    assert (group["type"], group["actual"], group["quantity"]) == ("person", True, 2)

    encounters = {e["id"]: e for e in _of(bundle, "Encounter")}
    circle_encounter = encounters[f"session-{session.pk}"]
    assert circle_encounter["subject"] == {"reference": f"Group/circle-{circle.pk}"}
    assert (circle_encounter["status"], circle_encounter["class"]["code"]) == ("planned", "AMB")
    parts = [e for e in encounters.values() if e.get("partOf") == {"reference": f"Encounter/session-{session.pk}"}]
    assert {e["subject"]["reference"]: e["status"] for e in parts} == {
        f"Patient/{people[0].pseudonym}": "planned",
        f"Patient/{people[1].pseudonym}": "cancelled",  # absent
    }

    (event,) = _of(bundle, "AdverseEvent")
    assert (event["actuality"], event["subject"]["reference"]) == ("actual", f"Patient/{people[0].pseudonym}")
    assert event["seriousness"]["coding"][0]["code"] == "SeriousIsLifeThreatening"
    assert event["severity"]["coding"][0]["code"] == "severe"

    research = [c for c in _of(bundle, "Consent") if c["scope"]["coding"][0]["code"] == "research"]
    mine = [c for c in research if c["patient"]["reference"] == f"Patient/{people[0].pseudonym}"]
    assert sorted((c["status"], c["provision"]["type"]) for c in mine) == [("inactive", "deny"), ("inactive", "permit")]
    assert any("end" in c["provision"]["period"] for c in mine)  # the withdrawal
    active = [c for c in _of(bundle, "Consent") if c["status"] == "active"]
    assert {c["provision"]["type"] for c in active} == {"permit", "deny"}

    (response,) = _of(bundle, "QuestionnaireResponse")
    (observation,) = _of(bundle, "Observation")
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response['id']}"}]
    assert [q["id"] for q in _of(bundle, "Questionnaire")] == ["phq9"]


@pytest.mark.django_db
def test_it_is_pseudonymous_by_default_and_never_carries_free_text(community, alice, org):
    people, archived, _circle, _session = community
    bundle = _export(alice, org)
    assert bundle["meta"]["security"][0]["code"] == "PSEUDED"
    for patient in _of(bundle, "Patient"):
        assert not {"name", "telecom", "birthDate", "communication", "address"} & set(patient)
    text = json.dumps(bundle, ensure_ascii=False)
    for person in [*people, archived]:
        for value in (person.display_name, person.email, person.phone):
            assert value not in text
    for value in ("1979-03-14", "Quispe", "M. Quispe", DESCRIPTION[:20], "Saturday circle", "second preparation"):
        assert value not in text
    assert archived.pseudonym not in text  # archived: absent everywhere


@pytest.mark.django_db
def test_an_identified_export_is_refused_to_a_coordinator_and_made_for_an_administrator(community, alice, admin, org):
    people, _archived, _circle, _session = community
    assert Role.ADMIN in IDENTIFIED_EXPORT_ROLES and Role.COORDINATOR not in IDENTIFIED_EXPORT_ROLES
    with pytest.raises(PermissionDenied):
        _export(alice, org, identified=True)
    bundle = _valid(_export(admin, org, identified=True))
    assert "meta" not in bundle
    patient = next(p for p in _of(bundle, "Patient") if p["id"] == people[0].pseudonym)
    assert patient["name"][0]["text"] == "Marisol Quispe"
    assert {"system": "email", "value": "marisol@example.net"} in patient["telecom"]
    assert patient["birthDate"] == "1979-03-14"
    log = ExportLog.objects.get(kind="fhir", actor=admin)
    assert log.parameters["identified"] is True


@pytest.mark.django_db
def test_others_may_not_export(community, bob, rita, charlie, org, other_org):
    for user, where in ((bob, org), (rita, org)):
        with pytest.raises(PermissionDenied):
            _export(user, where)
    with pytest.raises(PermissionDenied):  # a membership of another organization
        fhir_export(organization=org, actor=charlie, membership=_membership(charlie, other_org), via="web")
    with pytest.raises(PermissionDenied):
        fhir_export(organization=org, actor=None, membership=None, via="web", identified=False)
    assert fhir_export(organization=org, actor=None, membership=None, via="cli")["type"] == "collection"
    with pytest.raises(PermissionDenied):
        fhir_export(organization=org, actor=None, membership=None, via="cli", identified=True)


@pytest.mark.django_db
def test_another_organizations_data_is_absent(community, alice, charlie, org, other_org, outsider_participant):
    _program, _enrollment, assessments = enrolled_with_schedule(other_org, outsider_participant)
    outcomes.response_submit(assessment=assessments[0], answers=PHQ9, language="en", source="staff")
    text = json.dumps(_export(alice, org), ensure_ascii=False)
    assert outsider_participant.pseudonym not in text and "Stillwater" not in text
    theirs = _valid(_export(charlie, other_org))
    assert [p["id"] for p in _of(theirs, "Patient")] == [outsider_participant.pseudonym]
    assert len(_of(theirs, "QuestionnaireResponse")) == 1 and not _of(theirs, "AdverseEvent")


@pytest.mark.django_db
def test_each_export_is_logged_and_audited_with_counts_only(community, alice, org):
    people, _archived, _circle, _session = community
    _export(alice, org)
    log = ExportLog.objects.get(kind="fhir")
    assert (log.actor, log.via, log.parameters["identified"]) == (alice, "web", False)
    assert log.parameters["counts"]["Patient"] == 2 and log.rows == sum(log.parameters["counts"].values())
    assert len(log.sha256) == 64
    entry = AuditEntry.objects.get(action="interop.fhir.exported")
    assert entry.data["counts"] == log.parameters["counts"] and entry.data["identified"] is False
    assert all(p.pseudonym not in json.dumps(entry.data) for p in people)


# Import


def _round_trip_setting(org, participant):
    """The participant answered a PHQ-9 in one program; a second program owes the same baseline."""
    _first, _e, answered = enrolled_with_schedule(org, participant)
    response, _created = outcomes.response_submit(
        assessment=answered[0], answers=PHQ9 | {"9": 2}, language="en", source="staff"
    )
    second = programs.program_create(
        organization=org, actor=None, name="Autumn cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=second, instrument_code="phq9", actor=None)
    enrollment = programs.enrollment_create(program=second, participant=participant, actor=None)
    day = timezone.localdate() + datetime.timedelta(days=7)  # the same administration date
    owed = outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=day, actor=None)
    return response, owed[0]


def _questionnaire_bundle(user, org) -> dict:
    bundle = _export(user, org)
    keep = {"Patient", "QuestionnaireResponse"}
    return bundle | {"entry": [e for e in bundle["entry"] if e["resource"]["resourceType"] in keep]}


@pytest.fixture
def owed(org, participant):
    return _round_trip_setting(org, participant)


@pytest.mark.django_db
def test_exported_responses_import_into_the_matching_open_assessment(owed, alice, org):
    original, baseline = owed
    bundle = _export(alice, org)  # the whole bundle: other types are ignored, not refused
    result = fhir_import(organization=org, bundle=bundle, actor=alice, via="api")
    assert result.ok, result.problems
    imported = Response.objects.get(pk__in=result.saved)
    assert imported.assessment == baseline and imported.source == "import" and imported.entered_by == alice
    assert imported.answers == original.answers and imported.submitted_at == original.submitted_at
    assert imported.score.total == 10
    assert result.ignored["Observation"] == 1 and result.ignored["Patient"] == 1
    log = ExportLog.objects.get(kind="fhir_import")
    assert (log.rows, log.parameters["instruments"], result.log) == (1, {"phq9": 1}, log)
    assert AuditEntry.objects.get(action="interop.fhir.imported").data["responses"] == 1

    again = fhir_import(organization=org, bundle=bundle, actor=alice, via="api")
    assert not again.ok and "already answered" in again.problems[0].reason


@pytest.mark.django_db
def test_a_response_may_name_its_patient_by_identifier_and_come_as_json_text(owed, alice, org, participant):
    bundle = _questionnaire_bundle(alice, org)
    response = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse")
    response["resource"]["subject"] = {
        "identifier": {"system": pseudonym_system(org.pk), "value": participant.pseudonym}
    }
    bundle["entry"] = [response]
    bundle["type"] = "batch"
    result = fhir_import(organization=org, bundle=json.dumps(bundle), actor=alice, via="cli")
    assert result.ok and len(result.saved) == 1


def _entry_index(bundle, kind="QuestionnaireResponse"):
    return next(n for n, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind)


@pytest.mark.django_db
def test_a_bundle_with_any_bad_entry_saves_nothing_and_lists_each_problem(owed, alice, org, participant):
    bundle = _questionnaire_bundle(alice, org)
    n = _entry_index(bundle)
    good = bundle["entry"][n]
    unknown_patient = copy.deepcopy(good)
    unknown_patient["resource"]["subject"] = {"identifier": {"system": pseudonym_system(org.pk), "value": "P-NOBODY"}}
    unknown_questionnaire = copy.deepcopy(good)
    unknown_questionnaire["resource"]["questionnaire"] = fhir.canonical_url("https://elsewhere.example", "phq9")
    bad_answer = copy.deepcopy(good)
    bad_answer["resource"]["item"][0]["answer"] = [{"valueInteger": 7}]
    bundle["entry"] += [unknown_patient, unknown_questionnaire, bad_answer]
    before = Response.objects.count()

    result = fhir_import(organization=org, bundle=bundle, actor=alice, via="api")
    assert Response.objects.count() == before and result.saved == [] and result.log is None
    problems = {p.index: p.reason for p in result.problems}
    count = len(bundle["entry"])
    assert set(problems) == {count - 3, count - 2, count - 1}  # the good entry is fine on its own
    assert problems[count - 3] == "unknown patient"
    assert problems[count - 2].startswith("unknown questionnaire")
    assert "out of range" in problems[count - 1]
    assert not ExportLog.objects.filter(kind="fhir_import").exists()


@pytest.mark.django_db
def test_another_organizations_patient_is_unknown(owed, alice, charlie, org, other_org, outsider_participant):
    enrolled_with_schedule(other_org, outsider_participant)
    bundle = _questionnaire_bundle(alice, org)
    result = fhir_import(organization=other_org, bundle=bundle, actor=charlie, via="api")
    assert [p.reason for p in result.problems] == ["unknown patient"]  # their system is not ours
    response = bundle["entry"][_entry_index(bundle)]["resource"]
    response["subject"] = {"identifier": {"system": pseudonym_system(org.pk), "value": outsider_participant.pseudonym}}
    assert fhir_import(organization=org, bundle=bundle, actor=alice, via="api").problems[0].reason == "unknown patient"


@pytest.mark.django_db
def test_invalid_json_or_fhir_is_refused_with_a_clear_reason(owed, alice, org):
    assert (
        fhir_import(organization=org, bundle="{not json", actor=alice, via="api")
        .problems[0]
        .reason.startswith("not JSON")
    )
    broken = _questionnaire_bundle(alice, org)
    broken["entry"][_entry_index(broken)]["resource"]["authored"] = "yesterday"
    reason = fhir_import(organization=org, bundle=broken, actor=alice, via="api").problems[0].reason
    assert reason.startswith("not a valid FHIR R4B Bundle") and "authored" in reason
    searchset = _questionnaire_bundle(alice, org) | {"type": "searchset"}
    assert "bundle type" in fhir_import(organization=org, bundle=searchset, actor=alice, via="api").problems[0].reason
    assert Response.objects.filter(source="import").count() == 0


@pytest.mark.django_db
def test_a_response_outside_every_open_window_is_reported_unmatched(owed, alice, org):
    bundle = _questionnaire_bundle(alice, org)
    response = bundle["entry"][_entry_index(bundle)]["resource"]
    response["authored"] = (timezone.now() - datetime.timedelta(days=200)).isoformat()
    result = fhir_import(organization=org, bundle=bundle, actor=alice, via="api")
    assert result.problems[0].reason.startswith("no open phq9 assessment")


@pytest.mark.django_db
def test_only_those_who_manage_assessments_may_import(owed, alice, bob, rita, org):
    bundle = _questionnaire_bundle(alice, org)
    for user in (bob, rita):
        with pytest.raises(PermissionDenied):
            fhir_import(organization=org, bundle=bundle, actor=user, via="api")
    assert Response.objects.filter(source="import").count() == 0
