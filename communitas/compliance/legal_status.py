"""The legal-status registry: may this substance be used under this framework here, on this date? Pure.

Rows (``data/legal_status.json``, built from regulatory.md 5, plus rows admins add to the
``LegalStatusRow`` table) are layered by jurisdiction code: ``US`` (country), ``US-OR``
(state or province), ``US-OR-MUL`` (local). Each row gives one substance one or more status codes,
the dates it is in effect (``effective_from`` inclusive, ``expires_on`` exclusive; an undated row
is in effect on every date), its legal basis and its source.

**How a question is answered.** For each layer, from the country down, the row in effect on the
date is the one with the newest ``effective_from`` (a registry row beats a shipped row with the
same date, a later registry row an earlier one). A layer's row *permits* a framework when one of
its status codes opens that framework (``PERMITTED_BY``); it *prohibits* it when it does not and
either lists ``PROHIBITED`` or is a country row (national law is the base: what a country row does
not grant is prohibited); otherwise it is *silent* (a state program adds a pathway without
closing others, e.g. Oregon's service centers leave federal IND trials alone). A row may narrow
the frameworks it speaks to (``frameworks``), as Colorado's peyote row does. **The most specific
layer that permits or prohibits decides.** When no layer speaks, the pair is unknown and treated
as prohibited (regulatory.md 5: "review by hand"). When the deciding layer permits but a wider
layer prohibits (every state program against the federal CSA), the answer is lawful under the
deciding layer and a caveat names the conflict. The answer always lists every layer consulted.

**Frameworks** (the way a program proposes to use the substance):

``licensed_service_center``
    Supervised adult use at a state-licensed center with a licensed facilitator, no prescription
    or diagnosis: Oregon Psilocybin Services (Measure 109, ORS 475A, OAR 333-333; regulatory.md
    1.1 [R16][R25]) and Colorado healing centers (SB23-290, 4 CCR 755-1, 1 CCR 213-1; regulatory.md
    2 [C10][C14]). Opened by ``REGULATED_ADULT_ACCESS``.
``clinical_trial_ind``
    Research under an FDA Investigational New Drug application (plus, for a US Schedule I
    substance, a DEA researcher registration) or the national equivalent: Schedule I substances
    may be used only in research (21 CFR 1308.11; regulatory.md 4 [F1]); Canada's trials
    (regulatory.md 4 [CA1]). Opened by ``CLINICAL_TRIAL_ONLY`` and, for approved medicines, by
    ``PRESCRIPTION_MEDICINE`` and ``PRESCRIPTION_OFF_LABEL``.
``religious_exemption``
    Ceremonial use by a religious body that holds an exemption: the UDV's hoasca under RFRA
    (*Gonzales v. O Centro*, 546 U.S. 418 (2006); [F3]), the Native American Church's peyote
    (21 CFR 1307.31; [F2]), Brazil's ayahuasca churches (CONAD Resolution No. 1; [BR1]). Opened by
    ``RELIGIOUS_EXEMPTION``; lawful only for the bodies named in the row's conditions.
``authorized_prescriber``
    A named clinician authorised to supply a patient: Australia's TGA Authorised Prescriber scheme
    (Poisons Standard S8; [A1][A2]), Canada's Special Access Program ([CA1][CA2]), Czech medical
    psilocybin ([CZ1]), Germany's BfArM compassionate use ([DE1]), New Mexico's state medical
    program ([N1]), Utah's hospital pilot ([U1]), and US prescription medicines (esketamine REMS
    [F6], off-label ketamine [F7]). Opened by ``MEDICAL_AUTHORIZED_PRESCRIBER``,
    ``SPECIAL_ACCESS_CASE_BY_CASE``, ``COMPASSIONATE_USE``, ``STATE_MEDICAL_PROGRAM``,
    ``HOSPITAL_PILOT``, ``PRESCRIPTION_MEDICINE`` and ``PRESCRIPTION_OFF_LABEL``.
``retreat_abroad``
    A retreat held where the substance is unscheduled or its sale tolerated (Jamaica [JM1],
    Dutch truffles [NL1]); the jurisdiction asked about is the retreat's location. Carrying the
    substance across borders and home-country rules on organising are not covered. Opened by
    ``UNSCHEDULED_UNREGULATED`` and ``TOLERATED_SALE``.
``personal_use_community``
    Adults growing, possessing, using or sharing without payment in a community or peer setting,
    with no sale: Colorado's decriminalization (C.R.S. 18-18-434; [C11]), British Columbia's
    expired pilot ([CA5]). Opened by ``DECRIM_PERSONAL``, ``UNSCHEDULED_UNREGULATED`` and
    ``TOLERATED_SALE``.

``RESEARCH_FUNDING_ONLY`` (Texas ibogaine) opens nothing; ``PROHIBITED`` closes what the row does
not open.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from communitas.compliance.rulepacks import JURISDICTION

STATUS_CODES = (
    "PROHIBITED",
    "DECRIM_PERSONAL",
    "REGULATED_ADULT_ACCESS",
    "STATE_MEDICAL_PROGRAM",
    "HOSPITAL_PILOT",
    "MEDICAL_AUTHORIZED_PRESCRIBER",
    "SPECIAL_ACCESS_CASE_BY_CASE",
    "COMPASSIONATE_USE",
    "CLINICAL_TRIAL_ONLY",
    "RELIGIOUS_EXEMPTION",
    "PRESCRIPTION_MEDICINE",
    "PRESCRIPTION_OFF_LABEL",
    "UNSCHEDULED_UNREGULATED",
    "TOLERATED_SALE",
    "RESEARCH_FUNDING_ONLY",
)
PERMITTED_BY: dict[str, frozenset[str]] = {
    "licensed_service_center": frozenset({"REGULATED_ADULT_ACCESS"}),
    "clinical_trial_ind": frozenset({"CLINICAL_TRIAL_ONLY", "PRESCRIPTION_MEDICINE", "PRESCRIPTION_OFF_LABEL"}),
    "religious_exemption": frozenset({"RELIGIOUS_EXEMPTION"}),
    "authorized_prescriber": frozenset(
        {
            "MEDICAL_AUTHORIZED_PRESCRIBER",
            "SPECIAL_ACCESS_CASE_BY_CASE",
            "COMPASSIONATE_USE",
            "STATE_MEDICAL_PROGRAM",
            "HOSPITAL_PILOT",
            "PRESCRIPTION_MEDICINE",
            "PRESCRIPTION_OFF_LABEL",
        }
    ),
    "retreat_abroad": frozenset({"UNSCHEDULED_UNREGULATED", "TOLERATED_SALE"}),
    "personal_use_community": frozenset({"DECRIM_PERSONAL", "UNSCHEDULED_UNREGULATED", "TOLERATED_SALE"}),
}
FRAMEWORKS = tuple(PERMITTED_BY)
# The substances the shipped rows name; admins may add others (lower-case, underscores).
SUBSTANCES = (
    "psilocybin",
    "psilocybin_truffles",
    "mdma",
    "lsd",
    "dmt",
    "ayahuasca",
    "peyote",
    "mescaline",
    "ibogaine",
    "ketamine",
    "esketamine",
)
SUBSTANCE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
LEVELS = {1: "country", 2: "state", 3: "local"}

StatusCode = Literal[STATUS_CODES]  # type: ignore[valid-type]
Framework = Literal[FRAMEWORKS]  # type: ignore[valid-type]


class LegalStatusInputError(ValueError):
    """A question the registry cannot answer as asked (unknown framework, malformed code)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusRow(Strict):
    """One layer's statement about one substance, shipped or added by an admin."""

    id: str
    jurisdiction: Annotated[str, Field(pattern=JURISDICTION.pattern)]
    substance: Annotated[str, Field(pattern=SUBSTANCE.pattern)]
    statuses: Annotated[list[StatusCode], Field(min_length=1)]
    frameworks: list[Framework] = []  # empty: the row speaks to every framework
    effective_from: datetime.date | None = None
    expires_on: datetime.date | None = None  # first day the row no longer applies
    legal_basis: str
    source: str
    confidence: Literal["high", "med", "low"] = "high"
    conditions: str = ""
    note: str = ""
    origin: Literal["shipped", "registry"] = "shipped"
    seq: int = 0  # registry rows: the primary key (a later row wins a tie)

    @model_validator(mode="after")
    def _dates(self):
        if self.effective_from and self.expires_on and self.expires_on <= self.effective_from:
            raise ValueError(f"row {self.id}: expires_on must be after effective_from")
        return self

    @property
    def level(self) -> str:
        return LEVELS[len(self.jurisdiction.split("-"))]

    def in_effect(self, on: datetime.date) -> bool:
        started = self.effective_from is None or self.effective_from <= on
        return started and (self.expires_on is None or on < self.expires_on)

    def order(self) -> tuple[datetime.date, bool, int]:
        return (self.effective_from or datetime.date.min, self.origin == "registry", self.seq)


class ShippedRow(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]{2,60}$")]
    jurisdiction: str
    substance: str
    statuses: list[str]
    frameworks: list[str] = []
    effective_from: datetime.date | None = None
    expires_on: datetime.date | None = None
    legal_basis: str
    sources: Annotated[list[str], Field(min_length=1)]
    confidence: Literal["high", "med", "low"]
    conditions: str = ""
    note: str = ""


class ShippedFile(Strict):
    version: str
    sources: dict[str, str]
    rows: list[ShippedRow]

    @model_validator(mode="after")
    def _consistent(self):
        ids = [row.id for row in self.rows]
        if len(set(ids)) != len(ids):
            raise ValueError("row ids must be unique")
        for row in self.rows:
            if set(row.sources) - set(self.sources):
                raise ValueError(f"row {row.id}: unknown source keys {sorted(set(row.sources) - set(self.sources))}")
        return self


@cache
def shipped_rows() -> tuple[StatusRow, ...]:
    text = (resources.files("communitas.compliance") / "data" / "legal_status.json").read_text(encoding="utf-8")
    data = ShippedFile.model_validate_json(text)
    return tuple(
        StatusRow.model_validate(
            row.model_dump(exclude={"sources"})
            | {"source": "; ".join(f"[{key}] {data.sources[key]}" for key in row.sources)}
        )
        for row in data.rows
    )


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerUsed:
    level: str  # country | state | local
    jurisdiction: str
    verdict: str  # permits | prohibits | silent | no_row
    row: str | None = None  # the id of the row in effect
    origin: str | None = None  # shipped | registry
    statuses: list[str] = field(default_factory=list)
    legal_basis: str = ""
    source: str = ""
    conditions: str = ""
    effective_from: datetime.date | None = None
    expires_on: datetime.date | None = None
    not_in_effect: list[str] = field(default_factory=list)  # rows for the pair outside their dates


@dataclass(frozen=True)
class Lawfulness:
    lawful: bool
    jurisdiction: str
    substance: str
    framework: str
    on: datetime.date
    decided_by: str | None  # the jurisdiction code of the deciding layer; None when no layer speaks
    layers_used: list[LayerUsed]
    explanation: str
    caveats: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        return _iso_dates(data)


def _iso_dates(value):
    if isinstance(value, dict):
        return {key: _iso_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso_dates(item) for item in value]
    return value.isoformat() if isinstance(value, datetime.date) else value


def _layers(jurisdiction: str) -> list[str]:
    """US-OR-MUL -> [US, US-OR, US-OR-MUL]: country first."""
    parts = jurisdiction.split("-")
    return ["-".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _verdict(row: StatusRow, framework: str) -> str:
    if row.frameworks and framework not in row.frameworks:
        return "silent"
    if set(row.statuses) & PERMITTED_BY[framework]:
        return "permits"
    if "PROHIBITED" in row.statuses or row.level == "country":
        return "prohibits"
    return "silent"


def _not_in_effect(row: StatusRow, on: datetime.date) -> str:
    if row.expires_on is not None and on >= row.expires_on:
        return f"{row.id}, expired {row.expires_on}"
    return f"{row.id}, starts {row.effective_from}"


def _layer(code: str, rows: list[StatusRow], framework: str, on: datetime.date) -> LayerUsed:
    level = LEVELS[len(code.split("-"))]
    mine = [row for row in rows if row.jurisdiction == code]
    current = sorted((row for row in mine if row.in_effect(on)), key=StatusRow.order)
    stale = [_not_in_effect(row, on) for row in mine if not row.in_effect(on)]
    if not current:
        return LayerUsed(level=level, jurisdiction=code, verdict="no_row", not_in_effect=stale)
    row = current[-1]
    return LayerUsed(
        level=level,
        jurisdiction=code,
        verdict=_verdict(row, framework),
        row=row.id,
        origin=row.origin,
        statuses=list(row.statuses),
        legal_basis=row.legal_basis,
        source=row.source,
        conditions=row.conditions,
        effective_from=row.effective_from,
        expires_on=row.expires_on,
        not_in_effect=stale,
    )


def _validate(jurisdiction: str, substance: str, framework: str, on: datetime.date) -> None:
    if framework not in PERMITTED_BY:
        raise LegalStatusInputError(f"unknown framework {framework!r} (known: {', '.join(FRAMEWORKS)})")
    if not isinstance(jurisdiction, str) or not JURISDICTION.fullmatch(jurisdiction):
        raise LegalStatusInputError(f"jurisdiction {jurisdiction!r} is not an ISO 3166 code such as US-OR")
    if not isinstance(substance, str) or not SUBSTANCE.fullmatch(substance):
        raise LegalStatusInputError(f"substance {substance!r} is not a lower-case name such as psilocybin")
    if not isinstance(on, datetime.date) or isinstance(on, datetime.datetime):
        raise LegalStatusInputError("on must be a date")


def evaluate(
    *, jurisdiction: str, substance: str, framework: str, on: datetime.date, rows: Iterable[StatusRow]
) -> Lawfulness:
    """Is ``framework`` lawful for ``substance`` in ``jurisdiction`` on ``on``, given ``rows``?"""
    _validate(jurisdiction, substance, framework, on)
    pair = [row for row in rows if row.substance == substance]
    layers = [_layer(code, pair, framework, on) for code in _layers(jurisdiction)]
    deciding = next((layer for layer in reversed(layers) if layer.verdict in ("permits", "prohibits")), None)
    question = f"{framework} for {substance} in {jurisdiction} on {on}"
    if deciding is None:
        consulted = ", ".join(layer.jurisdiction for layer in layers)
        return Lawfulness(
            lawful=False,
            jurisdiction=jurisdiction,
            substance=substance,
            framework=framework,
            on=on,
            decided_by=None,
            layers_used=layers,
            explanation=(
                f"Not lawful as recorded: {question}. No layer ({consulted}) has a row in effect that speaks to it; "
                "pairs not listed are treated as prohibited (regulatory.md 5). Review by hand."
            ),
            caveats=_stale_caveats(layers),
        )
    lawful = deciding.verdict == "permits"
    return Lawfulness(
        lawful=lawful,
        jurisdiction=jurisdiction,
        substance=substance,
        framework=framework,
        on=on,
        decided_by=deciding.jurisdiction,
        layers_used=layers,
        explanation=_explain(question, deciding, framework, lawful),
        caveats=_caveats(layers, deciding, lawful),
    )


def _explain(question: str, deciding: LayerUsed, framework: str, lawful: bool) -> str:
    statuses = ", ".join(deciding.statuses)
    where = (
        f"the {deciding.level} layer ({deciding.jurisdiction}, row {deciding.row}: {statuses}; {deciding.legal_basis})"
    )
    if lawful:
        return f"Lawful: {question}, under {where}."
    opened_by = ", ".join(sorted(PERMITTED_BY[framework]))
    return f"Not lawful: {question}. Decided by {where}, which opens none of {opened_by}."


def _caveats(layers: list[LayerUsed], deciding: LayerUsed, lawful: bool) -> list[str]:
    caveats = []
    if lawful and deciding.conditions:
        caveats.append(f"Conditions ({deciding.jurisdiction}): {deciding.conditions}")
    if lawful:
        caveats += [
            f"The {layer.level} layer ({layer.jurisdiction}, row {layer.row}: {', '.join(layer.statuses)}; "
            f"{layer.legal_basis}) still prohibits this: lawful under {deciding.jurisdiction} law, "
            f"not under {layer.jurisdiction} law."
            for layer in layers
            if layer.verdict == "prohibits" and layer.jurisdiction != deciding.jurisdiction
        ]
    return caveats + _stale_caveats(layers)


def _stale_caveats(layers: list[LayerUsed]) -> list[str]:
    return [
        f"Not used ({layer.jurisdiction}): row {entry}, not in effect on this date."
        for layer in layers
        for entry in layer.not_in_effect
    ]
