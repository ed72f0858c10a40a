"""Reliable and clinically significant change (Jacobson & Truax 1991). Pure.

SE = SD * sqrt(1 - r); S_diff = sqrt(2) * SE; RCI = (x2 - x1) / S_diff; |RCI| > 1.96 is reliable
change (clinical.md §2.14 [JT91][BLA22]). Where an instrument cites a published reliable-change
threshold in points instead (GAD-7 6, WHO-5 10), a change of at least that many points is
reliable. The SD, reliability and source used are part of every result, because the choice
changes the answer [BLA22][MAA04].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from communitas.outcomes.definitions import Instrument

Z_95 = 1.96


class ChangeNotAvailable(ValueError):
    """The instrument carries no reliable-change data (e.g. no SD and reliability retrieved)."""


@dataclass(frozen=True)
class ChangeResult:
    instrument: str
    baseline: float
    followup: float
    difference: float  # followup - baseline
    improvement: float  # positive = better, whichever direction the instrument runs
    method: str
    threshold: float  # points of change needed for reliable change
    rci: float | None  # Jacobson-Truax index, None for published thresholds
    sd: float | None
    reliability: float | None
    reliability_kind: str | None
    source: str
    category: str  # reliably_improved | reliably_deteriorated | no_reliable_change
    clinical: str | None  # recovered | improved | unchanged | deteriorated; None without a cut-off
    cutoff: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def reliable_change(instrument: Instrument, baseline: float, followup: float) -> ChangeResult:
    rc = instrument.reliable_change
    if rc is None:
        raise ChangeNotAvailable(f"{instrument.code} has no reliable-change data")
    difference = followup - baseline
    improvement = difference if instrument.scoring.higher_is_better else -difference
    if rc.method == "jacobson_truax":
        s_diff = math.sqrt(2) * rc.sd * math.sqrt(1 - rc.reliability)  # type: ignore[operator]
        rci: float | None = difference / s_diff
        threshold = Z_95 * s_diff
        reliable = abs(rci) > Z_95  # type: ignore[arg-type]
    else:
        rci, threshold = None, float(rc.points)  # type: ignore[arg-type]
        reliable = abs(difference) >= threshold
    category = "no_reliable_change"
    if reliable:
        category = "reliably_improved" if improvement > 0 else "reliably_deteriorated"
    return ChangeResult(
        instrument=instrument.code,
        baseline=baseline,
        followup=followup,
        difference=round(difference, 6),
        improvement=round(improvement, 6),
        method=rc.method,
        threshold=round(threshold, 4),
        rci=None if rci is None else round(rci, 4),
        sd=rc.sd,
        reliability=rc.reliability,
        reliability_kind=rc.reliability_kind,
        source=rc.source,
        category=category,
        clinical=_clinical(instrument, baseline, followup, category),
        cutoff=instrument.clinical_cutoff.value if instrument.clinical_cutoff else None,
    )


def in_clinical_range(instrument: Instrument, score: float) -> bool | None:
    """Clinical range: at or above the cut-off where higher is worse, at or below it where higher
    is better."""
    cutoff = instrument.clinical_cutoff
    if cutoff is None:
        return None
    return score <= cutoff.value if instrument.scoring.higher_is_better else score >= cutoff.value


def _clinical(instrument: Instrument, baseline: float, followup: float, category: str) -> str | None:
    before, after = in_clinical_range(instrument, baseline), in_clinical_range(instrument, followup)
    if before is None:
        return None
    if category == "reliably_improved":
        return "recovered" if before and not after else "improved"
    if category == "reliably_deteriorated":
        return "deteriorated"
    return "unchanged"
