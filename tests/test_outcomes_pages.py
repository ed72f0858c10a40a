"""Staff outcome pages: home, program due list, participant timeline, links and administration dates,
with role checks, tenant isolation and constant query counts."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.outcomes import services as outcomes
from communitas.outcomes.models import Assessment, AssessmentLink
from communitas.participants.services import participant_archive
from communitas.programs import services as programs
from communitas.programs.models import Enrollment
from tests.factories import ParticipantFactory, make_user
from tests.outcomes_helpers import enrolled_with_schedule

TIMEPOINTS = ["baseline", "post_session", "week_1", "month_1", "month_3", "month_6", "month_12"]
PHQ9_20 = [3, 3, 3, 3, 2, 2, 2, 2, 0]  # total 20, item 9 "not at all"
PHQ9_10 = [2, 2, 2, 1, 1, 1, 1, 0, 0]  # total 10
GAD7_15 = [3, 3, 3, 2, 2, 1, 1]  # total 15
TIMEPOINT_CELL = re.compile(r'data-label="Timepoint">(\w+)<')
SCORE_CELL = re.compile(r'data-label="Score">([^<]+)<')
TODAY = timezone.localdate


def _answers(values):
    return {str(n): v for n, v in enumerate(values, start=1)}


def _submit(assessment, values, days_ago=0):
    response, _created = outcomes.response_submit(
        assessment=assessment,
        answers=_answers(values),
        language="en",
        source="staff",
        submitted_at=timezone.now() - datetime.timedelta(days=days_ago),
    )
    return response


def _by_timepoint(assessments):
    return {a.timepoint: a for a in assessments}


def _program_url(program):
    return reverse("outcomes:program", args=[program.pk])


def _participant_url(participant):
    return reverse("outcomes:participant", args=[participant.pk])


def _anchor_url(program, enrollment):
    return reverse("outcomes:anchor", args=[program.pk, enrollment.pk])


def _link_url(assessment):
    return reverse("outcomes:link", args=[assessment.pk])


def _windows(enrollment):
    return sorted(
        Assessment.objects.filter(enrollment=enrollment).values_list(
            "instrument_code", "timepoint", "due_on", "opens_on", "closes_on"
        )
    )


@pytest.fixture
def planned(org, participant):
    """A PHQ-9 program, ``participant`` enrolled, administration in a week (baseline open today)."""
    program, enrollment, assessments = enrolled_with_schedule(org, participant)
    return program, enrollment, _by_timepoint(assessments)


@pytest.fixture
def unplanned(org, participant):
    """A program giving PHQ-9 and GAD-7, ``participant`` enrolled without an administration date."""
    program = programs.program_create(
        organization=org, actor=None, name="Autumn cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    outcomes.schedule_set(program=program, instrument_code="gad7", actor=None)
    enrollment = programs.enrollment_create(program=program, participant=participant, actor=None)
    return program, enrollment


# --- who may open the pages ---------------------------------------------------------------


def _staff_urls(program, participant):
    return [reverse("outcomes:home"), _program_url(program), _participant_url(participant)]


@pytest.mark.parametrize("who", ["alice_client", "bob_client"])
def test_it_shows_the_staff_pages_to_the_care_team(request, planned, participant, who):
    program, _enrollment, _assessments = planned
    client = request.getfixturevalue(who)
    home, program_page, timeline = (client.get(url) for url in _staff_urls(program, participant))
    assert home.status_code == program_page.status_code == timeline.status_code == 200
    assert program.name in home.content.decode()
    assert "Marisol Quispe" in program_page.content.decode()
    assert participant.pseudonym in timeline.content.decode()


def test_it_refuses_the_staff_pages_to_a_researcher(client, rita, planned, participant):
    program, _enrollment, _assessments = planned
    client.force_login(rita)
    for url in _staff_urls(program, participant):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "Marisol" not in r.content.decode()


def test_it_sends_anonymous_visitors_to_the_login_page(client, planned, participant):
    program, enrollment, assessments = planned
    login = reverse("accounts:login") + "?next="
    for url in _staff_urls(program, participant):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith(login), url
    before = AssessmentLink.objects.count()
    r = client.post(_link_url(assessments["baseline"]))
    assert r.status_code == 302 and r.url.startswith(login)
    r = client.post(_anchor_url(program, enrollment), {"administration_date": "2031-01-01"})
    assert r.status_code == 302 and r.url.startswith(login)
    assert AssessmentLink.objects.count() == before
    enrollment.refresh_from_db()
    assert enrollment.administration_date == TODAY() + datetime.timedelta(days=7)


# --- tenant isolation ----------------------------------------------------------------------


def test_it_hides_another_organizations_program_and_participant(charlie_client, planned, participant):
    program, _enrollment, _assessments = planned
    assert charlie_client.get(_program_url(program)).status_code == 404
    assert charlie_client.get(_participant_url(participant)).status_code == 404
    home = charlie_client.get(reverse("outcomes:home"))
    assert home.status_code == 200 and program.name not in home.content.decode()


def test_it_refuses_another_organizations_link_and_anchor_changing_nothing(charlie_client, planned):
    program, enrollment, assessments = planned
    audit_before, windows_before = AuditEntry.objects.count(), _windows(enrollment)

    r = charlie_client.post(_link_url(assessments["baseline"]))
    assert r.status_code == 404
    r = charlie_client.post(_anchor_url(program, enrollment), {"administration_date": "2031-01-01"})
    assert r.status_code == 404

    assert not AssessmentLink.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.administration_date == TODAY() + datetime.timedelta(days=7)
    assert _windows(enrollment) == windows_before
    assert AuditEntry.objects.count() == audit_before


def test_it_refuses_an_enrollment_under_another_programs_path(alice_client, org, participant, planned):
    program, _enrollment, _assessments = planned
    other_program, other_enrollment, _ = enrolled_with_schedule(org, participant, instrument="gad7")
    audit_before, windows_before = AuditEntry.objects.count(), _windows(other_enrollment)

    r = alice_client.post(_anchor_url(program, other_enrollment), {"administration_date": "2031-01-01"})

    assert r.status_code == 404
    other_enrollment.refresh_from_db()
    assert other_enrollment.administration_date == TODAY() + datetime.timedelta(days=7)
    assert _windows(other_enrollment) == windows_before
    assert AuditEntry.objects.count() == audit_before
    # the right path works, so the 404 above is about the path, not the date
    r = alice_client.post(_anchor_url(other_program, other_enrollment), {"administration_date": "2031-01-01"})
    assert r.status_code == 302
    other_enrollment.refresh_from_db()
    assert other_enrollment.administration_date == datetime.date(2031, 1, 1)


# --- roles ---------------------------------------------------------------------------------


def test_it_lets_a_facilitator_view_but_not_issue_links_or_plan(bob_client, planned, participant):
    program, enrollment, assessments = planned
    audit_before, windows_before = AuditEntry.objects.count(), _windows(enrollment)

    program_page = bob_client.get(_program_url(program)).content.decode()
    assert "Get link" not in program_page and "Plan assessments" not in program_page
    assert "Get link" not in bob_client.get(_participant_url(participant)).content.decode()
    assert bob_client.post(_link_url(assessments["baseline"])).status_code == 403
    r = bob_client.post(_anchor_url(program, enrollment), {"administration_date": "2031-01-01"})
    assert r.status_code == 403

    assert not AssessmentLink.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.administration_date == TODAY() + datetime.timedelta(days=7)
    assert _windows(enrollment) == windows_before
    assert AuditEntry.objects.count() == audit_before


def test_it_offers_coordinators_the_link_and_planning_forms(alice_client, planned, participant):
    program, _enrollment, _assessments = planned
    assert "Plan assessments" in alice_client.get(_program_url(program)).content.decode()
    assert "Get link" in alice_client.get(_participant_url(participant)).content.decode()


# --- links ---------------------------------------------------------------------------------


def test_it_creates_a_link_that_opens_the_questionnaire(alice_client, alice, planned):
    _program, _enrollment, assessments = planned
    baseline = assessments["baseline"]

    r = alice_client.post(_link_url(baseline))

    assert r.status_code == 200
    url = html.unescape(re.search(r'id="participant-link">([^<]+)<', r.content.decode()).group(1))
    assert url.startswith("http://testserver/a/")
    link = AssessmentLink.objects.get()
    assert link.assessment == baseline
    opened = Client().get(url.removeprefix("http://testserver"))
    assert opened.status_code == 200
    assert "Poco interés o placer en hacer cosas" in opened.content.decode()  # PHQ-9 in her language
    entry = AuditEntry.objects.get(action="outcomes.link.created")
    assert (entry.actor_id, entry.object_id, entry.data["assessment"]) == (alice.pk, str(link.pk), baseline.pk)


def test_it_refuses_a_link_to_an_unknown_assessment(alice_client):
    assert alice_client.post(_link_url(Assessment(pk=999_999))).status_code == 404
    assert not AssessmentLink.objects.exists()


def test_it_refuses_a_link_by_get(alice_client, planned):
    _program, _enrollment, assessments = planned
    assert alice_client.get(_link_url(assessments["baseline"])).status_code == 405
    assert not AssessmentLink.objects.exists()


# --- administration date -------------------------------------------------------------------


def test_it_plans_seven_assessments_per_scheduled_instrument(alice_client, alice, unplanned):
    program, enrollment = unplanned
    day = TODAY() + datetime.timedelta(days=10)

    r = alice_client.post(_anchor_url(program, enrollment), {"administration_date": day.isoformat()}, follow=True)

    assert r.status_code == 200
    assert "14 assessments planned." in r.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.administration_date == day
    for code in ("phq9", "gad7"):
        rows = Assessment.objects.filter(enrollment=enrollment, instrument_code=code)
        assert sorted(rows.values_list("timepoint", flat=True)) == sorted(TIMEPOINTS)
        assert rows.get(timepoint="baseline").due_on == day - datetime.timedelta(days=7)
        assert rows.get(timepoint="month_12").due_on == day + datetime.timedelta(days=365)
    assert AuditEntry.objects.filter(action="outcomes.assessments.planned", actor_id=alice.pk).count() == 1


def test_it_moves_unanswered_assessments_but_not_answered_ones(alice_client, unplanned):
    program, enrollment = unplanned
    first = TODAY() + datetime.timedelta(days=7)
    alice_client.post(_anchor_url(program, enrollment), {"administration_date": first.isoformat()})
    answered = Assessment.objects.get(enrollment=enrollment, instrument_code="phq9", timepoint="baseline")
    _submit(answered, PHQ9_20)
    answered_window = (answered.due_on, answered.opens_on, answered.closes_on)

    later = first + datetime.timedelta(days=14)
    r = alice_client.post(_anchor_url(program, enrollment), {"administration_date": later.isoformat()})

    assert r.status_code == 302
    assert Assessment.objects.filter(enrollment=enrollment).count() == 14
    answered.refresh_from_db()
    assert (answered.due_on, answered.opens_on, answered.closes_on) == answered_window
    gad7_baseline = Assessment.objects.get(enrollment=enrollment, instrument_code="gad7", timepoint="baseline")
    assert gad7_baseline.due_on == later - datetime.timedelta(days=7)
    assert gad7_baseline.opens_on == later - datetime.timedelta(days=28)
    phq9_week1 = Assessment.objects.get(enrollment=enrollment, instrument_code="phq9", timepoint="week_1")
    assert (phq9_week1.due_on, phq9_week1.closes_on) == (
        later + datetime.timedelta(days=7),
        later + datetime.timedelta(days=11),
    )


@pytest.mark.parametrize("value", ["", "not a date", "2031-02-30", "31/01/2031"])
def test_it_changes_nothing_for_an_invalid_date(alice_client, planned, value):
    program, enrollment, _assessments = planned
    audit_before, windows_before = AuditEntry.objects.count(), _windows(enrollment)

    r = alice_client.post(_anchor_url(program, enrollment), {"administration_date": value}, follow=True)

    assert r.status_code == 200
    assert "Enter a valid date." in r.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.administration_date == TODAY() + datetime.timedelta(days=7)
    assert _windows(enrollment) == windows_before
    assert AuditEntry.objects.count() == audit_before


# --- the participant timeline --------------------------------------------------------------


@pytest.fixture
def answered_twice(org, participant, planned):
    """PHQ-9 20 then 10, GAD-7 15 once."""
    _program, _enrollment, phq9 = planned
    _gad_program, _gad_enrollment, gad7 = enrolled_with_schedule(org, participant, instrument="gad7")
    _submit(phq9["baseline"], PHQ9_20, days_ago=20)
    _submit(phq9["week_1"], PHQ9_10, days_ago=2)
    _submit(_by_timepoint(gad7)["baseline"], GAD7_15, days_ago=20)


def _sections(page):
    """{instrument name: section html} of the timeline."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<section class="card">\s*<h2>([^<]+)</h2>(.*?)</section>', page, re.S)
    }


def test_it_shows_each_instruments_scores_with_a_chart(alice_client, participant, answered_twice):
    page = alice_client.get(_participant_url(participant)).content.decode()
    sections = _sections(page)

    assert set(sections) == {"Patient Health Questionnaire-9", "Generalized Anxiety Disorder-7"}
    phq9, gad7 = sections["Patient Health Questionnaire-9"], sections["Generalized Anxiety Disorder-7"]
    assert SCORE_CELL.findall(phq9) == ["20", "10"]
    assert SCORE_CELL.findall(gad7) == ["15"]
    assert phq9.count('<svg class="chart"') == gad7.count('<svg class="chart"') == 1
    assert phq9.count('<circle class="point"') == 2 and gad7.count('<circle class="point"') == 1
    assert TIMEPOINT_CELL.findall(phq9) == ["baseline", "week_1"]
    assert 'data-label="Band">Severe<' in phq9 and 'data-label="Band">Moderate<' in phq9


def test_it_shows_reliable_change_from_the_first_response(alice_client, participant, answered_twice):
    sections = _sections(alice_client.get(_participant_url(participant)).content.decode())
    phq9 = sections["Patient Health Questionnaire-9"]
    changes = re.findall(r'data-label="Change from first">(.*?)</td>', phq9, re.S)

    assert changes[0] == "—"  # the first response has nothing to compare with
    assert changes[1].startswith("-10 (reliably_improved")
    assert "no_reliable_change" not in phq9
    assert "reliably_improved" not in sections["Generalized Anxiety Disorder-7"]


def test_it_shows_no_reliable_change_for_a_small_difference(alice_client, participant, planned):
    _program, _enrollment, phq9 = planned
    _submit(phq9["baseline"], PHQ9_20, days_ago=20)
    _submit(phq9["week_1"], [3, 3, 3, 2, 2, 2, 2, 0, 0], days_ago=2)  # 17: 3 points < 5.61
    page = alice_client.get(_participant_url(participant)).content.decode()
    assert "(no_reliable_change" in page and "reliably_improved" not in page


def test_it_never_shows_another_organizations_data(
    alice_client, charlie, other_org, outsider_participant, participant, answered_twice
):
    _program, _enrollment, theirs = enrolled_with_schedule(other_org, outsider_participant)
    _submit(_by_timepoint(theirs)["baseline"], [1, 1, 1, 1, 1, 1, 1, 0, 0], days_ago=5)  # total 7, "mild"

    page = alice_client.get(_participant_url(participant)).content.decode()

    assert SCORE_CELL.findall(page) == ["20", "10", "15"]
    assert "Dale Whitcomb" not in page and outsider_participant.pseudonym not in page
    assert 'data-label="Band">Mild<' not in page
    assert alice_client.get(_participant_url(outsider_participant)).status_code == 404


def test_it_says_when_there_are_no_answers_yet(alice_client, participant, planned):
    page = alice_client.get(_participant_url(participant)).content.decode()
    assert "No questionnaire answers yet." in page and '<svg class="chart"' not in page
    assert sorted(TIMEPOINT_CELL.findall(page)) == sorted(TIMEPOINTS)  # the planned assessments


# --- the program's due list ----------------------------------------------------------------


def test_it_lists_open_and_overdue_assessments_only(alice_client, org, participant):
    program, _enrollment, assessments = enrolled_with_schedule(
        org, participant, administration=TODAY() - datetime.timedelta(days=30)
    )
    # baseline, post_session, week_1 are overdue; month_1 is open; month_3+ are upcoming
    _submit(_by_timepoint(assessments)["baseline"], PHQ9_10)
    cancelled = _by_timepoint(assessments)["post_session"]
    Assessment.objects.filter(pk=cancelled.pk).update(cancelled_at=timezone.now())

    page = alice_client.get(_program_url(program)).content.decode()
    due_table = page.split("<h2>Enrolments</h2>")[0]

    assert TIMEPOINT_CELL.findall(due_table) == ["week_1", "month_1"]
    assert due_table.count('<span class="pill urgent">overdue</span>') == 1
    assert due_table.count('<span class="pill open">open</span>') == 1
    assert "completed" not in due_table and "upcoming" not in due_table


def test_it_lists_only_its_own_programs_assessments(alice_client, org, participant, planned):
    program, _enrollment, _assessments = planned
    enrolled_with_schedule(org, participant, instrument="gad7")
    due_table = alice_client.get(_program_url(program)).content.decode().split("<h2>Enrolments</h2>")[0]
    assert TIMEPOINT_CELL.findall(due_table) == ["baseline"]
    assert "PHQ9" in due_table and "GAD7" not in due_table


# --- query counts --------------------------------------------------------------------------


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_it_shows_a_timeline_of_1_or_6_responses_per_instrument_in_the_same_number_of_queries(
    alice_client, org, participant, planned, django_assert_num_queries
):
    _program, _enrollment, phq9 = planned
    _gad, _gad_enrollment, gad7 = enrolled_with_schedule(org, participant, instrument="gad7")
    gad7 = _by_timepoint(gad7)
    _submit(phq9["baseline"], PHQ9_20, days_ago=60)
    _submit(gad7["baseline"], GAD7_15, days_ago=60)
    url = _participant_url(participant)
    alice_client.get(url)  # warm up per-process caches
    baseline, one = _count_queries(alice_client, url)
    assert len(SCORE_CELL.findall(one)) == 2

    for days_ago, timepoint in enumerate(TIMEPOINTS[1:6], start=1):
        _submit(phq9[timepoint], PHQ9_10, days_ago=days_ago)
        _submit(gad7[timepoint], GAD7_15, days_ago=days_ago)
    with django_assert_num_queries(baseline):
        six = alice_client.get(url)

    assert len(SCORE_CELL.findall(six.content.decode())) == 12
    assert six.content.decode().count("reliably_improved") == 5


def _enrol(org, program, count, start=0):
    for i in range(start, start + count):
        person = ParticipantFactory(organization=org, display_name=f"Rowan Quispe {i}")
        enrollment = programs.enrollment_create(program=program, participant=person, actor=None)
        planned = outcomes.enrollment_anchor_set(
            enrollment=enrollment, administration_date=TODAY() + datetime.timedelta(days=7), actor=None
        )
        if i % 2:
            _submit(next(a for a in planned if a.timepoint == "baseline"), PHQ9_10)


def test_it_shows_a_program_of_2_or_10_enrolments_in_the_same_number_of_queries(
    alice_client, org, django_assert_num_queries
):
    program = programs.program_create(
        organization=org, actor=None, name="Winter cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    _enrol(org, program, 2)
    url = _program_url(program)
    alice_client.get(url)
    baseline, two = _count_queries(alice_client, url)
    assert two.count("Rowan Quispe") == 2 + 1  # two enrolments, one open baseline

    _enrol(org, program, 8, start=2)
    with django_assert_num_queries(baseline):
        ten = alice_client.get(url)

    assert ten.content.decode().count("Rowan Quispe") == 10 + 5


def test_it_shows_the_outcomes_home_in_the_same_number_of_queries_however_many_programs(
    alice_client, org, participant, django_assert_num_queries, settings
):
    settings.COMMUNITAS_DASHBOARD_MAX_AGE = 0  # the costlier path: every view counts again
    enrolled_with_schedule(org, participant)
    url = reverse("outcomes:home")
    alice_client.get(url)
    baseline, _ = _count_queries(alice_client, url)
    for code in ("gad7", "who5", "pcl5"):
        enrolled_with_schedule(org, participant, instrument=code)
    with django_assert_num_queries(baseline):
        page = alice_client.get(url)
    assert page.content.decode().count('href="/outcomes/programs/') == 4


def test_it_counts_open_and_overdue_assessments_on_the_home_page(alice_client, org, participant):
    program, _enrollment, _ = enrolled_with_schedule(
        org, participant, administration=TODAY() - datetime.timedelta(days=30)
    )
    other = ParticipantFactory(organization=org, display_name="Rowan Quispe")
    programs.enrollment_create(program=program, participant=other, actor=None)
    page = alice_client.get(reverse("outcomes:home")).content.decode()
    row = re.search(rf"{program.name}</a></td>(.*?)</tr>", page, re.S).group(1)
    assert 'data-label="Enrolled">2<' in row
    assert 'data-label="Open now">1<' in row  # month_1
    assert '<span class="pill urgent">3</span>' in row  # baseline, post_session, week_1


def test_it_leaves_archived_participants_off_the_program_lists(alice_client, alice, org, participant, planned):
    program, enrollment, _assessments = planned
    rowan = ParticipantFactory(organization=org, display_name="Rowan Quispe")
    outcomes.enrollment_anchor_set(
        enrollment=programs.enrollment_create(program=program, participant=rowan, actor=None),
        administration_date=TODAY() + datetime.timedelta(days=7),
        actor=None,
    )
    participant_archive(participant=participant, actor=alice)
    windows_before = _windows(enrollment)

    page = alice_client.get(_program_url(program)).content.decode()
    assert "Rowan Quispe" in page and "Marisol" not in page
    assert _participant_url(participant) not in page and _anchor_url(program, enrollment) not in page
    home = alice_client.get(reverse("outcomes:home")).content.decode()
    row = re.search(rf"{program.name}</a></td>(.*?)</tr>", home, re.S).group(1)
    assert 'data-label="Enrolled">1<' in row and 'data-label="Open now">1<' in row
    r = alice_client.post(_anchor_url(program, enrollment), {"administration_date": "2031-01-01"})
    assert r.status_code == 404
    assert _windows(enrollment) == windows_before


def test_it_keeps_enrollment_rows_to_the_program(alice_client, org, participant, planned):
    program, enrollment, _assessments = planned
    _other, other_enrollment, _ = enrolled_with_schedule(org, participant, instrument="gad7")
    page = alice_client.get(_program_url(program)).content.decode()
    assert _anchor_url(program, enrollment) in page
    assert f"/enrollments/{other_enrollment.pk}/" not in page
    assert Enrollment.objects.filter(participant=participant).count() == 2


def test_it_treats_a_deactivated_coordinator_as_nobody(client, org, planned, participant):
    dana = make_user(org, Membership.Role.COORDINATOR, email="dana@cascadia.example")
    Membership.objects.filter(user=dana).update(is_active=False)
    client.force_login(dana)
    _program, _enrollment, assessments = planned
    assert client.get(_participant_url(participant)).status_code == 403
    assert client.post(_link_url(assessments["baseline"])).status_code == 403
    assert not AssessmentLink.objects.exists()
