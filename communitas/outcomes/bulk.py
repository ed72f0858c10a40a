"""Vectorized scoring of many responses of one instrument (analytics, imports, benchmarks).

Pure numpy. Input: a float array of shape (n_responses, n_items) in the instrument's item order,
NaN for a missing answer. Output agrees with ``scoring.score`` row by row (tested), under the
instrument's missing policy ("complete_only": any missing required item -> NaN total).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from communitas.outcomes.definitions import Instrument
from communitas.outcomes.scoring import ScoringError


@dataclass(frozen=True)
class BulkScores:
    total: np.ndarray  # float64, NaN where the response cannot be scored
    complete: np.ndarray  # bool
    band: np.ndarray  # int index into instrument.bands, -1 for none
    flags: dict[str, np.ndarray]  # flag code -> bool per response


CHUNK_ROWS = 16384  # work in cache-sized blocks: temporaries stay in L2 instead of RAM


class _Plan:
    """What to compute for one instrument, resolved once per call."""

    def __init__(self, instrument: Instrument):
        items = instrument.items
        sets = [instrument.response_set_for(i) for i in items]
        self.lows, self.highs = np.array([rs.low for rs in sets]), np.array([rs.high for rs in sets])
        self.integral_cols = [
            n
            for n, rs in enumerate(sets)
            if rs.type == "choice" and all(float(o.value).is_integer() for o in rs.options)
        ]
        self.scored = [n for n, i in enumerate(items) if i.scored]
        self.required = [n for n, i in enumerate(items) if i.required]
        self.reverse = [(k, sets[n].low + sets[n].high) for k, n in enumerate(self.scored) if items[n].reverse]
        column = {items[n].id: k for k, n in enumerate(self.scored)}
        self.domains = [[column[i] for i in d] for d in instrument.scoring.domains]
        self.ones = np.ones(len(self.scored))
        self.all_columns = len(self.scored) == len(items)
        self.item_column = {item.id: n for n, item in enumerate(items)}


def _columns(block: np.ndarray, cols: list[int]) -> np.ndarray:
    return block if len(cols) == block.shape[1] else block[:, cols]


def _check_block(instrument: Instrument, plan: _Plan, block: np.ndarray, offset: int) -> None:
    bad = (block < plan.lows) | (block > plan.highs)  # NaN compares False: missing is not out of range
    if plan.integral_cols:
        sub = _columns(block, plan.integral_cols)
        fractional = np.rint(sub) != sub
        fractional &= ~np.isnan(sub)
        if fractional.any():
            row, col = np.argwhere(fractional)[0]
            item = instrument.items[plan.integral_cols[col]]
            raise ScoringError(f"row {offset + row}, item {item.id}: {sub[row, col]:g} is not an allowed answer")
    if bad.any():
        row, col = np.argwhere(bad)[0]
        item = instrument.items[col]
        raise ScoringError(f"row {offset + row}, item {item.id}: {block[row, col]:g} is out of range")


def score_matrix(instrument: Instrument, answers: np.ndarray, *, check: bool = True) -> BulkScores:
    answers = np.asarray(answers, dtype=np.float64)
    if answers.ndim != 2 or answers.shape[1] != len(instrument.items):
        raise ScoringError(f"{instrument.code}: expected shape (n, {len(instrument.items)}), got {answers.shape}")
    if instrument.scoring.missing.policy != "complete_only":
        raise ScoringError("bulk scoring supports the complete_only missing policy only")
    plan, n = _Plan(instrument), answers.shape[0]
    total, complete = np.empty(n), np.empty(n, dtype=bool)
    band = np.full(n, -1, dtype=np.int8)
    flags = {f.code: np.empty(n, dtype=bool) for f in instrument.flags}
    for start in range(0, n, CHUNK_ROWS):
        block, rows = answers[start : start + CHUNK_ROWS], slice(start, start + CHUNK_ROWS)
        if check:
            _check_block(instrument, plan, block, start)
        total[rows] = _total(instrument, plan, _columns(block, plan.scored))
        if plan.all_columns or plan.required == plan.scored:
            complete[rows] = ~np.isnan(total[rows])
        else:
            complete[rows] = ~np.isnan(_columns(block, plan.required)).any(axis=1)
        _bands(instrument, total[rows], band[rows])
        for flag in instrument.flags:
            flags[flag.code][rows] = _flag(plan, flag, block, total[rows])
    return BulkScores(total=total, complete=complete, band=band, flags=flags)


def _total(instrument: Instrument, plan: _Plan, keyed: np.ndarray) -> np.ndarray:
    if plan.reverse:
        keyed = keyed.copy()
        for k, pivot in plan.reverse:
            keyed[:, k] = pivot - keyed[:, k]
    scoring = instrument.scoring
    if scoring.method == "domain_max_sum":
        base = np.sum([keyed[:, d].max(axis=1) for d in plan.domains], axis=0)
    elif scoring.method == "mean":
        base = keyed @ plan.ones / keyed.shape[1]
    else:
        base = keyed @ plan.ones  # BLAS row sum; NaN propagates to the total
    return base * scoring.multiplier if scoring.multiplier != 1 else base


def _bands(instrument: Instrument, total: np.ndarray, out: np.ndarray) -> None:
    for n, b in enumerate(instrument.bands):
        out[(total >= b.min) & (total <= b.max)] = n


def _flag(plan: _Plan, flag, block: np.ndarray, total: np.ndarray) -> np.ndarray:
    values = total if flag.on_total else block[:, plan.item_column[flag.item]]
    hit = ~np.isnan(values)
    if flag.min is not None:
        hit &= values >= flag.min
    if flag.max is not None:
        hit &= values <= flag.max
    return hit
