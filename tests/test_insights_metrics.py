"""The numbers behind a program's insights dashboard (``insights.metrics``): the cohort, the
funnel, assessment progress, attrition, mean and reliable change, circle attendance; each in a
fixed number of queries, each blind to other organizations, none carrying identity."""

import datetime

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy import stats

from communitas.insights import metrics
from communitas.insights.effects import within_change_d
from communitas.outcomes import services as outcomes
from communitas.participants.models import Participant
from communitas.participants.services import consent_sign
from communitas.programs.models import Attendance, Session
from communitas.programs.selectors import required_documents
from communitas.programs.services import document_complete, enrollment_create, enrollment_set_status
from communitas.programs.session_services import circle_create, circle_set_members
from communitas.safety import screening_services as screening
from tests.factories import ParticipantFactory
from tests.journey_helpers import oregon_program

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ADULT, MINOR = "1980-05-05", "2012-05-05"  # under 21: excluded from Oregon psilocybin services


def phq9(total: int) -> dict:
    """PHQ-9 answers adding up to ``total`` (item 9, the safety item, always 0)."""
    answers = {str(n): 0 for n in range(1, 10)}
    for n in range(1, 9):
        answers[str(n)] = min(3, total)
        total -= answers[str(n)]
    assert total == 0
    return answers


def study_program(org, name="Spring cohort"):
    program, document = oregon_program(org, name=name)
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    return program, document


def person(program, document, actor, *, research=True, born=None, ready=False, name=None):
    """A participant enrolled in ``program``: consented (research or not), screened when ``born``
    is given, with every required document when ``ready``."""
    someone = ParticipantFactory(organization=program.organization, **({"display_name": name} if name else {}))
    enrollment = enrollment_create(program=program, participant=someone, actor=actor)
    granted = {"participation", "research"} if research else {"participation"}
    consent_sign(participant=someone, document=document, typed_name=someone.display_name, granted=granted, via="staff")
    if born:
        intake = screening.intake_start(participant=someone, substance="psilocybin", jurisdiction="US-OR")
        screening.intake_save(intake=intake, answers={"date_of_birth": born, "phq9_item9": "0"})
        screening.intake_submit(intake=intake)
    if ready:
        for doc in required_documents(program):
            document_complete(enrollment=enrollment, kind=doc["kind"], actor=actor)
    return someone, enrollment


def anchor(enrollment, day):
    planned = outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=day, actor=None)
    return {a.timepoint: a for a in planned}


def answer(assessments, timepoint, total):
    outcomes.response_submit(assessment=assessments[timepoint], answers=phq9(total), language="en", source="staff")


def session(program, kind, *, days, status="completed", circle=None, attendance=()):
    start = timezone.now() + datetime.timedelta(days=days)
    row = Session.objects.create(
        organization_id=program.organization_id,
        program=program,
        circle=circle,
        kind=kind,
        title="Session",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        status=status,
    )
    for someone, state in attendance:
        Attendance.objects.create(
            organization_id=program.organization_id, session=row, participant=someone, status=state
        )
    return row


# -- the cohort and the funnel -------------------------------------------------------------------


@pytest.fixture
def journey(org, alice):
    """Seven people, each one stage further than the one before (see the funnel test)."""
    program, document = study_program(org)
    applicant, enrolment = person(program, document, alice, research=False)
    enrollment_set_status(enrollment=enrolment, status="applicant", actor=alice)
    minor, _ = person(program, document, alice, born=MINOR)
    cleared, _ = person(program, document, alice, born=ADULT)
    ready, _ = person(program, document, alice, born=ADULT, ready=True)
    attended, attended_enrolment = person(program, document, alice, born=ADULT, ready=True)
    waves = anchor(attended_enrolment, TODAY + datetime.timedelta(days=5))  # future date: dosed by attendance
    answer(waves, "baseline", 12)
    answer(waves, "post_session", 6)
    enrollment_set_status(enrollment=attended_enrolment, status="completed", actor=alice)
    dated, dated_enrolment = person(program, document, alice, born=ADULT, ready=True)
    answer(anchor(dated_enrolment, TODAY - datetime.timedelta(days=40)), "baseline", 15)
    left_early, left_early_enrolment = person(program, document, alice, born=ADULT, ready=True)
    enrollment_set_status(enrollment=left_early_enrolment, status="completed", actor=alice)
    session(program, "administration", days=-2, attendance=[(attended, "attended"), (left_early, "left_early")])
    session(program, "administration", days=-2, attendance=[(ready, "absent")])
    people = [applicant, minor, cleared, ready, attended, dated, left_early]
    return program, document, people


def test_the_cohort_is_the_enrolled_people_and_research_only_keeps_research_consent(journey):
    program, _document, people = journey
    applicant = people[0]
    everyone = metrics.cohort_ids(program, research_only=False)
    assert everyone == sorted(p.pk for p in people)
    assert metrics.cohort_ids(program, research_only=True) == sorted(p.pk for p in people if p != applicant)
    Participant.objects.filter(pk=people[1].pk).update(archived_at=timezone.now())
    assert people[1].pk not in metrics.cohort_ids(program, research_only=False)


def test_the_funnel_narrows_stage_by_stage(journey):
    program, _document, people = journey
    stages = metrics.funnel(program, [p.pk for p in people], today=TODAY)
    assert [(s["code"], s["count"], s["of"]) for s in stages] == [
        ("enrolled", 7, None),
        ("screened", 6, "enrolled"),  # the applicant never screened
        ("cleared", 5, "screened"),  # the minor is excluded
        ("ready", 4, "cleared"),  # one cleared person lacks documents; completed people count as beyond ready
        ("administered", 3, "ready"),  # attended, left early, or an administration date in the past
        ("baseline", 2, "administered"),
        ("followup", 1, "baseline"),
        ("completed", 2, "administered"),
    ]
    assert str(stages[2]["label"]) == "Cleared by screening"


def test_the_funnel_reads_the_instrument_it_is_given(journey):
    program, _document, people = journey
    stages = {s["code"]: s["count"] for s in metrics.funnel(program, [p.pk for p in people], instrument="gad7")}
    assert (stages["administered"], stages["baseline"], stages["followup"]) == (3, 0, 0)


# -- assessments ---------------------------------------------------------------------------------


@pytest.fixture
def waves(org, alice):
    """Three people dosed on day D; today is D+6: baseline and post-session have closed, week 1 is
    open, month 1 onwards not yet."""
    program, document = study_program(org)
    day = TODAY - datetime.timedelta(days=6)
    people, plans = [], []
    for _n in range(3):
        someone, enrolment = person(program, document, alice)
        people.append(someone)
        plans.append(anchor(enrolment, day))
    answer(plans[0], "baseline", 10)
    answer(plans[0], "post_session", 8)
    answer(plans[0], "week_1", 7)
    answer(plans[1], "baseline", 14)
    return program, people, plans


def test_progress_counts_each_state_per_instrument_and_timepoint(waves):
    program, people, _plans = waves
    rows = metrics.assessment_progress(program, [p.pk for p in people], today=TODAY)
    table = {
        r["timepoint"]: (r["scheduled"], r["due"], r["completed"], r["overdue"], r["open"], r["upcoming"]) for r in rows
    }
    assert [r["timepoint"] for r in rows] == [
        "baseline",
        "post_session",
        "week_1",
        "month_1",
        "month_3",
        "month_6",
        "month_12",
    ]
    assert [r["wave"] for r in rows] == list(range(7)) and {r["instrument"] for r in rows} == {"phq9"}
    assert table["baseline"] == (3, 3, 2, 1, 0, 0)
    assert table["post_session"] == (3, 3, 1, 2, 0, 0)
    assert table["week_1"] == (3, 0, 1, 0, 2, 0)  # completed early; the others' window is open
    assert table["month_1"] == (3, 0, 0, 0, 0, 3)
    for r in rows:
        assert r["scheduled"] == r["completed"] + r["overdue"] + r["open"] + r["upcoming"]


def test_a_cancelled_assessment_counts_nowhere(waves):
    program, people, plans = waves
    from communitas.outcomes.models import Assessment

    Assessment.objects.filter(pk=plans[2]["baseline"].pk).update(cancelled_at=timezone.now())
    rows = metrics.assessment_progress(program, [p.pk for p in people], today=TODAY)
    assert rows[0]["scheduled"] == 2 and rows[0]["overdue"] == 0


def test_attrition_counts_who_was_expected_and_who_answered(waves):
    program, people, _plans = waves
    rows = {r["timepoint"]: r for r in metrics.attrition(program, [p.pk for p in people], "phq9", today=TODAY)}
    assert (rows["baseline"]["expected"], rows["baseline"]["observed"]) == (3, 2)
    assert rows["baseline"]["retained"] == pytest.approx(2 / 3) and rows["baseline"]["of_baseline"] == 1
    assert (rows["post_session"]["expected"], rows["post_session"]["observed"]) == (3, 1)
    assert rows["post_session"]["of_baseline"] == pytest.approx(0.5)
    assert (rows["week_1"]["expected"], rows["week_1"]["observed"], rows["week_1"]["retained"]) == (1, 1, 1)
    assert rows["month_1"]["expected"] == 0 and rows["month_1"]["retained"] is None


# -- change --------------------------------------------------------------------------------------


@pytest.fixture
def change(org, alice):
    """Baseline -> month 1 for A, B, C; baseline -> month 3 for D; A again at month 3."""
    program, document = study_program(org)
    day = TODAY - datetime.timedelta(days=100)
    scores = {"A": {"month_1": 10, "month_3": 19}, "B": {"month_1": 12}, "C": {"month_1": 4}, "D": {"month_3": 16}}
    baseline = {"A": 20, "B": 15, "C": 10, "D": 8}
    people = []
    for key, later in scores.items():
        someone, enrolment = person(program, document, alice)
        plan = anchor(enrolment, day)
        answer(plan, "baseline", baseline[key])
        for timepoint, total in later.items():
            answer(plan, timepoint, total)
        people.append(someone)
    return program, people


def test_mean_change_has_a_t_interval_and_the_within_change_d(change):
    program, people = change
    result = metrics.mean_change(program, [p.pk for p in people], "phq9")
    assert result["instrument"] == "phq9" and result["higher_is_better"] is False
    assert result["label"] == "Patient Health Questionnaire-9"
    points = {p["timepoint"]: p for p in result["points"]}
    month_1 = points["month_1"]
    diffs = np.array([10 - 20, 12 - 15, 4 - 10])
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / np.sqrt(3)
    assert month_1["n"] == 3 and month_1["mean"] == pytest.approx(diffs.mean())
    assert (month_1["mean_baseline"], month_1["mean_followup"]) == (pytest.approx(15), pytest.approx(26 / 3))
    assert month_1["sd"] == pytest.approx(diffs.std(ddof=1))
    assert (month_1["ci_low"], month_1["ci_high"]) == (
        pytest.approx(diffs.mean() - half),
        pytest.approx(diffs.mean() + half),
    )
    effect = within_change_d(np.array([20, 15, 10]), np.array([10, 12, 4]))
    assert month_1["d"] == pytest.approx(effect.estimate) and month_1["d_ci_low"] == pytest.approx(effect.ci_low)
    month_3 = points["month_3"]
    assert month_3["n"] == 2 and month_3["mean"] == pytest.approx(((19 - 20) + (16 - 8)) / 2) and month_3["d"] is None
    assert points["month_6"]["n"] == 0 and points["month_6"]["mean"] is None
    assert result["points"][0]["timepoint"] == "post_session"


def test_reliable_change_compares_each_persons_last_follow_up_with_baseline(change):
    program, people = change
    summary = metrics.reliable_change_summary(program, [p.pk for p in people], "phq9")
    assert summary["available"] and summary["n"] == 4
    # A 20 -> 19 (last is month 3), B 15 -> 12, C 10 -> 4, D 8 -> 16; threshold 5.61 points
    assert summary["counts"] == {"reliably_improved": 1, "no_reliable_change": 2, "reliably_deteriorated": 1}
    assert summary["clinical"] == {"recovered": 1, "improved": 0, "unchanged": 2, "deteriorated": 1}
    assert summary["threshold"] == pytest.approx(5.61, abs=0.01)


def test_an_instrument_without_reliable_change_data_says_so(change):
    program, people = change
    summary = metrics.reliable_change_summary(program, [p.pk for p in people], "ucla3")
    assert summary["available"] is False and summary["n"] == 0 and summary["reason"]


# -- attendance ----------------------------------------------------------------------------------


@pytest.fixture
def circles(org, alice):
    program, document = study_program(org)
    people = [person(program, document, alice, name=f"Member {n} Quispe")[0] for n in range(5)]
    cedar = circle_create(program=program, actor=alice, name="Cedar", capacity=8)
    oak = circle_create(program=program, actor=alice, name="Oak", capacity=8)
    circle_set_members(circle=cedar, actor=alice, participants=people[:3], facilitators=[])
    circle_set_members(circle=oak, actor=alice, participants=people[3:4], facilitators=[])
    a, b, c, d = people[:4]
    session(
        program, "circle_meeting", days=-10, circle=cedar, attendance=[(a, "attended"), (b, "attended"), (c, "absent")]
    )
    session(program, "circle_meeting", days=-3, circle=cedar, attendance=[(a, "left_early"), (b, "absent")])
    session(program, "circle_meeting", days=-2, circle=cedar, status="cancelled", attendance=[(c, "attended")])
    session(program, "circle_meeting", days=-60, circle=cedar, attendance=[(c, "attended")])  # before the period
    session(program, "circle_meeting", days=-5, circle=oak, attendance=[(d, "attended")])
    return program, people


def test_attendance_per_circle_and_the_engagement_histogram(circles):
    program, people = circles
    start, end = TODAY - datetime.timedelta(days=30), TODAY
    result = metrics.attendance(program, [p.pk for p in people], start=start, end=end, label_circles=True)
    cedar, oak = result["circles"]
    assert (cedar["circle"], cedar["members"], cedar["sessions_held"]) == ("Cedar", 3, 2)
    assert (cedar["attended"], cedar["expected"], cedar["attendance_rate"]) == (3, 6, 0.5)
    assert (oak["circle"], oak["members"], oak["sessions_held"], oak["attendance_rate"]) == ("Oak", 1, 1, 1.0)
    # a: 2/2, b: 1/2, c: 0/2 (the cancelled meeting is not offered), d: 1/1, e: no circle
    assert [b["count"] for b in result["engagement_bins"]] == [1, 0, 1, 0, 2]
    assert (result["no_sessions_offered"], result["participants"]) == (1, 5)


def test_circles_are_letters_when_not_labelled(circles):
    program, people = circles
    start, end = TODAY - datetime.timedelta(days=30), TODAY
    result = metrics.attendance(program, [p.pk for p in people], start=start, end=end, label_circles=False)
    assert [str(c["circle"]) for c in result["circles"]] == ["Circle A", "Circle B"]
    assert "Cedar" not in str(result) and "Quispe" not in str(result)
    assert metrics._letters(25) == "Z" and metrics._letters(26) == "AA"


# -- query counts and tenancy --------------------------------------------------------------------


def _everything(program, ids):
    today = TODAY
    return [
        metrics.funnel(program, ids, today=today),
        metrics.assessment_progress(program, ids, today=today),
        metrics.attrition(program, ids, "phq9", today=today),
        metrics.mean_change(program, ids, "phq9"),
        metrics.reliable_change_summary(program, ids, "phq9"),
        metrics.attendance(program, ids, start=today - datetime.timedelta(days=30), end=today, label_circles=False),
    ]


def populated(org, actor, n, *, name="Spring cohort"):
    """``n`` people with every kind of data: screening, documents, waves, a circle, sessions."""
    program, document = study_program(org, name=name)
    circle = circle_create(program=program, actor=actor, name="Cedar", capacity=30)
    people = []
    for k in range(n):
        someone, enrolment = person(program, document, actor, born=ADULT, ready=True)
        plan = anchor(enrolment, TODAY - datetime.timedelta(days=40))
        answer(plan, "baseline", 10 + k % 5)
        answer(plan, "month_1", 5 + k % 7)
        people.append(someone)
    circle_set_members(circle=circle, actor=actor, participants=people, facilitators=[])
    session(program, "administration", days=-40, attendance=[(p, "attended") for p in people])
    session(program, "circle_meeting", days=-5, circle=circle, attendance=[(p, "attended") for p in people])
    return program, people


def test_every_metric_costs_the_same_queries_for_3_or_20_people(org, alice, django_assert_max_num_queries):
    program, people = populated(org, alice, 20)
    ids = [p.pk for p in people]
    with CaptureQueriesContext(connection) as few:
        _everything(program, ids[:3])
    with django_assert_max_num_queries(len(few.captured_queries)):
        results = _everything(program, ids)
    assert results[0][0]["count"] == 20 and results[4]["n"] == 20


LIMITS = {"funnel": 12, "progress": 2, "attrition": 2, "mean_change": 3, "reliable_change": 3, "attendance": 9}


def test_each_metric_costs_a_fixed_number_of_queries(org, alice):
    program, people = populated(org, alice, 20)
    ids = [p.pk for p in people]
    calls = {
        "funnel": lambda ids: metrics.funnel(program, ids, today=TODAY),
        "progress": lambda ids: metrics.assessment_progress(program, ids, today=TODAY),
        "attrition": lambda ids: metrics.attrition(program, ids, "phq9", today=TODAY),
        "mean_change": lambda ids: metrics.mean_change(program, ids, "phq9"),
        "reliable_change": lambda ids: metrics.reliable_change_summary(program, ids, "phq9"),
        "attendance": lambda ids: metrics.attendance(program, ids, start=TODAY, end=TODAY, label_circles=True),
    }
    for name, call in calls.items():
        sizes = []
        for cohort in (ids[:3], ids):
            with CaptureQueriesContext(connection) as queries:
                call(cohort)
            sizes.append(len(queries.captured_queries))
        assert sizes[0] == sizes[1] and sizes[0] <= LIMITS[name], (name, sizes)


def test_nothing_from_another_organization_leaks_in(org, alice, other_org, charlie):
    program, people = populated(org, alice, 3)
    theirs, strangers = populated(other_org, charlie, 4, name="Veterans cohort")
    ours = [p.pk for p in people]
    mixed = ours + [p.pk for p in strangers]
    assert _everything(program, mixed) == _everything(program, ours)
    assert metrics.cohort_ids(program, research_only=False) == sorted(ours)
    assert metrics.cohort_ids(program, research_only=True) == sorted(ours)
    blind = _everything(theirs, ours)  # their program asked about our people
    assert all(s["count"] == 0 for s in blind[0])
    assert all(r["scheduled"] == 0 for r in blind[1])
    assert all(r["expected"] == 0 for r in blind[2])
    assert all(p["n"] == 0 for p in blind[3]["points"]) and blind[4]["n"] == 0
    assert blind[5]["participants"] == 0 and all(c["members"] == 0 for c in blind[5]["circles"])


def test_no_metric_carries_a_name_or_contact(org, alice):
    program, people = populated(org, alice, 3)
    text = str(_everything(program, [p.pk for p in people]))
    for someone in people:
        assert someone.display_name not in text and someone.pseudonym not in text
        assert someone.email not in text
