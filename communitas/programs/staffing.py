"""Is a session lawfully and safely staffed? Pure: facts in, violations out.

Checked when a session is planned and again when it starts. The facts come from facilitators
(licences, languages, medical qualification), screening (who needs medical oversight), the
readiness gate, the legal-status registry and the jurisdiction rule pack (ratios, caps, doses).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CLINICAL_KINDS = ("preparation", "administration", "integration")
# Screening reasons that, once a clinician clears them, mean the person may be dosed only with
# medically qualified staff present (cardiovascular, neurological, QTc): Communitas policy.
MEDICAL_OVERSIGHT_RULES = frozenset({"C1R", "C3", "C4", "C6", "C6M", "C8", "N1", "N2", "P7"})


@dataclass(frozen=True)
class StaffMember:
    name: str
    languages: tuple[str, ...]
    licensed: bool
    medically_qualified: bool
    licence_problem: str = ""


@dataclass(frozen=True)
class Attendee:
    label: str  # pseudonym: violations never carry names
    language: str
    needs_medical: bool
    ready: bool
    dose_mg: float | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SessionFacts:
    kind: str
    jurisdiction: str
    lawful: bool
    lawfulness: str  # explanation with the layers used
    staff: list[StaffMember]
    attendees: list[Attendee]
    group_violations: list[Violation] = field(default_factory=list)  # from the jurisdiction rule pack


def _primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def validate_session(facts: SessionFacts) -> list[Violation]:
    out: list[Violation] = []
    clinical = facts.kind in CLINICAL_KINDS
    if facts.kind == "administration" and not facts.lawful:
        out.append(Violation("LAWFUL", f"The program is not lawful here: {facts.lawfulness}", "compliance registry"))
    if clinical and not facts.staff:
        out.append(Violation("STAFF", "No facilitator is assigned.", "regulatory.md 1.2 [R6][R13c]"))
    if clinical:
        for member in facts.staff:
            if not member.licensed:
                why = member.licence_problem or "no valid facilitator licence for this jurisdiction on this date"
                out.append(Violation("LICENCE", f"{member.name}: {why}.", "regulatory.md 1.1, 2 [R25][C8]"))
    spoken = {_primary(lang) for member in facts.staff for lang in member.languages}
    for person in facts.attendees:
        if facts.staff and _primary(person.language) not in spoken:
            out.append(
                Violation(
                    "LANGUAGE",
                    f"Nobody staffing the session speaks {person.language} for {person.label}.",
                    "Communitas policy; regulatory.md 1.3 [R4] (interpreter)",
                )
            )
    if any(p.needs_medical for p in facts.attendees) and not any(m.medically_qualified for m in facts.staff):
        out.append(
            Violation(
                "MEDICAL",
                "A participant's screening requires medically qualified staff; none is assigned.",
                "Communitas policy (screening cleared with medical oversight)",
            )
        )
    if facts.kind == "administration":
        for person in facts.attendees:
            if not person.ready:
                out.append(
                    Violation(
                        "READY",
                        f"{person.label} is not ready (screening, consent or documents).",
                        "programs/readiness.py; issue 4 readiness gate",
                    )
                )
        out += facts.group_violations
    return out
