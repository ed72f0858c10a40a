"""Intake, screening runs and clinicians' decisions. Atomic and audited; the audit never
carries answers or reasons (health data), only ids, outcomes and rule ids."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import Membership, User
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.safety.models import Intake, Screening, ScreeningDecision
from communitas.safety.screening.decisions import clearable
from communitas.safety.screening.engine import screen
from communitas.safety.screening.intake_form import to_screening
from communitas.safety.services import safety_alert_raise

MAX_FIELD = 4000


class ScreeningDecisionError(ValueError):
    pass


def _clean_form(answers: dict) -> dict[str, object]:
    """Form values as stored: short strings, lists of short strings, numbers or booleans."""
    cleaned: dict[str, object] = {}
    for key, value in answers.items():
        if not isinstance(key, str) or len(key) > 40:
            raise ValueError("unknown field")
        if isinstance(value, list):
            cleaned[key] = [str(v)[:80] for v in value][:80]
        elif isinstance(value, str):
            cleaned[key] = value[:MAX_FIELD]
        elif isinstance(value, int | bool) or value is None:
            cleaned[key] = value
        else:
            raise ValueError(f"{key}: unsupported value")
    return cleaned


@transaction.atomic
def intake_start(*, participant: Participant, substance: str, jurisdiction: str) -> Intake:
    existing = Intake.objects.filter(participant=participant, substance=substance, status=Intake.Status.DRAFT).first()
    if existing:
        return existing
    intake = Intake.objects.create(
        organization_id=participant.organization_id,
        participant=participant,
        substance=substance,
        jurisdiction=jurisdiction,
    )
    audit_record(action="safety.intake.started", organization_id=participant.organization_id, obj=intake)
    return intake


@transaction.atomic
def intake_save(*, intake: Intake, answers: dict) -> Intake:
    """Merge typed answers into the draft (autosave). Submitted intakes do not change."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if locked.status != Intake.Status.DRAFT:
        return locked
    locked.answers = {**locked.answers, **_clean_form(answers)}
    locked.save(update_fields=["answers", "updated_at"])
    return locked


@transaction.atomic
def intake_submit(*, intake: Intake, actor: User | None = None) -> Screening:
    """Validate the intake, mark it submitted and run screening. Invalid answers raise
    ScreeningInputError and change nothing."""
    locked = Intake.objects.select_for_update().select_related("participant").get(pk=intake.pk)
    if locked.status == Intake.Status.SUBMITTED:
        return locked.screenings.order_by("-created_at").first() or screening_run(intake=locked, actor=actor)
    to_screening(locked.answers, today=timezone.localdate())  # raises before anything changes
    locked.status, locked.submitted_at = Intake.Status.SUBMITTED, timezone.now()
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    audit_record(action="safety.intake.submitted", actor=actor, organization_id=locked.organization_id, obj=locked)
    return screening_run(intake=locked, actor=actor)


@transaction.atomic
def intake_record_measurements(*, intake: Intake, actor: User, measurements: dict) -> Screening:
    """Staff add measured vital signs or ECG QTc to a submitted intake; screening runs again."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    locked.answers = {**locked.answers, **{k: v for k, v in measurements.items() if v not in (None, "")}}
    to_screening(locked.answers, today=timezone.localdate())
    locked.save(update_fields=["answers", "updated_at"])
    audit_record(
        action="safety.intake.measurements_recorded",
        actor=actor,
        organization_id=locked.organization_id,
        obj=locked,
        data={"fields": sorted(k for k, v in measurements.items() if v not in (None, ""))},
    )
    return screening_run(intake=locked, actor=actor)


@transaction.atomic
def screening_run(*, intake: Intake, actor: User | None = None) -> Screening:
    answers = to_screening(intake.answers, today=timezone.localdate())
    result = screen(answers, substance=intake.substance, jurisdiction=intake.jurisdiction)
    data = result.as_dict()
    screening = Screening.objects.create(
        organization_id=intake.organization_id,
        participant_id=intake.participant_id,
        intake=intake,
        substance=intake.substance,
        jurisdiction=intake.jurisdiction,
        outcome=result.outcome,
        escalate=result.escalate,
        rule_ids=[r["rule"] for r in data["reasons"]],
        reasons=data["reasons"],
        rules_version=result.rules_version,
    )
    audit_record(
        action="safety.screening.run",
        actor=actor,
        organization_id=intake.organization_id,
        obj=screening,
        data={"outcome": result.outcome, "rules": screening.rule_ids, "escalate": result.escalate},
    )
    if result.escalate:
        urgent = ", ".join(r.rule for r in result.reasons if r.escalate)
        safety_alert_raise(
            participant=intake.participant,
            flag="screening_escalation",
            summary=f"Screening needs a clinician today (rules {urgent})",
            source=screening,
        )
    return screening


def is_clinician(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organization_id=organization_id, is_active=True, is_clinician=True
    ).exists()


@transaction.atomic
def screening_decide(
    *, screening: Screening, clinician: User, decision: str, rule_ids: list[str], reason: str
) -> ScreeningDecision:
    """A named clinician clears listed reasons, or excludes, with a reason. Nothing else (no
    automation, no non-clinician) changes a screening outcome."""
    if not is_clinician(clinician, screening.organization_id):
        raise ScreeningDecisionError("only a licensed clinician of this organization may decide")
    if len(reason.strip()) < 10:
        raise ScreeningDecisionError("give the reason for the decision (at least a sentence)")
    if decision not in ScreeningDecision.Decision.values:
        raise ScreeningDecisionError(f"unknown decision {decision!r}")
    allowed = set(clearable(screening.reasons))
    not_clearable = sorted(set(rule_ids) - allowed)
    if decision == "clear" and (not rule_ids or not_clearable):
        raise ScreeningDecisionError(
            "choose the reasons to clear" if not rule_ids else f"cannot be cleared: {', '.join(not_clearable)}"
        )
    row = ScreeningDecision.objects.create(
        organization_id=screening.organization_id,
        screening=screening,
        decided_by=clinician,
        decision=decision,
        rule_ids=sorted(set(rule_ids)) if decision == "clear" else [],
        reason=reason.strip(),
    )
    audit_record(
        action="safety.screening.decided",
        actor=clinician,
        organization_id=screening.organization_id,
        obj=row,
        data={"screening": screening.pk, "decision": decision, "rules": row.rule_ids},
    )
    return row
