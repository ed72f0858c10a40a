"""Pages that list a program's people stay bounded as programs grow: the roster is paged and its
readiness computed per page, a circle's member picker offers its retreat's people, a retreat's
"Add" list offers people in no retreat. (Found by the load benchmark at 100,000 participants.)"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communitas.programs import session_services
from communitas.programs.services import enrollment_create
from tests.factories import ParticipantFactory
from tests.journey_helpers import oregon_program

pytestmark = pytest.mark.django_db

ENROLMENT_LINK = re.compile(r'href="/programs/\d+/enrollments/\d+/"')


def _enrol(program, actor, count, start=0):
    people = []
    for i in range(start, start + count):
        person = ParticipantFactory(organization=program.organization, display_name=f"Member {i:03d}")
        enrollment_create(program=program, participant=person, actor=actor)
        people.append(person)
    return people


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_program_page_pages_its_roster_in_the_same_number_of_queries(org, alice, alice_client):
    program, _document = oregon_program(org)
    url = reverse("programs:detail", args=[program.pk])
    _enrol(program, alice, 3)
    alice_client.get(url)
    few, html_few = _queries(alice_client, url)

    _enrol(program, alice, 57, start=3)
    many, html_many = _queries(alice_client, url)

    assert many == few
    assert len(ENROLMENT_LINK.findall(html_few)) == 3
    assert len(ENROLMENT_LINK.findall(html_many)) == 50
    assert "Page 1 of 2 (60 enrolments)" in html_many
    second = alice_client.get(url + "?page=2").content.decode()
    assert len(ENROLMENT_LINK.findall(second)) == 10


def test_the_roster_api_counts_everyone_and_computes_readiness_for_its_page(org, alice, alice_client, alice_api):
    program, _document = oregon_program(org)
    _enrol(program, alice, 7)

    body = alice_client.get(f"/api/v1/programs/{program.pk}/roster?limit=3&offset=5", **alice_api).json()

    assert body["count"] == 7
    assert len(body["items"]) == 2
    assert {item["readiness"] for item in body["items"]} <= {"ready", "not_ready", "paused"}


def test_a_retreat_circle_offers_its_retreat_the_unplaced_and_its_members_not_other_retreats(org, alice, alice_client):
    program, _document = oregon_program(org)
    today = datetime.date.today()
    retreat, other = (
        session_services.retreat_create(
            program=program, actor=alice, name=name, starts_on=today, ends_on=today, capacity=10
        )
        for name in ("Autumn", "Winter")
    )
    in_retreat, elsewhere, unplaced = (
        _enrol(program, alice, 3),
        _enrol(program, alice, 4, start=3),
        _enrol(program, alice, 2, start=7),
    )
    for person in in_retreat:
        session_services.retreat_enroll(retreat=retreat, participant=person, actor=alice)
    for person in elsewhere:
        session_services.retreat_enroll(retreat=other, participant=person, actor=alice)
    circle = session_services.circle_create(program=program, actor=alice, name="Cedar", retreat=retreat)
    session_services.circle_set_members(circle=circle, actor=alice, participants=[elsewhere[0]], facilitators=[])

    html = alice_client.get(reverse("programs:circle", args=[program.pk, circle.pk])).content.decode()

    offered = {int(pk) for pk in re.findall(r'name="members" value="(\d+)"', html)}
    assert offered == {p.pk for p in [*in_retreat, *unplaced, elsewhere[0]]}


def test_a_retreat_offers_people_in_no_retreat_yet(org, alice, alice_client):
    program, _document = oregon_program(org)
    today = datetime.date.today()
    first, second = (
        session_services.retreat_create(
            program=program, actor=alice, name=name, starts_on=today, ends_on=today, capacity=10
        )
        for name in ("Autumn", "Winter")
    )
    placed, free = _enrol(program, alice, 2), _enrol(program, alice, 3, start=2)
    session_services.retreat_enroll(retreat=first, participant=placed[0], actor=alice)
    session_services.retreat_enroll(retreat=second, participant=placed[1], actor=alice)

    html = alice_client.get(reverse("programs:retreat", args=[program.pk, first.pk])).content.decode()

    offered = {int(pk) for pk in re.findall(r'<option value="(\d+)"', html)}
    assert offered == {p.pk for p in free}


# --- outcomes worklists ---------------------------------------------------------------------------

PHQ9_ZEROS = {str(n): 0 for n in range(1, 10)}


def _planned(org, participant, days_ago):
    from tests.outcomes_helpers import enrolled_with_schedule

    return enrolled_with_schedule(
        org, participant, administration=datetime.date.today() - datetime.timedelta(days=days_ago)
    )


def test_a_submitted_response_marks_its_assessment_answered(org, participant):
    from communitas.outcomes import services as outcomes

    _program, _enrollment, assessments = _planned(org, participant, 30)
    baseline = next(a for a in assessments if a.timepoint == "baseline")
    response, _created = outcomes.response_submit(
        assessment=baseline, answers=PHQ9_ZEROS, language="en", source="staff"
    )
    baseline.refresh_from_db()
    assert baseline.responded_at == response.submitted_at


def test_the_home_page_reads_stored_counts_until_they_are_stale(org, participant, alice_client, settings):
    from communitas.outcomes import services as outcomes
    from communitas.outcomes.models import ProgramAssessmentCounts

    program, _enrollment, assessments = _planned(org, participant, 30)
    home = alice_client.get(reverse("outcomes:home")).content.decode()
    assert "Counts as of" in home
    stored = ProgramAssessmentCounts.objects.get(program=program)
    assert (stored.enrolled, stored.open_now, stored.overdue) == (1, 1, 3)

    overdue = next(a for a in assessments if a.timepoint == "week_1")
    outcomes.response_submit(assessment=overdue, answers=PHQ9_ZEROS, language="en", source="staff")
    alice_client.get(reverse("outcomes:home"))
    assert ProgramAssessmentCounts.objects.get(program=program).overdue == 3  # still the stored counts

    settings.COMMUNITAS_DASHBOARD_MAX_AGE = 0
    alice_client.get(reverse("outcomes:home"))
    assert ProgramAssessmentCounts.objects.get(program=program).overdue == 2


def test_questionnaires_overdue_for_months_leave_the_worklists_but_not_the_participant_page(
    org, participant, alice_client
):
    from communitas.outcomes.selectors import OVERDUE_WINDOW_DAYS

    program, _enrollment, _assessments = _planned(org, participant, 200)
    due_list = alice_client.get(reverse("outcomes:program", args=[program.pk])).content.decode()
    due_list = due_list.split("<h2>Schedule</h2>")[0]
    own_page = alice_client.get(reverse("outcomes:participant", args=[participant.pk])).content.decode()

    # at 200 days, baseline..month_3 closed more than OVERDUE_WINDOW_DAYS ago; month_6 is recent
    assert OVERDUE_WINDOW_DAYS == 90
    assert "month_6" in due_list and "baseline" not in due_list
    assert "baseline" in own_page


def test_the_due_list_and_the_enrolments_are_paged(org, alice, alice_client):
    from communitas.outcomes import services as outcomes
    from tests.journey_helpers import oregon_program

    program, _document = oregon_program(org)
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    day = datetime.date.today() - datetime.timedelta(days=30)
    for person in _enrol(program, alice, 55):
        enrollment = person.enrollments.get(program=program)
        outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=day, actor=None)
    url = reverse("outcomes:program", args=[program.pk])

    first = alice_client.get(url).content.decode()
    later = alice_client.get(url + "?page=2").content.decode()

    due = first.split("<h2>Schedule</h2>")[0]
    assert len(re.findall(r'action="/outcomes/assessments/\d+/link/"', due)) == 50
    assert '?due=2">Next' in first
    assert len(re.findall(r'name="administration_date"', later)) == 5
    # an unusable page number is the first page, never an error
    odd = alice_client.get(url + "?due=abc&page=-3")
    assert odd.status_code == 200 and odd.content.decode().count('name="administration_date"') == 50
