"""Instrument definitions: the schema every instrument file must satisfy, and the loader.

Pure: no ORM. An instrument is data (one JSON file per instrument in ``instruments/``); the
scoring engine reads only what is declared here. Organizations may add their own instruments or
translations in the same schema (see ``models.CustomInstrument``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Text = dict[str, str]  # language tag -> text
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    value: float
    label: Text
    loinc: str | None = None


class ResponseSet(Strict):
    type: Literal["choice", "vas"]
    options: list[Option] = []
    min: float | None = None
    max: float | None = None
    anchors: Text | None = None  # VAS end labels, "low … high"

    @model_validator(mode="after")
    def _shape(self):
        if self.type == "choice" and len(self.options) < 2:
            raise ValueError("a choice response set needs at least two options")
        if self.type == "vas" and (self.min is None or self.max is None or self.min >= self.max):
            raise ValueError("a VAS response set needs min < max")
        return self

    @property
    def low(self) -> float:
        return min(o.value for o in self.options) if self.type == "choice" else float(self.min)  # type: ignore[arg-type]

    @property
    def high(self) -> float:
        return max(o.value for o in self.options) if self.type == "choice" else float(self.max)  # type: ignore[arg-type]

    def allows(self, value: float) -> bool:
        if self.type == "choice":
            return any(value == o.value for o in self.options)
        return self.low <= value <= self.high


class Item(Strict):
    id: str
    text: Text = {}  # full wording, only where the licence permits
    label: str  # short neutral label (item number and domain) shown when no text is licensed
    response_set: str
    reverse: bool = False
    scored: bool = True
    required: bool = True
    loinc: str | None = None


class Subscale(Strict):
    code: Code
    name: str
    items: list[str]
    method: Literal["sum", "mean"]


class Band(Strict):
    min: float
    max: float
    code: Code
    label: Text


class Flag(Strict):
    """Raised when an item (or the total) falls in [min, max]. Safety flags page a human."""

    code: Code
    kind: Literal["safety", "clinical"]
    item: str | None = None
    on_total: bool = False
    min: float | None = None
    max: float | None = None
    note: str = ""


class MissingPolicy(Strict):
    policy: Literal["complete_only", "prorate"] = "complete_only"
    max_missing: int = 0


class Scoring(Strict):
    method: Literal["sum", "mean", "domain_max_sum"]
    multiplier: float = 1
    domains: list[list[str]] = []  # domain_max_sum: each domain scores the max of its items
    missing: MissingPolicy = MissingPolicy()
    higher_is_better: bool = False


class Extra(Strict):
    """An instrument-specific derived result, by rule type."""

    type: Literal["raw_sum", "dsm5_provisional_ptsd", "all_subscales_percent", "total_at_least", "alternate_sum"]
    name: Code
    threshold: float | None = None
    endorse_min: float | None = None
    require: dict[str, int] = {}
    subscales: list[str] = []
    source: str = ""


class ReliableChange(Strict):
    method: Literal["jacobson_truax", "published_threshold"]
    sd: float | None = None
    reliability: float | None = None
    reliability_kind: Literal["alpha", "test_retest"] | None = None
    points: float | None = None
    sd_source: str = ""
    source: str

    @model_validator(mode="after")
    def _complete(self):
        if self.method == "jacobson_truax" and not (self.sd and self.reliability is not None):
            raise ValueError("jacobson_truax needs sd and reliability")
        if self.method == "published_threshold" and not self.points:
            raise ValueError("published_threshold needs points")
        return self


class ClinicalCutoff(Strict):
    """Jacobson-Truax criterion c: the score separating the clinical from the functional range."""

    value: float
    source: str


class Provenance(Strict):
    translated_by: str
    validated: bool
    source: str
    note: str = ""


class Licence(Strict):
    name: str
    item_text_included: bool
    note: str = ""


class Instrument(Strict):
    code: Code
    name: str
    version: str
    languages: list[str]
    recall_period: str = ""
    instructions: Text = {}
    licence: Licence
    citation: str
    sources: list[str]
    response_sets: dict[str, ResponseSet]
    items: list[Item]
    scoring: Scoring
    subscales: list[Subscale] = []
    bands: list[Band] = []
    flags: list[Flag] = []
    extras: list[Extra] = []
    reliable_change: ReliableChange | None = None
    clinical_cutoff: ClinicalCutoff | None = None
    mcid: float | None = None
    loinc_panel: str | None = None
    loinc_total: str | None = None
    translations: dict[str, Provenance] = {}
    unverified: list[str] = []

    @model_validator(mode="after")
    def _consistent(self):
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        known = set(ids)
        for item in self.items:
            if item.response_set not in self.response_sets:
                raise ValueError(f"item {item.id}: unknown response set {item.response_set!r}")
        referenced = [i for s in self.subscales for i in s.items] + [i for d in self.scoring.domains for i in d]
        referenced += [f.item for f in self.flags if f.item]
        unknown = sorted(set(referenced) - known)
        if unknown:
            raise ValueError(f"unknown item ids referenced: {', '.join(unknown)}")
        if self.scoring.method == "domain_max_sum" and not self.scoring.domains:
            raise ValueError("domain_max_sum scoring needs domains")
        subscale_codes = {s.code for s in self.subscales}
        for extra in self.extras:
            missing = (set(extra.require) | set(extra.subscales)) - subscale_codes
            if missing:
                raise ValueError(f"extra {extra.name}: unknown subscales {sorted(missing)}")
        for band in self.bands:
            if band.min > band.max:
                raise ValueError(f"band {band.code}: min > max")
        return self

    @property
    def scored_items(self) -> list[Item]:
        return [i for i in self.items if i.scored]

    def response_set_for(self, item: Item) -> ResponseSet:
        return self.response_sets[item.response_set]

    def text_for(self, item: Item, language: str) -> str:
        return item.text.get(language) or item.text.get("en") or item.label

    def band_for(self, total: float | None) -> Band | None:
        if total is None:
            return None
        return next((b for b in self.bands if b.min <= total <= b.max), None)


class InstrumentError(ValueError):
    """An instrument file does not satisfy the schema."""


def parse_instrument(data: dict | str) -> Instrument:
    try:
        return Instrument.model_validate_json(data) if isinstance(data, str) else Instrument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InstrumentError(f"{where or 'instrument'}: {first['msg']}") from exc


@cache
def builtin_instruments() -> dict[str, Instrument]:
    """Every instrument shipped in ``communitas/outcomes/instruments/``, validated."""
    found = {}
    for entry in sorted(resources.files("communitas.outcomes.instruments").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            instrument = parse_instrument(json.loads(entry.read_text(encoding="utf-8")))
            if f"{instrument.code}.json" != entry.name:
                raise InstrumentError(f"{entry.name}: code {instrument.code!r} does not match the file name")
            found[instrument.code] = instrument
    return found


def get_builtin(code: str) -> Instrument:
    try:
        return builtin_instruments()[code]
    except KeyError:
        known = ", ".join(sorted(builtin_instruments()))
        raise InstrumentError(f"unknown instrument {code!r} (known: {known})") from None
