"""Writes for outcomes: schedules, assessments, links, drafts, responses and scores.

Every function is atomic and audited. Answers are validated by the pure engine before anything
is stored; a participant's submit is idempotent (one response per assessment, whatever the
number of clicks); safety flags open alerts that only a person can close.
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from dataclasses import asdict

from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import User
from communitas.core.audit import audit_record
from communitas.outcomes import schedules
from communitas.outcomes.definitions import Instrument
from communitas.outcomes.models import Assessment, AssessmentLink, AssessmentSchedule, Response, Score
from communitas.outcomes.registry import instrument_for
from communitas.outcomes.scoring import ScoringError, score, validate
from communitas.programs.models import Enrollment, Program
from communitas.programs.services import enrollment_set_administration_date
from communitas.safety.services import safety_alert_raise


class IncompleteResponse(ScoringError):
    def __init__(self, missing: list[str]):
        super().__init__(f"unanswered required items: {', '.join(missing)}")
        self.missing = missing


@transaction.atomic
def schedule_set(
    *, program: Program, instrument_code: str, actor: User | None, timepoints: list[dict] | None = None
) -> AssessmentSchedule:
    instrument_for(program.organization_id, instrument_code)  # raises for an unknown instrument
    parsed = schedules.parse_timepoints(timepoints) if timepoints is not None else list(schedules.DEFAULT_TIMEPOINTS)
    schedule, _created = AssessmentSchedule.objects.update_or_create(
        program=program,
        instrument_code=instrument_code,
        defaults={"organization_id": program.organization_id, "timepoints": [tp.as_dict() for tp in parsed]},
    )
    audit_record(
        action="outcomes.schedule.set",
        actor=actor,
        organization_id=program.organization_id,
        obj=schedule,
        data={"instrument": instrument_code, "timepoints": [tp.code for tp in parsed]},
    )
    return schedule


@transaction.atomic
def enrollment_anchor_set(
    *, enrollment: Enrollment, administration_date: datetime.date, actor: User | None
) -> list[Assessment]:
    """Set the administration session date and (re)plan the enrolment's assessments from it.
    Assessments already answered keep their dates."""
    enrollment_set_administration_date(enrollment=enrollment, administration_date=administration_date, actor=actor)
    planned = []
    for schedule in AssessmentSchedule.objects.filter(program_id=enrollment.program_id):
        for tp in schedules.parse_timepoints(schedule.timepoints):
            due, opens, closes = schedules.window(administration_date, tp)
            assessment, created = Assessment.objects.get_or_create(
                enrollment=enrollment,
                instrument_code=schedule.instrument_code,
                timepoint=tp.code,
                defaults={
                    "organization_id": enrollment.organization_id,
                    "participant_id": enrollment.participant_id,
                    "due_on": due,
                    "opens_on": opens,
                    "closes_on": closes,
                },
            )
            if not created and not hasattr(assessment, "response") and assessment.due_on != due:
                assessment.due_on, assessment.opens_on, assessment.closes_on = due, opens, closes
                assessment.save(update_fields=["due_on", "opens_on", "closes_on", "updated_at"])
            planned.append(assessment)
    audit_record(
        action="outcomes.assessments.planned",
        actor=actor,
        organization_id=enrollment.organization_id,
        obj=enrollment,
        data={"assessments": len(planned)},
    )
    return planned


@transaction.atomic
def assessment_link_create(*, assessment: Assessment, actor: User | None, days: int = 30) -> AssessmentLink:
    link = AssessmentLink.objects.create(
        organization_id=assessment.organization_id,
        assessment=assessment,
        nonce=secrets.token_urlsafe(16),
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    audit_record(
        action="outcomes.link.created",
        actor=actor,
        organization_id=assessment.organization_id,
        obj=link,
        data={"assessment": assessment.pk, "days": days},
    )
    return link


@transaction.atomic
def assessment_link_revoke(*, link: AssessmentLink, actor: User) -> AssessmentLink:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at", "updated_at"])
        audit_record(action="outcomes.link.revoked", actor=actor, organization_id=link.organization_id, obj=link)
    return link


def _clean_answers(instrument: Instrument, answers: dict) -> dict[str, float | None]:
    """Answers keyed by item id with numeric values; raises ScoringError for anything else."""
    if not isinstance(answers, dict):
        raise ScoringError("answers must be an object of item id to value")
    cleaned: dict[str, float | None] = {}
    for key, value in answers.items():
        if value in ("", None):
            cleaned[str(key)] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ScoringError(f"item {key}: {value!r} is not a number") from None
        cleaned[str(key)] = int(number) if number.is_integer() else number
    validate(instrument, cleaned)
    return cleaned


@transaction.atomic
def assessment_draft_save(*, assessment: Assessment, answers: dict, language: str) -> Assessment:
    """Autosave partial answers (merged into the draft). Refuses invalid values, changing nothing."""
    instrument = instrument_for(assessment.organization_id, assessment.instrument_code)
    cleaned = _clean_answers(instrument, answers)
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if hasattr(locked, "response"):
        return locked
    draft = {**locked.draft_answers, **{k: v for k, v in cleaned.items()}}
    locked.draft_answers = {k: v for k, v in draft.items() if v is not None}
    locked.language = language if language in instrument.languages else locked.language
    locked.draft_saved_at = timezone.now()
    locked.save(update_fields=["draft_answers", "language", "draft_saved_at", "updated_at"])
    return locked


@transaction.atomic
def response_submit(
    *,
    assessment: Assessment,
    answers: dict,
    language: str,
    source: str,
    submission_id: str | None = None,
    entered_by: User | None = None,
) -> tuple[Response, bool]:
    """Store, score and audit one response; returns (response, created). A second submit of the
    same assessment (double click, reload, another tab) returns the first response unchanged."""
    locked = Assessment.objects.select_for_update().select_related("participant").get(pk=assessment.pk)
    existing = Response.objects.filter(assessment=locked).select_related("score").first()
    if existing is not None:
        return existing, False
    instrument = instrument_for(locked.organization_id, locked.instrument_code)
    cleaned = _clean_answers(instrument, answers)
    missing = [i.id for i in instrument.items if i.required and cleaned.get(i.id) is None]
    if missing:
        raise IncompleteResponse(missing)
    response = Response.objects.create(
        organization_id=locked.organization_id,
        assessment=locked,
        participant_id=locked.participant_id,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        language=language,
        answers={k: v for k, v in cleaned.items() if v is not None},
        source=source,
        submission_id=submission_id or uuid.uuid4().hex,
        submitted_at=timezone.now(),
        entered_by=entered_by,
    )
    result = score(instrument, response.answers)
    Score.objects.create(
        organization_id=locked.organization_id,
        response=response,
        instrument_code=instrument.code,
        complete=result.complete,
        total=result.total,
        band=result.band or "",
        subscales=result.subscales,
        flags=result.flags,
        extras=asdict(result)["extras"],
    )
    locked.draft_answers, locked.language = {}, language
    locked.save(update_fields=["draft_answers", "language", "updated_at"])
    audit_record(
        action="outcomes.response.submitted",
        actor=entered_by,
        organization_id=locked.organization_id,
        obj=response,
        data={"instrument": instrument.code, "timepoint": locked.timepoint, "source": source, "flags": result.flags},
    )
    for flag in instrument.flags:
        if flag.kind == "safety" and flag.code in result.flags:
            safety_alert_raise(
                participant=locked.participant,
                flag=flag.code,
                summary=f"{instrument.name} item {flag.item}: answered {response.answers.get(flag.item or '')}",
                source=response,
            )
    return response, True


def participant_open_links(*, assessment: Assessment) -> list[tuple[Assessment, str]]:
    """The participant's other assessments open today, each with a usable link token (an
    unexpired link is reused; otherwise one is created)."""
    from communitas.outcomes.links import token_for

    today = timezone.localdate()
    others = (
        Assessment.objects.filter(
            participant_id=assessment.participant_id,
            organization_id=assessment.organization_id,
            opens_on__lte=today,
            closes_on__gte=today,
            cancelled_at__isnull=True,
            response__isnull=True,
        )
        .exclude(pk=assessment.pk)
        .order_by("due_on")
    )
    out = []
    for other in others:
        link = (
            AssessmentLink.objects.filter(assessment=other, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-expires_at")
            .first()
        ) or assessment_link_create(assessment=other, actor=None)
        out.append((other, token_for(link)))
    return out
