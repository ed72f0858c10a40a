"""Reads for outcomes. Staff lookups are scoped to the membership's organization (404 otherwise)."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.core.freshness import is_fresh
from communitas.outcomes import schedules
from communitas.outcomes.definitions import Instrument
from communitas.outcomes.models import Assessment, Response
from communitas.participants.models import Participant
from communitas.programs.models import Enrollment, Program
from communitas.programs.selectors import enrollments_for_program
from communitas.safety.selectors_crisis import crisis_resources_for


def form_items(instrument: Instrument, language: str, answers: dict) -> list[dict]:
    """What the participant's form shows, item by item, in ``language``."""
    rows = []
    for number, item in enumerate(instrument.items, start=1):
        rs = instrument.response_set_for(item)
        current = answers.get(item.id)
        rows.append(
            {
                "id": item.id,
                "number": number,
                "text": instrument.text_for(item, language),
                "required": item.required,
                "type": rs.type,
                "min": rs.min,
                "max": rs.max,
                "value": current,
                "options": [
                    {
                        "value": _fmt(o.value),
                        "label": o.label.get(language) or o.label.get("en", ""),
                        "checked": current is not None and float(current) == o.value,
                    }
                    for o in rs.options
                ],
            }
        )
    return rows


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def response_for(assessment: Assessment) -> Response | None:
    return Response.objects.filter(assessment=assessment).select_related("score").first()


def crisis_resources_if_flagged(response: Response, language: str) -> list[dict]:
    from communitas.outcomes.registry import instrument_for

    instrument = instrument_for(response.organization_id, response.instrument_code)
    safety_codes = {f.code for f in instrument.flags if f.kind == "safety"}
    if not safety_codes & set(response.score.flags):
        return []
    return crisis_resources_for(response.organization_id, language)


def participant_assessments(participant: Participant) -> QuerySet[Assessment]:
    return (
        Assessment.objects.filter(
            participant=participant, organization_id=participant.organization_id, cancelled_at__isnull=True
        )
        .select_related("response__score", "enrollment__program")
        .order_by("due_on", "instrument_code")
    )


def with_status(assessments, today: datetime.date | None = None) -> list[tuple[Assessment, str]]:
    today = today or timezone.localdate()
    return [
        (a, schedules.status(today, a.opens_on, a.closes_on, completed=hasattr(a, "response"))) for a in assessments
    ]


def responses_by_instrument(participant: Participant) -> dict[str, list[Response]]:
    timeline: dict[str, list[Response]] = {}
    rows = (
        Response.objects.filter(participant=participant, organization_id=participant.organization_id)
        .select_related("score", "assessment")
        .order_by("submitted_at")
    )
    for response in rows:
        timeline.setdefault(response.instrument_code, []).append(response)
    return timeline


def program_get_for_user(membership: Membership | None, program_id) -> Program:
    program = None
    if membership is not None:
        program = Program.objects.filter(organization_id=membership.organization_id, pk=program_id).first()
    if program is None:
        raise Http404("no such program")
    return program


# Overdue longer than this, a questionnaire counts as missed: off the worklists (home counts and a
# program's due list), still on the participant's own page.
OVERDUE_WINDOW_DAYS = 90


def assessment_counts_now(organization_id: int, today: datetime.date) -> dict[int, dict[str, int]]:
    """Enrolled, open and overdue counts of every program of the organization, counted now
    (archived participants left out): two grouped queries over all of its assessments."""
    enrolled = (
        Enrollment.objects.filter(organization_id=organization_id, participant__archived_at__isnull=True)
        .values("program_id")
        .annotate(n=Count("pk"))
    )
    pending = (
        Assessment.objects.filter(
            organization_id=organization_id,
            participant__archived_at__isnull=True,
            cancelled_at__isnull=True,
            responded_at__isnull=True,
            opens_on__lte=today,
            closes_on__gte=today - datetime.timedelta(days=OVERDUE_WINDOW_DAYS),
        )
        .values("enrollment__program_id")
        .annotate(
            open_now=Count("pk", filter=Q(closes_on__gte=today)),
            overdue=Count("pk", filter=Q(closes_on__lt=today)),
        )
    )
    counts: dict[int, dict[str, int]] = {}
    for row in enrolled:
        counts.setdefault(row["program_id"], {"enrolled": 0, "open_now": 0, "overdue": 0})["enrolled"] = row["n"]
    for owed in pending:
        cell = counts.setdefault(owed["enrollment__program_id"], {"enrolled": 0, "open_now": 0, "overdue": 0})
        cell.update(open_now=owed["open_now"], overdue=owed["overdue"])
    return counts


def programs_with_counts(
    membership: Membership, *, fresh_only: bool = True
) -> tuple[list[Program], datetime.datetime | None]:
    """The organization's programs with their stored ``enrolled``, ``open_now`` and ``overdue``, and
    when the oldest were counted; ``None`` when any is missing or (``fresh_only``) no longer fresh
    (``core.freshness``): the caller recounts (``services.program_counts_refresh``) and reads again."""
    programs = list(
        Program.objects.filter(organization_id=membership.organization_id)
        .select_related("assessment_counts")
        .order_by("name")
    )
    stored = [getattr(p, "assessment_counts", None) for p in programs]
    if not all(c is not None and (is_fresh(c.computed_at) or not fresh_only) for c in stored):
        return programs, None
    for program, c in zip(programs, stored, strict=True):
        program.enrolled, program.open_now, program.overdue = c.enrolled, c.open_now, c.overdue  # type: ignore[union-attr, attr-defined]
    return programs, min((c.computed_at for c in stored if c is not None), default=timezone.now())


def program_pending_assessments(program: Program, today: datetime.date | None = None) -> QuerySet[Assessment]:
    """Open and overdue assessments of a program's current (not archived) participants, the window
    closing soonest first; overdue for longer than ``OVERDUE_WINDOW_DAYS`` they count as missed
    (each participant's page still shows them)."""
    today = today or timezone.localdate()
    return (
        Assessment.objects.filter(
            enrollment__program=program,
            organization_id=program.organization_id,
            cancelled_at__isnull=True,
            responded_at__isnull=True,
            opens_on__lte=today,
            closes_on__gte=today - datetime.timedelta(days=OVERDUE_WINDOW_DAYS),
            participant__archived_at__isnull=True,
        )
        .select_related("participant", "response")  # with_status() reads .response: no query per row
        .order_by("closes_on", "instrument_code")
    )


def current_enrollments(program: Program) -> QuerySet[Enrollment]:
    """The program's enrolments of participants not archived (archiving removes a participant from lists)."""
    return enrollments_for_program(program).filter(participant__archived_at__isnull=True)


def assessment_get_for_user(membership: Membership | None, assessment_id) -> Assessment:
    assessment = None
    if membership is not None:
        assessment = (
            Assessment.objects.filter(
                organization_id=membership.organization_id, pk=assessment_id, participant__archived_at__isnull=True
            )
            .select_related("participant")
            .first()
        )
    if assessment is None:
        raise Http404("no such assessment")
    return assessment


def program_schedules(program: Program):
    from communitas.outcomes.models import AssessmentSchedule

    return AssessmentSchedule.objects.filter(program=program, organization_id=program.organization_id).order_by(
        "instrument_code"
    )
