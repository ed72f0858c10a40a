"""Demo programs with outcome schedules and a year of answered questionnaires, so the
timelines, due lists and safety alerts have something true-to-life to show. Improvement grows
modestly with a person's circle engagement (see ``insights_seed``)."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from communitas.accounts.models import Organization, User
from communitas.demo.insights_seed import CommunityPlan, plan_community
from communitas.outcomes import services as outcomes
from communitas.outcomes.definitions import Instrument, get_builtin
from communitas.outcomes.models import Assessment
from communitas.participants.models import Participant
from communitas.programs import services as programs
from communitas.safety.models import SafetyAlert
from communitas.safety.services import safety_alert_acknowledge

POST_SESSION_ONLY = [{"code": "post_session", "offset_days": 1, "opens_before": 0, "closes_after": 3}]
PROGRAMS: dict[str, dict[str, Any]] = {
    "cascadia": {
        "name": "Community psilocybin circles 2026",
        "substance": "psilocybin",
        "jurisdiction": "US-OR",
        "enrolled": 45,
        "schedules": {"phq9": None, "gad7": None, "who5": None, "meq30": POST_SESSION_ONLY},
    },
    "stillwater": {
        "name": "Veterans' retreat program 2026",
        "substance": "psilocybin",
        "jurisdiction": "US-CO",
        "enrolled": 35,
        "schedules": {"pcl5": None, "phq9": None, "who5": None},
    },
}
RESPONSE_RATE = {"baseline": 1.0, "post_session": 0.92, "week_1": 0.88, "month_1": 0.82, "month_3": 0.74,
                 "month_6": 0.63, "month_12": 0.52}  # fmt: skip
IMPROVEMENT = {"baseline": 0.0, "post_session": 0.45, "week_1": 0.45, "month_1": 0.4, "month_3": 0.38,
               "month_6": 0.35, "month_12": 0.33}  # fmt: skip


def _answers_for_total(instrument: Instrument, total: int, rng: random.Random, *, keep_zero=()) -> dict:
    """Item answers of a choice instrument adding up to ``total`` (clamped to what is possible)."""
    items = [i for i in instrument.scored_items if i.id not in keep_zero]
    high = int(instrument.response_set_for(items[0]).high)
    low = int(instrument.response_set_for(items[0]).low)
    answers = {i.id: low for i in instrument.scored_items}
    room = min(max(total - low * len(instrument.scored_items), 0), (high - low) * len(items))
    while room > 0:
        item = rng.choice(items)
        if answers[item.id] < high:
            answers[item.id] += 1
            room -= 1
    return answers


def _answers(code: str, severity: float, rng: random.Random, *, risk: bool) -> dict:
    """Answers for a person at ``severity`` (0 = well, 1 = worst) on instrument ``code``."""
    instrument = get_builtin(code)
    if code == "meq30":
        return {i.id: rng.choice([1, 2, 3, 3, 4, 4, 5]) for i in instrument.items}
    scored = instrument.scored_items
    top = int(instrument.response_set_for(scored[0]).high) * len(scored)
    if instrument.scoring.higher_is_better:
        severity = 1 - severity
    target = round(max(0.0, min(1.0, severity + rng.gauss(0, 0.06))) * top)
    answers = _answers_for_total(instrument, target, rng, keep_zero=("9",) if code == "phq9" else ())
    if code == "phq9" and risk:
        answers["9"] = 1
    return answers


def _respond(assessment: Assessment, severity: float, rng: random.Random, *, risk: bool) -> None:
    day = max(
        assessment.opens_on, min(assessment.due_on + datetime.timedelta(days=rng.randint(-1, 2)), assessment.closes_on)
    )
    when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randint(8, 20), rng.randint(0, 59))))
    outcomes.response_submit(
        assessment=assessment,
        answers=_answers(assessment.instrument_code, severity, rng, risk=risk),
        language=assessment.participant.preferred_language
        if assessment.participant.preferred_language == "es"
        else "en",
        source="link",
        submitted_at=min(when, timezone.now()),
    )


def seed_outcomes(org: Organization, rng: random.Random) -> CommunityPlan:
    """Enrol people, plan their assessments and answer the past ones. Returns the community plan
    (circles, engagement propensities) the outcomes were drawn from, for ``insights_seed``."""
    spec = PROGRAMS[org.slug]
    program = programs.program_create(
        organization=org, actor=None, name=spec["name"], substance=spec["substance"], jurisdiction=spec["jurisdiction"]
    )
    for code, timepoints in spec["schedules"].items():
        outcomes.schedule_set(program=program, instrument_code=code, actor=None, timepoints=timepoints)
    today = timezone.localdate()
    people = list(Participant.objects.filter(organization=org).order_by("id")[: spec["enrolled"]])
    at_risk = {people[3].pk, people[17].pk}
    enrolled = []
    for n, person in enumerate(people):
        enrollment = programs.enrollment_create(program=program, participant=person, actor=None)
        session = today - datetime.timedelta(days=400) + datetime.timedelta(days=round(n * 420 / len(people)))
        planned = outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=session, actor=None)
        enrolled.append((person, session, planned))
    plan = plan_community(org.slug, [(person, session) for person, session, _ in enrolled], rng)
    for person, _session, planned in enrolled:
        baseline = rng.uniform(0.35, 0.8)
        responder = rng.random() < 0.78
        for assessment in sorted(planned, key=lambda a: a.due_on):
            open_now = assessment.opens_on <= today <= assessment.closes_on
            if assessment.opens_on > today or (open_now and rng.random() < 0.6):
                continue
            if rng.random() > RESPONSE_RATE.get(assessment.timepoint, 0.7):
                continue
            gain = IMPROVEMENT.get(assessment.timepoint, 0.3) * (1 if responder else 0.25)
            gain *= plan.gain_factor(person.pk, assessment.due_on)  # more circle engagement, more kept
            severity = baseline * (1 - gain) - plan.circle_shift(person.pk, assessment.due_on)
            risky = person.pk in at_risk and assessment.timepoint == "baseline"
            _respond(assessment, severity, rng, risk=risky)
    _acknowledge_first_alert(org)
    return plan


def _acknowledge_first_alert(org: Organization) -> None:
    alert = SafetyAlert.objects.filter(organization=org).order_by("created_at").first()
    coordinator = User.objects.filter(memberships__organization=org, memberships__role="coordinator").first()
    if alert and coordinator:
        safety_alert_acknowledge(
            alert=alert,
            actor=coordinator,
            note="Called the participant the same day; safety plan reviewed with their facilitator; "
            "not at imminent risk; follow-up call booked for the next morning.",
        )
