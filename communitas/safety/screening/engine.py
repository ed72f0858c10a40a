"""Screen one person for one substance in one jurisdiction. Pure.

Outcome: ``excluded`` if any applicable rule with severity ``exclude`` fires; else
``needs_review`` if any ``requires_medical_review`` rule fires or a medication name is not
recognised; else ``eligible`` (``caution`` reasons are still listed). ``escalate`` is true when a
fired rule asks for a human the same day. The engine only ever adds reasons; nothing here can
clear one (see ``services.screening_decide`` for the clinician's recorded decision).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources

from communitas.core.crypto import normalize_term
from communitas.safety.screening.schema import (
    SEVERITY_ORDER,
    SUBSTANCES,
    Answers,
    Drug,
    DrugTable,
    Medication,
    Rule,
    RuleSet,
    Trigger,
)

UNKNOWN_MEDICATION_RULE = "MED-UNKNOWN"
JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")  # ISO 3166-1 alpha-2, or ISO 3166-2 such as US-OR
DOSE = re.compile(
    r"\b\d+([.,]\d+)?\s*(mg|mcg|µg|ug|g|ml|iu|%)?\b|\b(tablets?|capsules?|tabs?|caps?|er|xr|sr|cr|hcl|hydrochloride|daily)\b"
)
# Separators between two medicines written in one entry ("lithium + sertraline", "acetaminophen/codeine").
SEPARATORS = re.compile(r"[+/,;&]|\b(?:and|plus)\b")


class ScreeningInputError(ValueError):
    """Unknown substance, or answers outside the vocabulary (e.g. an unknown condition code)."""


@dataclass(frozen=True)
class Reason:
    rule: str
    severity: str
    explanation: str
    source: str
    overridable: bool = True
    escalate: bool = False


@dataclass(frozen=True)
class ScreeningResult:
    outcome: str  # eligible | needs_review | excluded
    reasons: list[Reason]
    escalate: bool
    substance: str
    jurisdiction: str
    rules_version: str
    unrecognised_medications: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["reasons"] = [asdict(r) for r in self.reasons]
        return data


def _load(name: str) -> str:
    return (resources.files("communitas.safety.screening") / "data" / name).read_text(encoding="utf-8")


@cache
def default_rules() -> RuleSet:
    return RuleSet.model_validate_json(_load("rules.json"))


@cache
def default_drugs() -> DrugTable:
    return DrugTable.model_validate_json(_load("drugs.json"))


_INDEXES: dict[int, tuple[DrugTable, dict[str, Drug]]] = {}


def _canon(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: "St. John's Wort" -> "st john s wort"."""
    return " ".join(re.sub(r"[^\w]+", " ", normalize_term(text)).split())


def _without_doses(text: str) -> str:
    return " ".join(DOSE.sub(" ", text).split())


def _drug_index(drugs: DrugTable) -> dict[str, Drug]:
    """Canonical name -> drug, built once per table (the table is kept alive with its index)."""
    cached = _INDEXES.get(id(drugs))
    if cached is None or cached[0] is not drugs:
        index = {_canon(name): drug for drug in drugs.drugs for name in (drug.name, *drug.aliases)}
        cached = _INDEXES[id(drugs)] = (drugs, index)
    return cached[1]


def _search(text: str, index: dict[str, Drug]) -> list[Drug]:
    """Every known name in ``text`` (whole words), longest first and without overlaps, so
    "sudafed pe" is phenylephrine and not also pseudoephedrine."""
    found: list[Drug] = []
    for known in sorted(index, key=len, reverse=True):
        pattern = rf"(^| ){re.escape(known)}( |$)"
        if re.search(pattern, text):
            found.append(index[known])
            text = re.sub(pattern, " | ", text)
    return found


def identify_all(name: str, drugs: DrugTable) -> tuple[list[Drug], bool]:
    """The drugs a free-text medication entry names (generic, salt or brand; any case, accents or
    punctuation; dose words ignored; several medicines joined by "+", "/", ",", "and" are all
    found), and whether some part of the entry named nothing known."""
    index = _drug_index(drugs)
    text = _canon(name)
    for candidate in (text, _without_doses(text)):
        if candidate in index:
            return [index[candidate]], False
    found: list[Drug] = []
    unrecognised_part = False
    for part in SEPARATORS.split(normalize_term(name)):
        part = _canon(part or "")
        if not _without_doses(part):  # empty, or only a dose ("8/2 mg")
            continue
        hits = _search(part, index) or _search(_without_doses(part), index)
        unrecognised_part = unrecognised_part or not hits
        for drug in hits:
            if drug not in found:
                found.append(drug)
    return found, unrecognised_part or not found


def identify(name: str, drugs: DrugTable) -> Drug | None:
    """The first drug a free-text medication name refers to, or None (see ``identify_all``)."""
    found, _ = identify_all(name, drugs)
    return found[0] if found else None


def _medication_classes(answers: Answers, drugs: DrugTable) -> tuple[list[tuple[set[str], int | None, str]], list[str]]:
    """(classes, days since last taken or None for current, name) per medication, and the entries
    with a name (or part of a name) that is not recognised."""
    found, unknown = [], []
    for entry in answers.medications:
        med = entry if isinstance(entry, Medication) else Medication(name=entry)
        known, unrecognised = identify_all(med.name, drugs)
        if unrecognised:
            unknown.append(med.name)
        if known:
            classes = {c for drug in known for c in drug.classes}
            found.append((classes, med.last_taken_days_ago, med.name))
    return found, unknown


def _fires(trigger: Trigger, answers: Answers, meds) -> str | None:
    """A short description of why ``trigger`` fires for ``answers``, or None."""
    kind = trigger.type
    if kind == "condition":
        hit = sorted(set(trigger.codes) & set(answers.conditions))
        return f"history of {', '.join(hit)}" if hit else None
    if kind == "family_history":
        hit = sorted(set(trigger.codes) & set(answers.family_history))
        return f"family history of {', '.join(hit)}" if hit else None
    if kind == "drug_class":
        for classes, days, name in meds:
            recent = days is None or trigger.within_days is None or days <= trigger.within_days
            if classes & set(trigger.codes) and recent:
                when = "taken now" if days is None else f"last taken {days} days ago"
                return f"{name} ({', '.join(sorted(classes & set(trigger.codes)))}; {when})"
        return None
    if kind == "age_below":
        return (
            f"age {answers.age} is under {trigger.age}"
            if trigger.age is not None and answers.age < trigger.age
            else None
        )
    value = answers.value_of(trigger.field or "")
    if kind == "missing":
        return f"{trigger.field} not recorded" if value is None else None
    if kind == "answer":
        return f"{trigger.field} = {value}" if value is not None and value == trigger.equals else None
    if value is None:  # measurement not taken: only a "missing" trigger speaks to that
        return None
    checks = [
        (
            trigger.above is not None and value > trigger.above,
            f"{trigger.field} {value} > {trigger.above:g}" if trigger.above is not None else "",
        ),
        (
            trigger.below is not None and value < trigger.below,
            f"{trigger.field} {value} < {trigger.below:g}" if trigger.below is not None else "",
        ),
        (
            trigger.at_least is not None and value >= trigger.at_least,
            f"{trigger.field} {value} >= {trigger.at_least:g}" if trigger.at_least is not None else "",
        ),
    ]
    return next((text for hit, text in checks if hit), None)


def _validate(answers: Answers, rules: RuleSet, substance: str, jurisdiction: str) -> None:
    if substance not in SUBSTANCES:
        raise ScreeningInputError(f"unknown substance {substance!r} (known: {', '.join(SUBSTANCES)})")
    if not isinstance(jurisdiction, str) or not JURISDICTION.fullmatch(jurisdiction):
        # A lower-case or misspelt code would silently skip every jurisdiction rule (e.g. Oregon's age 21).
        raise ScreeningInputError(f"jurisdiction {jurisdiction!r} is not an ISO 3166 code such as US-OR")
    known = {c.code for c in rules.conditions}
    unknown = sorted((set(answers.conditions) | set(answers.family_history)) - known)
    if unknown:
        raise ScreeningInputError(f"unknown condition codes: {', '.join(unknown)} (see docs/screening.md)")


def screen(
    answers: Answers,
    *,
    substance: str,
    jurisdiction: str,
    rules: RuleSet | None = None,
    drugs: DrugTable | None = None,
) -> ScreeningResult:
    rules, drugs = rules or default_rules(), drugs or default_drugs()
    _validate(answers, rules, substance, jurisdiction)
    meds, unknown = _medication_classes(answers, drugs)
    reasons = []
    for rule in rules.rules:
        if not rule.enabled or not rule.applies_to(substance, jurisdiction):
            continue
        why = next((w for t in rule.triggers if (w := _fires(t, answers, meds))), None)
        if why:
            reasons.append(_reason(rule, why))
    reasons += [
        Reason(
            rule=UNKNOWN_MEDICATION_RULE,
            severity="requires_medical_review",
            explanation=f"Unrecognised medication {name!r}: a clinician must identify it before dosing.",
            source="Communitas policy: an unknown medication name is never ignored",
        )
        for name in unknown
    ]
    reasons.sort(key=lambda r: (SEVERITY_ORDER[r.severity], r.rule))
    severities = {r.severity for r in reasons}
    outcome = (
        "excluded"
        if "exclude" in severities
        else "needs_review"
        if "requires_medical_review" in severities
        else "eligible"
    )
    return ScreeningResult(
        outcome=outcome,
        reasons=reasons,
        escalate=any(r.escalate for r in reasons),
        substance=substance,
        jurisdiction=jurisdiction,
        rules_version=rules.version,
        unrecognised_medications=unknown,
    )


def _reason(rule: Rule, why: str) -> Reason:
    return Reason(
        rule=rule.id,
        severity=rule.severity,
        explanation=f"{rule.title}: {why}. {rule.rationale}",
        source=rule.source,
        overridable=rule.overridable,
        escalate=rule.escalate,
    )


def parse_answers(text: str) -> Answers:
    """Answers from JSON text; raises ScreeningInputError with a one-line message."""
    from pydantic import ValidationError

    try:
        return Answers.model_validate_json(text)
    except ValidationError as exc:
        # The deepest error is the useful one: for a medication given as an object, the object's
        # own error rather than "not a string" from the other member of the union.
        first = max(exc.errors(), key=lambda e: len(e["loc"]))
        where = ".".join(str(p) for p in first["loc"] if not _union_member(p)) or "answers"
        raise ScreeningInputError(f"{where}: {first['msg']}") from None
    except json.JSONDecodeError as exc:  # pragma: no cover - pydantic wraps JSON errors
        raise ScreeningInputError(f"not JSON: {exc}") from None


def _union_member(part) -> bool:
    """A union member tag in an error location ("constrained-str", "Medication"), not a field."""
    return isinstance(part, str) and (part[:1].isupper() or part.startswith("constrained-"))
