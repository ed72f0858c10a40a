"""Jurisdiction rule packs for group administration sessions and the preparation window. Pure.

A rule pack is data (``data/rulepacks.json`` for the shipped packs, validated here): every number
carries the key of its source and the date it took effect. The shipped pack is Oregon's (OAR
333-333, regulatory.md 1.2, 1.4, 1.5). For any other jurisdiction the organization supplies its
own pack (``organization_pack``): its own ratio table, documents and, optionally, cap, dose
limit, durations and preparation window. No Oregon number is ever reused for another
jurisdiction: a jurisdiction with neither a shipped nor an organization pack raises
``UnknownJurisdiction``.

Band edges are data too. When a dose falls in two bands (Oregon's tables overlap at exactly 5 mg
and exactly 35 mg) the stricter band applies (fewer clients per facilitator, a longer minimum
duration) and a warning names the overlap.
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3}(-[A-Z0-9]{1,12})?)?$")  # US, US-OR, US-OR-MUL
PLAUSIBLE_MAX_MG = 5000.0  # no single-session dose of any supported substance approaches 5 g of active analyte


class ComplianceInputError(ValueError):
    """Input a rule pack cannot be applied to: bad doses or counts, a malformed pack."""


class UnknownJurisdiction(ComplianceInputError):
    """No shipped rule pack and no organization pack for the jurisdiction."""


# --- the data ---------------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SourceKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
Mg = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Sourced(Strict):
    source: SourceKey
    also: list[SourceKey] = []
    effective_from: datetime.date


class Band(Sourced):
    min_mg: Mg
    min_inclusive: bool = True
    max_mg: Mg | None = None  # None: no upper edge
    max_inclusive: bool = False

    def contains(self, mg: float) -> bool:
        above = mg > self.min_mg or (self.min_inclusive and mg == self.min_mg)
        below = self.max_mg is None or mg < self.max_mg or (self.max_inclusive and mg == self.max_mg)
        return above and below

    def describe(self) -> str:
        from_zero = self.min_mg == 0 and self.min_inclusive
        low = "" if from_zero else f"{'>=' if self.min_inclusive else '>'}{self.min_mg:g}"
        high = "" if self.max_mg is None else f"{'<=' if self.max_inclusive else '<'}{self.max_mg:g}"
        if not low and self.max_mg is None:
            return "any dose"
        if not low:
            return f"up to {self.max_mg:g} mg" if self.max_inclusive else f"under {self.max_mg:g} mg"
        return f"{low} and {high} mg" if high else f"{low} mg"


class RatioBand(Band):
    clients_per_facilitator: Annotated[int, Field(ge=1, le=1000)]


class DurationBand(Band):
    minutes: Annotated[int, Field(ge=0, le=24 * 60)]


class RatioTable(Strict):
    rule: str
    bands: Annotated[list[RatioBand], Field(min_length=1)]


class GroupCap(Sourced):
    rule: str
    max_clients: Annotated[int, Field(ge=1, le=1000)]


class DoseLimit(Sourced):
    rule: str
    max_mg: Mg


class LowDose(Sourced):
    """Oregon's row for under 2.5 mg: a first session (or any session with whole fungi) has one
    minimum, a later session at the same center within ``repeat_within_months`` another."""

    below_mg: Mg
    first_session_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    repeat_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    repeat_within_months: Annotated[int, Field(ge=1, le=120)]
    whole_fungi_minutes: Annotated[int, Field(ge=0, le=24 * 60)]


class DurationTable(Strict):
    rule: str
    low_dose: LowDose | None = None
    bands: Annotated[list[DurationBand], Field(min_length=1)]


class PreparationWindow(Sourced):
    rule: str
    min_hours: Annotated[int, Field(ge=0, le=24 * 365)]
    max_days: Annotated[int, Field(ge=1, le=3650)]


class Document(Strict):
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,50}$")]
    label: str
    source: SourceKey
    effective_from: datetime.date


class InputLimit(Sourced):
    max_mg: Annotated[float, Field(gt=0, le=PLAUSIBLE_MAX_MG, allow_inf_nan=False)]


class RulePack(Strict):
    jurisdiction: Annotated[str, Field(pattern=JURISDICTION.pattern)]
    name: str
    kind: Literal["shipped", "organization"]
    substance: str
    unit: str
    effective_from: datetime.date
    sources: dict[SourceKey, str]
    group_ratio: RatioTable
    group_cap: GroupCap | None = None
    dose_limit: DoseLimit | None = None
    duration: DurationTable | None = None
    preparation_window: PreparationWindow | None = None
    documents: list[Document]
    input_limit: InputLimit | None = None
    notes: list[str] = []

    @model_validator(mode="after")
    def _consistent(self):
        for key in self._source_keys():
            if key not in self.sources:
                raise ValueError(f"source key {key!r} is not in the pack's sources")
        _check_coverage(self.group_ratio.bands, start=0.0, what="group_ratio")
        if self.duration is not None:
            start = self.duration.low_dose.below_mg if self.duration.low_dose else 0.0
            _check_coverage(self.duration.bands, start=start, what="duration")
        return self

    def _source_keys(self) -> Iterable[str]:
        sections: list[Sourced] = [*self.group_ratio.bands, *(self.duration.bands if self.duration else [])]
        low_dose = self.duration.low_dose if self.duration else None
        optional: list[Sourced | None] = [self.group_cap, self.dose_limit, self.preparation_window, self.input_limit]
        optional.append(low_dose)
        sections += [s for s in optional if s is not None]
        for section in sections:
            yield section.source
            yield from section.also
        yield from (document.source for document in self.documents)

    def cite(self, key: str, also: Sequence[str] = ()) -> str:
        return "; ".join(self.sources[k] for k in (key, *also))

    @property
    def plausible_max_mg(self) -> float:
        return self.input_limit.max_mg if self.input_limit else PLAUSIBLE_MAX_MG


def _check_coverage(bands: Sequence[Band], *, start: float, what: str) -> None:
    """Bands must cover every dose from ``start`` up to the top edge, without gaps."""
    ordered = sorted(bands, key=lambda b: (b.min_mg, not b.min_inclusive))
    if ordered[0].min_mg != start or not ordered[0].min_inclusive:
        raise ValueError(f"{what}: the first band must start at {start:g} mg inclusive")
    for previous, band in itertools.pairwise(ordered):
        if previous.max_mg is None:
            raise ValueError(f"{what}: only the last band may be open-ended")
        touches = band.min_mg == previous.max_mg and (previous.max_inclusive or band.min_inclusive)
        if not (band.min_mg < previous.max_mg or touches):
            raise ValueError(f"{what}: gap between {previous.describe()} and {band.describe()}")


class Gap(Strict):
    jurisdiction: str
    note: str


class RulePackFile(Strict):
    version: str
    packs: list[RulePack]
    gaps: list[Gap] = []

    @model_validator(mode="after")
    def _unique(self):
        keys = [(p.jurisdiction, p.effective_from) for p in self.packs]
        if len(set(keys)) != len(keys):
            raise ValueError("one pack per jurisdiction and effective date")
        if any(p.kind != "shipped" for p in self.packs):
            raise ValueError("shipped packs have kind 'shipped'")
        return self


@cache
def shipped_packs() -> RulePackFile:
    text = (resources.files("communitas.compliance") / "data" / "rulepacks.json").read_text(encoding="utf-8")
    return RulePackFile.model_validate_json(text)


def organization_pack(data: dict | str) -> RulePack:
    """An organization's own pack (a dict or JSON text in the shape of a shipped pack, with
    ``kind`` "organization"); raises ComplianceInputError with a one-line message."""
    try:
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ComplianceInputError("an organization pack is a JSON object")
        pack = RulePack.model_validate({"kind": "organization", **data})
    except json.JSONDecodeError as exc:
        raise ComplianceInputError(f"organization pack is not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "pack"
        raise ComplianceInputError(f"organization pack {where}: {first['msg']}") from None
    if pack.kind != "organization":
        raise ComplianceInputError("an organization pack has kind 'organization'")
    return pack


# --- choosing the pack ------------------------------------------------------------------------


def ancestors(jurisdiction: str) -> list[str]:
    """US-OR-MUL -> [US-OR-MUL, US-OR, US]: most specific first."""
    parts = jurisdiction.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def has_shipped_pack(jurisdiction: str) -> bool:
    """Does a shipped pack (any version) cover the jurisdiction or a parent of it?"""
    return bool(JURISDICTION.fullmatch(jurisdiction or "")) and bool(_shipped_versions(jurisdiction))


def _shipped_versions(jurisdiction: str) -> list[RulePack]:
    for code in ancestors(jurisdiction):
        versions = [p for p in shipped_packs().packs if p.jurisdiction == code]
        if versions:
            return sorted(versions, key=lambda p: p.effective_from)
    return []


def _gap_note(jurisdiction: str) -> str:
    notes = [g.note for g in shipped_packs().gaps if g.jurisdiction in ancestors(jurisdiction)]
    return f" {notes[0]}" if notes else " Supply an organization rule pack with your own ratio table and documents."


def resolve_pack(jurisdiction: str, *, pack: RulePack | None = None, on: datetime.date | None = None) -> RulePack:
    """The pack to apply: the shipped pack for the jurisdiction (or its parent: US-OR-MUL uses
    US-OR), its newest version in effect ``on`` (default: the newest); else the organization's
    ``pack``. An organization pack never replaces a shipped one."""
    if not isinstance(jurisdiction, str) or not JURISDICTION.fullmatch(jurisdiction):
        raise UnknownJurisdiction(f"jurisdiction {jurisdiction!r} is not an ISO 3166 code such as US-OR")
    versions = _shipped_versions(jurisdiction)
    if pack is not None:
        if pack.jurisdiction not in ancestors(jurisdiction):
            raise ComplianceInputError(f"the {pack.jurisdiction} pack does not cover {jurisdiction}")
        if pack.kind == "organization" and versions:
            raise ComplianceInputError(
                f"{jurisdiction} has a shipped rule pack ({versions[-1].name}); an organization pack cannot replace it"
            )
        if on is not None and pack.effective_from > on:
            raise ComplianceInputError(f"the {pack.name} pack takes effect on {pack.effective_from}, after {on}")
        return pack
    if not versions:
        raise UnknownJurisdiction(f"no rule pack for {jurisdiction}.{_gap_note(jurisdiction)}")
    in_effect = [p for p in versions if on is None or p.effective_from <= on]
    if not in_effect:
        raise UnknownJurisdiction(
            f"no {jurisdiction} rule pack in effect on {on}; the shipped pack starts {versions[0].effective_from}"
        )
    return in_effect[-1]


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    source: str


@dataclass(frozen=True)
class Notice:
    """A warning: the check passed or failed on other grounds, but a person should read this."""

    rule: str
    message: str
    source: str


@dataclass(frozen=True)
class GroupSessionCheck:
    ok: bool
    min_facilitators: int
    max_clients: int  # the most clients this session may hold with the facilitators present
    min_duration_minutes: int | None  # None only for an organization pack without a duration table
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Findings:
    pack: RulePack
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)

    def violate(self, rule: str, message: str, section: Sourced) -> None:
        self.violations.append(Violation(rule, message, self.pack.cite(section.source, section.also)))

    def warn(self, rule: str, message: str, section: Sourced) -> None:
        notice = Notice(rule, message, self.pack.cite(section.source, section.also))
        if notice not in self.warnings:
            self.warnings.append(notice)


# --- checks -----------------------------------------------------------------------------------


def _validated_doses(doses_mg: Sequence[float], pack: RulePack) -> list[float]:
    if isinstance(doses_mg, (str, bytes)) or not isinstance(doses_mg, Sequence):
        raise ComplianceInputError("doses_mg is a list of numbers, one per client")
    if not doses_mg:
        raise ComplianceInputError("a group session needs at least one client (no doses given)")
    doses = []
    for number, dose in enumerate(doses_mg, start=1):
        if isinstance(dose, bool) or not isinstance(dose, (int, float)) or not math.isfinite(dose):
            raise ComplianceInputError(f"client {number}: dose {dose!r} is not a number of mg")
        if dose < 0:
            raise ComplianceInputError(f"client {number}: dose {dose:g} mg is negative")
        if dose > pack.plausible_max_mg:
            raise ComplianceInputError(
                f"client {number}: dose {dose:g} mg is above any plausible dose ({pack.plausible_max_mg:g} mg); "
                "doses are mg of analyte, not of dried material"
            )
        doses.append(float(dose))
    return doses


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ComplianceInputError(f"{name} must be a whole number, 0 or more (got {value!r})")
    return value


def _overlap_message(mg: float, hits: Sequence, chosen: Band, what: Callable) -> str:
    listed = " and ".join(f"'{band.describe()}' ({what(band)})" for band in hits)
    return (
        f"{mg:g} mg sits on an overlapping band edge: the rule lists it in both {listed}; "
        f"the stricter band ({what(chosen)}) is applied. Confirm the reading with the regulator."
    )


def _ratio_text(band) -> str:
    return f"1:{band.clients_per_facilitator}"


def _minutes_text(band) -> str:
    return f"{band.minutes} min"


def _ratio(pack: RulePack, largest: float, found: _Findings) -> int:
    """Clients per facilitator for the largest dose in the group (the strictest band applies)."""
    table = pack.group_ratio
    hits = [band for band in table.bands if band.contains(largest)]
    strictest = min(table.bands, key=lambda b: b.clients_per_facilitator)
    if not hits:
        top = max((b.max_mg or math.inf) for b in table.bands)
        message = (
            f"{largest:g} mg is above the ratio table, which stops at {top:g} mg; no ratio covers it, "
            f"so the strictest band (1:{strictest.clients_per_facilitator}) is used for the minimum facilitators."
        )
        over_limit = pack.dose_limit is not None and largest > pack.dose_limit.max_mg
        (found.warn if over_limit else found.violate)(table.rule, message, strictest)
        return strictest.clients_per_facilitator
    chosen = min(hits, key=lambda b: b.clients_per_facilitator)
    if len(hits) > 1:
        found.warn(table.rule, _overlap_message(largest, hits, chosen, _ratio_text), chosen)
    return chosen.clients_per_facilitator


def _check_cap(pack: RulePack, clients: int, max_occupancy: int | None, found: _Findings) -> int | None:
    caps = []
    if pack.group_cap is not None:
        caps.append(pack.group_cap.max_clients)
        if clients > pack.group_cap.max_clients:
            found.violate(
                pack.group_cap.rule,
                f"{clients} clients: a group session may have at most {pack.group_cap.max_clients} clients, "
                "however many facilitators are present.",
                pack.group_cap,
            )
    if max_occupancy is not None:
        caps.append(max_occupancy)
        if clients > max_occupancy:
            message = f"{clients} clients: the administration area's maximum occupancy is {max_occupancy}."
            if pack.group_cap is not None:
                found.violate(pack.group_cap.rule, message, pack.group_cap)
            else:
                found.violations.append(Violation("OCCUPANCY", message, "the administration area's maximum occupancy"))
    return min(caps) if caps else None


def _check_doses(pack: RulePack, doses: Sequence[float], found: _Findings) -> None:
    limit = pack.dose_limit
    if limit is None:
        return
    for number, dose in enumerate(doses, start=1):
        if dose > limit.max_mg:
            found.violate(
                limit.rule,
                f"client {number}: {dose:g} mg is above the per-session maximum of {limit.max_mg:g} mg "
                "(initial and secondary doses together).",
                limit,
            )


def _low_dose_minutes(low: LowDose, *, first_session: bool, whole_fungi: bool) -> tuple[int, bool]:
    """Minutes for a dose under ``low.below_mg``, and whether the repeat-client minimum was used."""
    if whole_fungi:
        return low.whole_fungi_minutes, False
    if first_session:
        return low.first_session_minutes, False
    return low.repeat_minutes, True


def _client_minutes(
    table: DurationTable, dose: float, found: _Findings, *, first_session: bool, whole_fungi: bool
) -> tuple[int, bool]:
    if table.low_dose is not None and dose < table.low_dose.below_mg:
        return _low_dose_minutes(table.low_dose, first_session=first_session, whole_fungi=whole_fungi)
    hits = [band for band in table.bands if band.contains(dose)]
    if not hits:  # above the table: the dose limit (if any) reports it; the longest minimum applies
        longest = max(table.bands, key=lambda b: b.minutes)
        found.warn(
            table.rule,
            f"{dose:g} mg is above the duration table; the longest minimum ({longest.minutes} min) is used.",
            longest,
        )
        return longest.minutes, False
    chosen = max(hits, key=lambda b: b.minutes)
    if len(hits) > 1:
        found.warn(table.rule, _overlap_message(dose, hits, chosen, _minutes_text), chosen)
    return chosen.minutes, False


def _duration(
    pack: RulePack, doses: Sequence[float], found: _Findings, *, first_session: bool, whole_fungi: bool
) -> int | None:
    table = pack.duration
    if table is None:
        found.warnings.append(Notice("NO-DURATION-RULE", "This rule pack sets no minimum session duration.", pack.name))
        return None
    minutes = [
        _client_minutes(table, dose, found, first_session=first_session, whole_fungi=whole_fungi) for dose in doses
    ]
    longest, repeat_rule = max(minutes)
    if repeat_rule and table.low_dose is not None:  # the repeat-client minimum sets the session's minimum
        low = table.low_dose
        found.warn(
            table.rule,
            f"{low.repeat_minutes} min applies only if every client under {low.below_mg:g} mg had an earlier "
            f"administration session at this same center within {low.repeat_within_months} months and no whole "
            f"fungi are used; otherwise pass first_session (minimum {low.first_session_minutes} min).",
            low,
        )
    return longest


def check_group_session(
    *,
    jurisdiction: str,
    doses_mg: Sequence[float],
    facilitators: int,
    first_session: bool = False,
    whole_fungi: bool = False,
    pack: RulePack | None = None,
    max_occupancy: int | None = None,
    on: datetime.date | None = None,
) -> GroupSessionCheck:
    """Check one group administration session.

    ``doses_mg`` holds each client's total for the session (initial plus secondary doses).
    ``first_session``: at least one client under the low-dose edge is at their first session at
    this center (or their last one there was more than 12 months ago). ``whole_fungi``: whole
    fungi are consumed. ``max_occupancy``: the administration area's maximum occupancy, if known.
    ``max_clients`` in the result is the most clients this session may hold with the facilitators
    present: the smallest of the hard cap, the occupancy and facilitators x the ratio.
    """
    pack = resolve_pack(jurisdiction, pack=pack, on=on)
    doses = _validated_doses(doses_mg, pack)
    facilitators = _count(facilitators, "facilitators")
    if max_occupancy is not None and _count(max_occupancy, "max_occupancy") == 0:
        raise ComplianceInputError("max_occupancy must be at least 1")
    found = _Findings(pack)
    per_facilitator = _ratio(pack, max(doses), found)
    min_facilitators = math.ceil(len(doses) / per_facilitator)
    cap = _check_cap(pack, len(doses), max_occupancy, found)
    if facilitators < min_facilitators:
        found.violate(
            pack.group_ratio.rule,
            f"{len(doses)} clients with a largest dose of {max(doses):g} mg need at least {min_facilitators} "
            f"facilitator(s) (1:{per_facilitator}); {facilitators} present.",
            next(b for b in pack.group_ratio.bands if b.clients_per_facilitator == per_facilitator),
        )
    _check_doses(pack, doses, found)
    minutes = _duration(pack, doses, found, first_session=first_session, whole_fungi=whole_fungi)
    by_ratio = facilitators * per_facilitator
    return GroupSessionCheck(
        ok=not found.violations,
        min_facilitators=min_facilitators,
        max_clients=by_ratio if cap is None else min(cap, by_ratio),
        min_duration_minutes=minutes,
        violations=found.violations,
        warnings=found.warnings,
    )


def max_dose_mg(jurisdiction: str, *, pack: RulePack | None = None, on: datetime.date | None = None) -> float | None:
    """The per-session maximum per client (initial and secondary doses together), or None when
    the pack sets none. Raises UnknownJurisdiction like ``check_group_session``."""
    limit = resolve_pack(jurisdiction, pack=pack, on=on).dose_limit
    return None if limit is None else limit.max_mg


def check_preparation_window(
    *,
    jurisdiction: str,
    preparation_at: datetime.datetime,
    administration_at: datetime.datetime,
    pack: RulePack | None = None,
    on: datetime.date | None = None,
) -> list[Violation]:
    """The preparation session must be held at least ``min_hours`` and at most ``max_days``
    (counted as elapsed time, max_days x 24 h) before the client's first administration session
    with that facilitator. Both times must be timezone-aware. A pack without a window checks
    nothing."""
    pack = resolve_pack(jurisdiction, pack=pack, on=on)
    for name, value in (("preparation_at", preparation_at), ("administration_at", administration_at)):
        if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
            raise ComplianceInputError(f"{name} must be a timezone-aware datetime")
    window = pack.preparation_window
    if window is None:
        return []
    gap = administration_at - preparation_at
    source = pack.cite(window.source, window.also)
    if gap < datetime.timedelta(hours=window.min_hours):
        when = "after" if gap < datetime.timedelta(0) else f"{_hours(gap)} before"
        return [
            Violation(
                window.rule,
                f"The preparation session is {when} the administration session; it must be at least "
                f"{window.min_hours} hours before.",
                source,
            )
        ]
    if gap > datetime.timedelta(days=window.max_days):
        return [
            Violation(
                window.rule,
                f"The preparation session is {gap.days} days {_hours(gap - datetime.timedelta(days=gap.days))} "
                f"before the administration session; it must be at most {window.max_days} days before.",
                source,
            )
        ]
    return []


def _hours(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
