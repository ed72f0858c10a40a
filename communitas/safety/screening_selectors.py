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


def screening_outcomes_for(participant_ids, substance: str) -> dict[int, str]:
    """The effective outcome of each participant's newest screening (two queries in all)."""
    from communitas.safety.models import ScreeningDecision

    newest: dict[int, Screening] = {}
    for screening in Screening.objects.filter(participant_id__in=list(participant_ids), substance=substance).order_by(
        "created_at", "id"
    ):
        newest[screening.participant_id] = screening
    decisions: dict[int, list[tuple[str, list[str]]]] = {}
    for d in ScreeningDecision.objects.filter(screening__in=list(newest.values())).order_by("created_at", "id"):
        decisions.setdefault(d.screening_id, []).append((d.decision, d.rule_ids))
    return {pid: effective_outcome(s.reasons, decisions.get(s.pk, [])) for pid, s in newest.items()}
