"""What a screening outcome is once clinicians have decided. Pure.

The engine's reasons stand unless a clinician's recorded decision clears them, one rule at a
time. A non-overridable reason (a legal age limit, high suicide risk) is never cleared. A
clinician may always exclude.
"""

from __future__ import annotations

from collections.abc import Iterable


def effective_outcome(reasons: list[dict], decisions: Iterable[tuple[str, list[str]]]) -> str:
    """``reasons`` as stored on a screening; ``decisions`` as (decision, rule_ids) in order."""
    cleared: set[str] = set()
    for decision, rule_ids in decisions:
        if decision == "exclude":
            return "excluded"
        cleared |= set(rule_ids)
    open_reasons = [
        r
        for r in reasons
        if r["severity"] in ("exclude", "requires_medical_review")
        and not (r.get("overridable", True) and r["rule"] in cleared)
    ]
    if any(r["severity"] == "exclude" for r in open_reasons):
        return "excluded"
    if open_reasons:
        return "needs_review"
    return "eligible"


def clearable(reasons: list[dict]) -> list[str]:
    """Rule ids a clinician may clear (open exclude or review reasons that are overridable)."""
    return [
        r["rule"]
        for r in reasons
        if r["severity"] in ("exclude", "requires_medical_review") and r.get("overridable", True)
    ]
