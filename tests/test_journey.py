"""A person registers from an invitation, consents, completes intake, is screened, and a
clinician's decision plus the required documents make them ready."""

import pytest
from django.test import Client

from communitas.accounts.models import Membership
from communitas.participants.models import ConsentDecision, ConsentSignature, Participant
from communitas.participants.selectors import research_participants
from communitas.programs.models import Enrollment
from communitas.programs.selectors import enrollment_readiness
from communitas.safety.models import Intake, SafetyAlert, Screening, ScreeningDecision
from communitas.safety.screening_selectors import screening_status
from tests.journey_helpers import CLEAN_INTAKE, invitation_path, oregon_program


@pytest.fixture
def program(org, alice):
    program, _document = oregon_program(org)
    return program


def _register(path, **identity):
    person = Client()
    data = {"display_name": "Rosa Tupa", "email": "rosa@example.net", "preferred_language": "es", **identity}
    r = person.post(path, data)
    assert r.status_code == 302, r.content.decode()[:500]
    return person


def _consent(person, path, scopes=("participation", "research")):
    data = {"typed_name": "Rosa Tupa", **{f"scope_{s}": "on" for s in scopes}}
    return person.post(path + "consent/", data)


def test_it_walks_a_person_from_invitation_to_screening(alice_client, program, org):
    path = invitation_path(alice_client, program)
    person = _register(path)
    assert person.get(path).url.endswith("/consent/")
    assert _consent(person, path).status_code == 302
    r = person.post(path + "intake/", {**CLEAN_INTAKE, "medications": "Zoloft 50 mg", "action": "submit"})
    assert r.status_code == 302 and r.url.endswith("/done/")
    participant = Participant.objects.get(organization=org)
    enrollment = Enrollment.objects.get(participant=participant)
    assert enrollment.status == "applicant"
    screening = Screening.objects.get(participant=participant)
    assert screening.outcome == "eligible" and screening.rule_ids == ["D3"]  # SSRI caution only
    assert ConsentSignature.objects.get().document_hash == program.consent_documents.get().body_hash
    assert list(research_participants(org.pk)) == [participant]


def test_it_keeps_intake_answers_across_visits_and_refuses_impossible_ones(alice_client, program):
    path = invitation_path(alice_client, program)
    person = _register(path)
    _consent(person, path)
    person.post(path + "intake/save", {"date_of_birth": "1990-01-01", "medications": "lithium"})
    page = person.get(path + "intake/").content.decode()
    assert 'value="1990-01-01"' in page and ">lithium</textarea>" in page
    r = person.post(path + "intake/", {**CLEAN_INTAKE, "date_of_birth": "2090-01-01", "action": "submit"})
    assert r.status_code == 400
    assert not Screening.objects.exists() and Intake.objects.get().status == "draft"


def test_a_required_consent_cannot_be_skipped(alice_client, program):
    path = invitation_path(alice_client, program)
    person = _register(path)
    r = _consent(person, path, scopes=("research",))
    assert r.status_code == 400
    assert not ConsentSignature.objects.exists()
    assert person.get(path + "intake/").status_code == 302  # sent back to consent


def test_withdrawing_research_consent_removes_the_person_from_research_reads(alice_client, program, org):
    from communitas.participants.services import consent_withdraw

    path = invitation_path(alice_client, program)
    _consent(_register(path), path)
    participant = Participant.objects.get(organization=org)
    assert list(research_participants(org.pk)) == [participant]
    consent_withdraw(participant=participant, scope="research")
    assert list(research_participants(org.pk)) == []
    assert ConsentDecision.objects.get(scope="research").withdrawn_at is not None


def test_a_clinician_clears_a_review_and_documents_make_the_person_ready(alice_client, program, org, alice):
    path = invitation_path(alice_client, program)
    person = _register(path)
    _consent(person, path)
    person.post(path + "intake/", {**CLEAN_INTAKE, "conditions": ["seizure_disorder"], "action": "submit"})
    participant = Participant.objects.get(organization=org)
    enrollment = Enrollment.objects.get(participant=participant)
    assert screening_status(participant, "psilocybin").outcome == "needs_review"
    page = alice_client.get(f"/programs/{program.pk}/enrollments/{enrollment.pk}/").content.decode()
    assert "N1" in page and "FRN23" in page
    decide = {
        "decision": "clear",
        "rule_ids": ["N1"],
        "reason": "Seizure-free for 12 years off medication; neurologist agrees.",
    }
    url = f"/programs/{program.pk}/enrollments/{enrollment.pk}/decide/"
    assert alice_client.post(url, decide).status_code == 403  # alice is not a clinician
    Membership.objects.filter(user=alice).update(is_clinician=True)
    assert alice_client.post(url, decide).status_code == 302
    assert screening_status(participant, "psilocybin").outcome == "eligible"
    assert enrollment_readiness(enrollment).status == "not_ready"
    for kind in ("client_information_form", "transportation_plan", "safety_support_plan", "sb303_opt_out_offered"):
        alice_client.post(f"/programs/{program.pk}/enrollments/{enrollment.pk}/document/", {"kind": kind})
    assert enrollment_readiness(enrollment).status == "ready"
    assert ScreeningDecision.objects.get().decided_by == alice


def test_high_risk_answers_exclude_escalate_and_show_crisis_resources(alice_client, program, org, alice):
    path = invitation_path(alice_client, program)
    person = _register(path)
    _consent(person, path)
    r = person.post(
        path + "intake/", {**CLEAN_INTAKE, "harm_ideation": "yes", "phq9_item9": "2", "action": "submit"}, follow=True
    )
    assert "988" in r.content.decode()
    screening = Screening.objects.get()
    assert screening.outcome == "excluded" and screening.escalate
    assert SafetyAlert.objects.filter(flag="screening_escalation").count() == 1


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "zz", lambda t: "x" + t])
def test_a_tampered_invitation_stores_nothing(alice_client, program, mangle):
    path = invitation_path(alice_client, program)
    token = path.strip("/").split("/")[-1]
    bad = f"/join/{mangle(token)}/"
    r = Client().post(bad, {"display_name": "X Y", "email": "x@example.net", "preferred_language": "en"})
    assert r.status_code == 404
    assert not Participant.objects.exists()


def test_it_reads_none_as_no_medication():
    import datetime

    from communitas.safety.screening.intake_form import to_screening

    answers = to_screening(
        {"date_of_birth": "1980-01-01", "medications": "None\nninguno\n", "phq9_item9": "0"},
        today=datetime.date(2026, 11, 26),
    )
    assert answers.medications == [] and answers.age == 46


def test_the_roster_shows_status_only_in_constant_queries(org, alice, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from communitas.programs.selectors import roster
    from communitas.programs.services import enrollment_create
    from tests.factories import ParticipantFactory

    program, _document = oregon_program(org, name="Roster")

    def count(n):
        for _ in range(n):
            enrollment_create(program=program, participant=ParticipantFactory(organization=org), actor=None)
        with CaptureQueriesContext(connection) as ctx:
            statuses = [status for _e, status in roster(program)]
        return len(ctx.captured_queries), statuses

    few, statuses = count(2)
    many, statuses = count(10)
    assert few == many and statuses == ["not_ready"] * 12


def test_the_roster_page_shows_no_clinical_reasons(org, alice, program):
    from django.test import Client

    from communitas.programs.services import enrollment_create
    from tests.factories import ParticipantFactory, make_user

    enrollment_create(
        program=program, participant=ParticipantFactory(organization=org, display_name="Ana Q"), actor=None
    )
    staff = Client()
    staff.force_login(make_user(org, Membership.Role.HOSPITALITY, email="host@cascadia.example"))
    page = staff.get(f"/programs/{program.pk}/roster/").content.decode()
    assert "Ana Q" in page and "not ready" in page and "screening_" not in page
    assert staff.get(f"/programs/{program.pk}/").status_code == 403
    assert staff.get("/participants/").status_code == 403


def test_a_participant_withdraws_research_consent_from_their_link(alice_client, program, org):
    path = invitation_path(alice_client, program)
    person = _register(path)
    _consent(person, path, scopes=("participation", "research", "supportive_touch"))
    person.post(path + "intake/", {**CLEAN_INTAKE, "action": "submit"})
    participant = Participant.objects.get(organization=org)
    assert list(research_participants(org.pk)) == [participant]
    page = person.get(path + "done/").content.decode()
    assert 'value="research"' in page
    assert person.post(path + "withdraw/", {"scope": "research"}).status_code == 302
    assert list(research_participants(org.pk)) == []
    assert person.post(path + "withdraw/", {"scope": "everything"}).status_code == 400
    detail = alice_client.get(f"/participants/{participant.pk}/").content.decode()
    assert "Consents" in detail
