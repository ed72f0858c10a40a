"""The demo's outcome programs carry integration circles, a history of circle meetings and
attendance, so the analysis dataset has circle engagement to model. Seeds a smaller Cascadia
(30 people, 24 enrolled, PHQ-9 only) through the real demo seed to stay fast."""

import datetime
import random
from types import SimpleNamespace

import pytest
from django.utils import timezone

from communitas.demo import seed
from communitas.demo.insights_seed import UNGROUPED_GAIN, plan_community
from communitas.demo.outcomes_seed import PROGRAMS
from communitas.insights.dataset import analysis_rows
from communitas.programs.models import Attendance, Circle, Enrollment, Program, Session


@pytest.fixture
def program(monkeypatch):
    monkeypatch.setitem(PROGRAMS["cascadia"], "enrolled", 24)
    monkeypatch.setitem(PROGRAMS["cascadia"], "schedules", {"phq9": None})
    monkeypatch.setattr(seed, "ORGANIZATIONS", [{**seed.ORGANIZATIONS[0], "participants": 30}])
    seed.seed_demo()
    return Program.objects.get(organization__slug="cascadia")


@pytest.mark.django_db
def test_the_demo_program_has_circles_meetings_attendance_and_engagement_to_analyse(program):
    circles = list(Circle.objects.filter(program=program, retreat__isnull=True).prefetch_related("members"))
    assert len(circles) >= 3 and all(c.members.exists() and c.facilitators.exists() for c in circles)
    enrolled = set(
        Enrollment.objects.filter(program=program, administration_date__isnull=False).values_list(
            "participant_id", flat=True
        )
    )
    members = [m.pk for c in circles for m in c.members.all()]
    assert len(members) == len(set(members))  # one integration circle each
    assert set(members) < enrolled and 0.6 <= len(members) / len(enrolled) <= 0.9  # partially nested
    meetings = Session.objects.filter(program=program, circle__in=circles, kind=Session.Kind.CIRCLE_MEETING)
    assert meetings.count() >= len(circles)
    assert not meetings.exclude(status=Session.Status.COMPLETED).exists()
    assert not meetings.filter(planned_start__gte=timezone.now()).exists()
    assert not meetings.exclude(organization_id=program.organization_id).exists()
    attendance = Attendance.objects.filter(session__in=meetings)
    assert {a.status for a in attendance} == {"attended", "absent", "left_early"}
    assert not attendance.exclude(organization_id=program.organization_id).exists()

    # the analysis dataset: engagement for everyone in an integration circle, none for the ungrouped
    integration = set(
        Circle.members.through.objects.filter(circle__program=program, circle__retreat__isnull=True).values_list(
            "participant__pseudonym", flat=True
        )
    )
    rows = analysis_rows(program, instrument="phq9")
    grouped = [r for r in rows if r["participant"] in integration]
    assert grouped and all(r["grouped"] == 1 and r["engagement"] is not None for r in grouped)
    assert len({r["group"] for r in grouped}) >= 3
    assert 0 <= min(r["engagement"] for r in grouped) < max(r["engagement"] for r in grouped) <= 1
    assert any(r["grouped"] == 0 and r["engagement"] is None for r in rows)


def test_the_plan_is_reproducible_and_gains_grow_with_engagement():
    today = timezone.localdate()
    people = [
        (SimpleNamespace(pk=n, preferred_language="es" if n % 5 == 0 else "en"), today - datetime.timedelta(days=d))
        for n, d in enumerate(range(400, 0, -10))
    ]
    first, second = (plan_community("stillwater", people, random.Random(7)) for _ in range(2))
    assert first.propensity == second.propensity and first.circle_of == second.circle_of
    assert [c.meetings for c in first.circles] == [c.meetings for c in second.circles]
    assert len(first.circles) == 5 and all(len(c.members) >= 5 for c in first.circles)
    later = today + datetime.timedelta(days=1)
    grouped = sorted(first.circle_of, key=first.propensity.__getitem__)
    low, high = grouped[0], grouped[-1]
    assert first.gain_factor(low, later) < first.gain_factor(high, later)
    alone = next(p.pk for p, d in people if p.pk not in first.circle_of and (today - d).days > 90)
    assert first.gain_factor(alone, later) == pytest.approx(UNGROUPED_GAIN)
    assert first.circle_shift(alone, later) == 0
