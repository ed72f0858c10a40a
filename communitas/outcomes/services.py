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
from communitas.outcomes.models import (
    Assessment,
    AssessmentLink,
    AssessmentSchedule,
    ProgramAssessmentCounts,
    Response,
    Score,
)
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
    submitted_at: datetime.datetime | None = None,
) -> tuple[Response, bool]:
    """Store, score and audit one response; returns (response, created). A second submit of the
    same assessment (double click, reload, another tab) returns the first response unchanged.
    ``submitted_at`` is for imports of answers given earlier; it defaults to now."""
    locked = Assessment.objects.select_for_update().select_related("participant").get(pk=assessment.pk)
    existing = Response.objects.filter(assessment=locked).select_related("score").first()
    if existing is not None:
        return existing, False
    instrument = instrument_for(locked.organization_id, locked.instrument_code)
    cleaned = _clean_answers(instrument, answers)
    missing = [i.id for i in instrument.items if i.required and cleaned.get(i.id) is None]
    if missing:
        raise IncompleteResponse(missing)
    if submission_id and Response.objects.filter(submission_id=submission_id).exists():
        raise ScoringError("that submission id was already used for another questionnaire")
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
        submitted_at=submitted_at or timezone.now(),
        entered_by=entered_by,
    )
    locked.responded_at = response.submitted_at
    locked.save(update_fields=["responded_at", "updated_at"])
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


REMINDER_INTERVAL = datetime.timedelta(days=3)


@transaction.atomic
def assessment_remind(*, assessment: Assessment) -> str:
    """Send the participant a link to an open assessment, at most once every three days.
    Returns the channel used, or why nothing was sent."""
    from django.conf import settings
    from django.urls import reverse

    from communitas.outcomes.links import token_for
    from communitas.outcomes.notify import send_reminder

    locked = Assessment.objects.select_for_update().select_related("participant").get(pk=assessment.pk)
    today, now = timezone.localdate(), timezone.now()
    if hasattr(locked, "response") or locked.cancelled_at is not None:
        return "skipped: answered or cancelled"
    if not locked.opens_on <= today <= locked.closes_on:
        return "skipped: window not open"
    if locked.last_reminded_at and now - locked.last_reminded_at < REMINDER_INTERVAL:
        return "skipped: reminded recently"
    participant = locked.participant
    if participant.archived_at is not None:
        return "skipped: participant archived"
    days_left = (locked.closes_on - today).days + 1
    link = assessment_link_create(assessment=locked, actor=None, days=max(days_left, 1))
    url = settings.COMMUNITAS_BASE_URL.rstrip("/") + reverse("outcomes_public:form", args=[token_for(link)])
    language = participant.preferred_language if participant.preferred_language in ("en", "es") else "en"
    channel = send_reminder(email=participant.email, phone=participant.phone, url=url, language=language)
    locked.last_reminded_at = now
    locked.save(update_fields=["last_reminded_at", "updated_at"])
    audit_record(
        action="outcomes.reminder.sent", organization_id=locked.organization_id, obj=locked, data={"channel": channel}
    )
    return channel


def assessments_needing_reminders(today: datetime.date | None = None):
    today = today or timezone.localdate()
    cutoff = timezone.now() - REMINDER_INTERVAL
    return (
        Assessment.objects.filter(
            opens_on__lte=today,
            closes_on__gte=today,
            cancelled_at__isnull=True,
            response__isnull=True,
            participant__archived_at__isnull=True,
        )
        .exclude(last_reminded_at__gt=cutoff)
        .values_list("pk", flat=True)
    )


def _scoring_shape(instrument: Instrument) -> dict:
    """Everything that decides a score; a translation must leave it untouched."""
    return {
        "items": [(i.id, i.response_set, i.reverse, i.scored, i.required) for i in instrument.items],
        "response_sets": {
            k: (rs.type, [o.value for o in rs.options], rs.min, rs.max) for k, rs in instrument.response_sets.items()
        },
        "scoring": instrument.scoring.model_dump(),
        "subscales": [s.model_dump() for s in instrument.subscales],
        "bands": [(b.min, b.max, b.code) for b in instrument.bands],
        "flags": [f.model_dump() for f in instrument.flags],
        "extras": [e.model_dump() for e in instrument.extras],
    }


@transaction.atomic
def custom_instrument_add(*, organization, definition: dict, actor: User):
    """Add an organization's own instrument, or its translation of a shipped one.

    Every language other than English needs a provenance record (who translated, validated or
    not). A translation of a shipped instrument may add wording only: if anything that decides
    a score differs (items, options, scoring, bands, flags), it is refused.
    """
    from communitas.outcomes.definitions import InstrumentError, builtin_instruments, parse_instrument
    from communitas.outcomes.models import CustomInstrument

    instrument = parse_instrument(definition)
    undocumented = sorted(lang for lang in instrument.languages if lang != "en" and lang not in instrument.translations)
    if undocumented:
        raise InstrumentError(
            f"languages without provenance (translated_by, validated, source): {', '.join(undocumented)}"
        )
    shipped = builtin_instruments().get(instrument.code)
    if shipped is not None and _scoring_shape(shipped) != _scoring_shape(instrument):
        raise InstrumentError(
            f"{instrument.code} is a shipped instrument: a translation may not change how it is scored"
        )
    if CustomInstrument.objects.filter(
        organization=organization, code=instrument.code, version=instrument.version
    ).exists():
        raise InstrumentError(f"{instrument.code} version {instrument.version} already exists; give it a new version")
    row = CustomInstrument.objects.create(
        organization=organization,
        code=instrument.code,
        version=instrument.version,
        definition=instrument.model_dump(mode="json"),
        created_by=actor,
    )
    audit_record(
        action="outcomes.custom_instrument.added",
        actor=actor,
        organization_id=organization.pk,
        obj=row,
        data={
            "code": instrument.code,
            "version": instrument.version,
            "languages": instrument.languages,
            "translation_of_shipped": shipped is not None,
        },
    )
    return row


def program_counts_refresh(organization_id: int, now: datetime.datetime | None = None) -> None:
    """Count every program of the organization now and store the counts: one upsert however many
    programs. Derived figures, recomputable at any time: not audited."""
    from communitas.outcomes.selectors import assessment_counts_now
    from communitas.programs.models import Program

    now = now or timezone.now()
    counts = assessment_counts_now(organization_id, timezone.localdate(now))
    rows = [
        ProgramAssessmentCounts(
            organization_id=organization_id,
            program_id=program_id,
            computed_at=now,
            **counts.get(program_id, {"enrolled": 0, "open_now": 0, "overdue": 0}),
        )
        for program_id in Program.objects.filter(organization_id=organization_id).values_list("pk", flat=True)
    ]
    ProgramAssessmentCounts.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["program"],
        update_fields=["enrolled", "open_now", "overdue", "computed_at", "updated_at"],
    )
