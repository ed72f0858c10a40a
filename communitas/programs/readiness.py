"""The "ready" gate: may this person be dosed in this program? Pure.

Ready only when screening is eligible (by the engine or by a clinician's decision), every
required consent is given and not withdrawn, and every document the jurisdiction requires is
complete. A paused enrolment is paused whatever else holds. The preparation-session window
joins the gate when sessions exist (issue 5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Readiness:
    status: str  # ready | not_ready | paused
    missing: list[str] = field(default_factory=list)  # codes; clinical detail stays on the clinical pages


@cache
def required_documents() -> dict[str, list[dict]]:
    text = (resources.files("communitas.programs") / "data" / "required_documents.json").read_text(encoding="utf-8")
    return json.loads(text)["jurisdictions"]


def documents_for(jurisdiction: str) -> list[dict]:
    """Documents a jurisdiction requires (most specific code first: US-OR-xxx falls back to US-OR)."""
    code = jurisdiction
    while code:
        if code in required_documents():
            return required_documents()[code]
        code = code.rpartition("-")[0]
    return []


def readiness(
    *,
    enrollment_status: str,
    screening_outcome: str,
    consent: dict[str, bool],
    required_scopes: set[str],
    required_document_kinds: list[str],
    completed_document_kinds: set[str],
) -> Readiness:
    if enrollment_status in ("paused", "withdrawn", "completed"):
        return Readiness("paused", [f"enrollment_{enrollment_status}"])
    missing = []
    if screening_outcome != "eligible":
        missing.append(f"screening_{screening_outcome}")
    missing += [f"consent_{scope}" for scope in sorted(required_scopes | {"participation"}) if not consent.get(scope)]
    missing += [f"document_{kind}" for kind in required_document_kinds if kind not in completed_document_kinds]
    return Readiness("not_ready" if missing else "ready", missing)
