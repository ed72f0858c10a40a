"""Shapes of the screening data files and of a person's screening answers. Pure (pydantic)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SUBSTANCES = ("psilocybin", "lsd", "ayahuasca", "mdma", "ketamine", "esketamine", "ibogaine")
SUBSTANCE_GROUPS = {
    "classic": ("psilocybin", "lsd", "ayahuasca"),
    "ket": ("ketamine", "esketamine"),
    "all": SUBSTANCES,
}
Severity = Literal["exclude", "requires_medical_review", "caution"]
SEVERITY_ORDER = {"exclude": 0, "requires_medical_review": 1, "caution": 2}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the data files -------------------------------------------------------------------------


class Condition(Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,50}$")]
    label: str
    note: str = ""


class DrugClass(Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,50}$")]
    label: str
    source: str


class Drug(Strict):
    name: str  # generic name, lower case
    aliases: list[str] = []  # salts, brand names, common spellings (matched case- and accent-insensitively)
    classes: list[str]


class Trigger(Strict):
    """One way a rule can fire. A rule fires when any of its triggers does."""

    type: Literal["condition", "family_history", "drug_class", "measurement", "age_below", "answer", "missing"]
    codes: list[str] = []  # condition codes or drug classes
    within_days: int | None = None  # drug_class: taken now, or last taken within this many days
    field: str | None = None  # measurement / answer / missing: an answers field, dotted for nested
    above: float | None = None  # measurement: value > above
    below: float | None = None  # measurement: value < below
    at_least: float | None = None  # measurement: value >= at_least
    equals: bool | None = None  # answer: value == equals
    age: int | None = None  # age_below: age < age


class Rule(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]{0,15}$")]
    title: str
    substances: list[str]
    jurisdictions: list[str] = []  # empty: everywhere; else ISO 3166-2 codes where the rule is law/policy
    severity: Severity
    triggers: list[Trigger]
    rationale: str
    evidence_grade: Literal["regulation", "label", "rct_protocol", "observational", "case", "secondary_web", "policy"]
    source: str
    enabled: bool = True
    overridable: bool = True  # False: no clinician decision can clear it (e.g. a legal age limit)
    escalate: bool = False  # page a human the same day

    @field_validator("jurisdictions")
    @classmethod
    def _iso_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", code)]
        if bad:
            raise ValueError(f"jurisdictions must be ISO 3166 codes such as US-OR: {bad}")
        return value

    @field_validator("substances")
    @classmethod
    def _known_substances(cls, value: list[str]) -> list[str]:
        unknown = set(value) - set(SUBSTANCES) - set(SUBSTANCE_GROUPS)
        if unknown or not value:
            raise ValueError(f"unknown substances: {sorted(unknown)}")
        return value

    def applies_to(self, substance: str, jurisdiction: str) -> bool:
        expanded = {s for name in self.substances for s in SUBSTANCE_GROUPS.get(name, (name,))}
        if substance not in expanded:
            return False
        return not self.jurisdictions or any(
            jurisdiction == j or jurisdiction.startswith(j + "-") for j in self.jurisdictions
        )


class RuleSet(Strict):
    version: str
    conditions: list[Condition]
    rules: list[Rule]

    @model_validator(mode="after")
    def _consistent(self):
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be unique")
        known = {c.code for c in self.conditions}
        for rule in self.rules:
            for trigger in rule.triggers:
                if trigger.type in ("condition", "family_history") and set(trigger.codes) - known:
                    raise ValueError(f"rule {rule.id}: unknown condition codes {sorted(set(trigger.codes) - known)}")
        return self


class DrugTable(Strict):
    version: str
    classes: list[DrugClass]
    drugs: list[Drug]

    @model_validator(mode="after")
    def _consistent(self):
        known = {c.code for c in self.classes}
        for drug in self.drugs:
            if set(drug.classes) - known:
                raise ValueError(f"drug {drug.name}: unknown classes {sorted(set(drug.classes) - known)}")
        return self


# --- a person's answers (the intake vocabulary) -------------------------------------------------


# Answers are typed strictly: "34" is not an age and "yes" is not a boolean (a form or an import
# must send real JSON numbers and booleans), so a wrongly typed answer is an input error, not a guess.
Flag = Annotated[bool, Field(strict=True)]
Days = Annotated[int, Field(strict=True, ge=0, le=36500)]
Age = Annotated[int, Field(strict=True, ge=0, le=120)]
Item = Annotated[int, Field(strict=True, ge=0, le=3)]
Systolic = Annotated[int, Field(strict=True, ge=40, le=300)]
Diastolic = Annotated[int, Field(strict=True, ge=20, le=200)]
HeartRate = Annotated[int, Field(strict=True, ge=20, le=250)]
QTc = Annotated[int, Field(strict=True, ge=250, le=750)]


class Medication(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    last_taken_days_ago: Days | None = None  # None: taking it now


class SuicidalIdeation(Strict):
    """C-SSRS-screener-style answers (only where the organization holds a C-SSRS licence)."""

    wish_dead: Flag = False
    active_thoughts: Flag = False
    method: Flag = False
    intent: Flag = False
    plan: Flag = False
    behavior_past_3_months: Flag = False
    behavior_lifetime: Flag = False


class Answers(Strict):
    age: Age
    pregnant: Flag = False
    breastfeeding: Flag = False
    conditions: list[str] = []
    family_history: list[str] = []
    medications: list[Annotated[str, Field(min_length=1, max_length=120)] | Medication] = []
    suicidal_ideation: SuicidalIdeation | None = None
    phq9_item9: Item | None = None
    harm_ideation: Flag = False
    blood_pressure: tuple[Systolic, Diastolic] | None = None  # [systolic, diastolic] mmHg
    heart_rate: HeartRate | None = None  # beats per minute
    qtc_ms: QTc | None = None  # corrected QT interval from a baseline ECG, ms

    @model_validator(mode="after")
    def _plausible(self):
        if self.blood_pressure and self.blood_pressure[0] <= self.blood_pressure[1]:
            raise ValueError("blood_pressure must be [systolic, diastolic] with systolic above diastolic")
        if len(self.conditions) > 60 or len(self.family_history) > 60 or len(self.medications) > 60:
            raise ValueError("too many entries (at most 60 per list)")
        return self

    def value_of(self, field: str):
        """A field by dotted name; ``systolic``/``diastolic`` read blood_pressure."""
        if field in ("systolic", "diastolic"):
            return None if self.blood_pressure is None else self.blood_pressure[0 if field == "systolic" else 1]
        value: object = self
        for part in field.split("."):
            value = getattr(value, part, None) if value is not None else None
        return value
