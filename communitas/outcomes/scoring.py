"""The scoring engine: one response in, one result out. Pure: no ORM, no I/O.

Rules come only from the instrument definition (``definitions.py``); each rule's source is
cited in the instrument's file. Safety flags are computed even when the response is incomplete:
a positive item 9 on a half-answered PHQ-9 still pages a human.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from communitas.outcomes.definitions import Extra, Instrument

Answers = Mapping[str, float | None]


class ScoringError(ValueError):
    """An answer is not one the instrument allows, or the answers do not fit the instrument."""


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    version: str
    complete: bool
    total: float | None
    band: str | None
    subscales: dict[str, float | None]
    flags: list[str]
    missing_items: list[str]
    prorated: bool = False
    extras: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(data.pop("extras"))
        return data


def answers_from_list(instrument: Instrument, values: Sequence[float | None]) -> dict[str, float | None]:
    """Map answers given in item order; trailing optional items may be left off."""
    required = sum(1 for i in instrument.items if i.required)
    if not required <= len(values) <= len(instrument.items):
        raise ScoringError(
            f"{instrument.code} has {len(instrument.items)} items ({required} required); got {len(values)} answers"
        )
    return {item.id: values[n] if n < len(values) else None for n, item in enumerate(instrument.items)}


def validate(instrument: Instrument, answers: Answers) -> None:
    unknown = set(answers) - {i.id for i in instrument.items}
    if unknown:
        raise ScoringError(f"{instrument.code}: unknown items {', '.join(sorted(unknown))}")
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ScoringError(f"{instrument.code} item {item.id}: {value!r} is not a number")
        rs = instrument.response_set_for(item)
        if not rs.allows(value):
            allowed = (
                ", ".join(_fmt(o.value) for o in rs.options)
                if rs.type == "choice"
                else f"{_fmt(rs.low)}-{_fmt(rs.high)}"
            )
            raise ScoringError(f"{instrument.code} item {item.id}: {_fmt(value)} is out of range (allowed: {allowed})")


def score(instrument: Instrument, answers: Answers) -> ScoreResult:
    """Score one response. Raises ScoringError for answers the instrument does not allow."""
    validate(instrument, answers)
    keyed = _keyed(instrument, answers)
    missing = [i.id for i in instrument.items if i.required and answers.get(i.id) is None]
    scorable, prorated = _scorable(instrument, missing)
    total = _total(instrument, keyed) if scorable else None
    subscales = {
        s.code: _combine([keyed.get(i) for i in s.items], s.method, prorate=prorated) for s in instrument.subscales
    }
    band = instrument.band_for(total)
    result = ScoreResult(
        instrument=instrument.code,
        version=instrument.version,
        complete=not missing,
        total=total,
        band=band.code if band else None,
        subscales=subscales,
        flags=_flags(instrument, answers, total),
        missing_items=missing,
        prorated=prorated and bool(missing),
    )
    result.extras.update(_extras(instrument, keyed, subscales, total))
    return result


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _keyed(instrument: Instrument, answers: Answers) -> dict[str, float | None]:
    """Answers of scored items after reverse keying (value -> low + high - value)."""
    out: dict[str, float | None] = {}
    for item in instrument.scored_items:
        value = answers.get(item.id)
        if value is not None and item.reverse:
            rs = instrument.response_set_for(item)
            value = rs.low + rs.high - value
        out[item.id] = value
    return out


def _scorable(instrument: Instrument, missing: list[str]) -> tuple[bool, bool]:
    policy = instrument.scoring.missing
    if not missing:
        return True, False
    if policy.policy == "prorate" and len(missing) <= policy.max_missing:
        return True, True
    return False, False


def _combine(values: list[float | None], method: str, *, prorate: bool = False) -> float | None:
    present = [v for v in values if v is not None]
    if not present or (len(present) < len(values) and not prorate):
        return None
    if method == "mean":
        return _clean(sum(present) / len(present))
    return _clean(sum(present) * len(values) / len(present))


def _clean(value: float) -> float:
    rounded = round(value, 6)
    return int(rounded) if float(rounded).is_integer() else rounded


def _total(instrument: Instrument, keyed: dict[str, float | None]) -> float | None:
    scoring = instrument.scoring
    if scoring.method == "domain_max_sum":
        domain_scores = [[v for i in d if (v := keyed.get(i)) is not None] for d in scoring.domains]
        if any(not present for present in domain_scores):
            return None
        base = float(sum(max(present) for present in domain_scores))
    else:
        base_or_none = _combine(list(keyed.values()), scoring.method, prorate=True)
        if base_or_none is None:
            return None
        base = base_or_none
    return _clean(base * scoring.multiplier)


def _flags(instrument: Instrument, answers: Answers, total: float | None) -> list[str]:
    raised = []
    for flag in instrument.flags:
        value = total if flag.on_total else answers.get(flag.item or "")
        if value is None:
            continue
        if (flag.min is None or value >= flag.min) and (flag.max is None or value <= flag.max):
            raised.append(flag.code)
    return raised


def _extras(instrument: Instrument, keyed, subscales, total) -> dict[str, object]:
    out: dict[str, object] = {}
    for extra in instrument.extras:
        out[extra.name] = EXTRA_RULES[extra.type](instrument, extra, keyed, subscales, total)
    return out


def _raw_sum(instrument, extra: Extra, keyed, subscales, total):
    if total is None:
        return None
    return _clean(total / instrument.scoring.multiplier)


def _alternate_sum(instrument, extra: Extra, keyed, subscales, total):
    values = list(keyed.values())
    return None if any(v is None for v in values) else _clean(sum(values))


def _provisional_ptsd(instrument, extra: Extra, keyed, subscales, total):
    """DSM-5 rule: an item rated >= endorse_min counts; need N endorsed items per cluster."""
    by_code = {s.code: s for s in instrument.subscales}
    if any(keyed.get(i) is None for code in extra.require for i in by_code[code].items):
        return None
    endorse = extra.endorse_min if extra.endorse_min is not None else 2
    return all(
        sum(1 for i in by_code[code].items if (keyed[i] or 0) >= endorse) >= needed
        for code, needed in extra.require.items()
    )


def _all_subscales_percent(instrument, extra: Extra, keyed, subscales, total):
    """True when every named subscale reaches ``threshold`` of its maximum (inclusive)."""
    percents = _subscale_percents(instrument, subscales, extra.subscales)
    if any(p is None for p in percents.values()):
        return None
    return all(p >= (extra.threshold or 0) - 1e-9 for p in percents.values())  # type: ignore[operator]


def _subscale_percents(instrument, subscales, codes) -> dict[str, float | None]:
    by_code = {s.code: s for s in instrument.subscales}
    out: dict[str, float | None] = {}
    for code in codes:
        value, subscale = subscales.get(code), by_code[code]
        rs = instrument.response_set_for(next(i for i in instrument.items if i.id == subscale.items[0]))
        low, high = rs.low, rs.high
        if subscale.method == "sum":
            low, high = low * len(subscale.items), high * len(subscale.items)
        out[code] = None if value is None else _clean((value - low) / (high - low))
    return out


def _total_at_least(instrument, extra: Extra, keyed, subscales, total):
    return None if total is None else total >= (extra.threshold or 0)


EXTRA_RULES = {
    "raw_sum": _raw_sum,
    "alternate_sum": _alternate_sum,
    "dsm5_provisional_ptsd": _provisional_ptsd,
    "all_subscales_percent": _all_subscales_percent,
    "total_at_least": _total_at_least,
}


def subscale_percents(instrument: Instrument, result: ScoreResult) -> dict[str, float | None]:
    """Each subscale as a fraction of its possible range (MEQ30/CEQ "percent of maximum")."""
    return _subscale_percents(instrument, result.subscales, [s.code for s in instrument.subscales])


def total_range(instrument: Instrument) -> tuple[float, float]:
    """The lowest and highest total the instrument can produce."""
    items = instrument.scored_items
    lows = [instrument.response_set_for(i).low for i in items]
    highs = [instrument.response_set_for(i).high for i in items]
    scoring = instrument.scoring
    if scoring.method == "mean":
        low, high = min(lows), max(highs)
    elif scoring.method == "domain_max_sum":
        by_id = {i.id: instrument.response_set_for(i) for i in items}
        low = sum(min(by_id[i].low for i in d) for d in scoring.domains)
        high = sum(max(by_id[i].high for i in d) for d in scoring.domains)
    else:
        low, high = sum(lows), sum(highs)
    return _clean(low * scoring.multiplier), _clean(high * scoring.multiplier)
