from __future__ import annotations

from dataclasses import dataclass

from communitas.participants.models import Participant
from communitas.safety.models import Intake, Screening
from communitas.safety.screening.decisions import effective_outcome


@dataclass(frozen=True)
class ScreeningStatus:
    screening: Screening | None
    outcome: str  # not_screened | eligible | needs_review | excluded
    decisions: list


def latest_screening(participant: Participant, substance: str) -> Screening | None:
    return (
        Screening.objects.filter(
            participant=participant, organization_id=participant.organization_id, substance=substance
        )
        .order_by("-created_at", "-id")
        .first()
    )


def screening_status(participant: Participant, substance: str) -> ScreeningStatus:
    """The newest screening for ``substance`` and its outcome after clinicians' decisions."""
    screening = latest_screening(participant, substance)
    if screening is None:
        return ScreeningStatus(None, "not_screened", [])
    decisions = list(screening.decisions.select_related("decided_by").order_by("created_at", "id"))
    outcome = effective_outcome(screening.reasons, [(d.decision, d.rule_ids) for d in decisions])
    return ScreeningStatus(screening, outcome, decisions)


def intake_for(participant: Participant, substance: str) -> Intake | None:
    return Intake.objects.filter(participant=participant, substance=substance).order_by("-created_at").first()
