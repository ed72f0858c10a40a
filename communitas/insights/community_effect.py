"""The "community effect" analysis behind the dashboard panel: does circle engagement go with more
improvement? Pure (rows in, a JSON-ready dict out); ``services.analysis_run_execute`` feeds it the
analysis dataset (``dataset.analysis_rows``: research consent only, pseudonyms, no dates).

Model (statistics.md §1.1-1.3), fitted by ``mixed.fit_mixed`` with REML:

    score ~ followup * (grouped + engagement)    random intercepts: circle, participant in circle

* ``followup`` is 0 at baseline and 1 at every later wave, so ``followup`` is the mean change from
  baseline and each ``followup:x`` term is how that change differs with x. A step rather than a
  straight line in time, because scores move at the first follow-up and then plateau; a linear
  ``time`` would misfit both parts.
* ``grouped`` is 1 for participants in a circle. People in no circle are their own pseudo-group
  with no circle effect (partially nested design, Bauer, Sterba & Hallfors 2008), and their
  ``engagement`` is 0, so ``followup:engagement`` compares circle members with more and less
  attendance, and ``followup:grouped`` compares circle members at zero attendance with people in
  no circle. When everyone is in a circle the model drops ``grouped`` (fully nested).
* ``engagement`` is circle meetings attended / offered from the participant's baseline (0 to 1):
  its coefficient is the difference between attending none and attending all.

The headline is ``followup:engagement``, restated in the instrument's direction ("more improvement"
or "less improvement"), with the Feingold (2009) d per SD of engagement. It is an association in
observational data, never labelled as a causal effect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from communitas.insights.effects import mixed_model_d
from communitas.insights.labels import TERM_LABELS
from communitas.insights.mixed import MixedModelError, fit_mixed

KEY = "followup:engagement"

MIN_PARTICIPANTS_WITH_FOLLOWUP = 10

Progress = Callable[[int, str], None]


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        raise MixedModelError("the analysis dataset is empty: no research-consenting participant has a score")
    df = df[df["score"].notna()].copy()
    df["followup"] = (df["wave"] > 0).astype(int)
    engagement = pd.to_numeric(df["engagement"], errors="coerce")
    df["engagement"] = engagement.where(df["grouped"] == 1, 0.0)
    return df


def community_effect(rows: list[dict], *, higher_is_better: bool, progress: Progress | None = None) -> dict[str, Any]:
    """Fit the model above and assemble what the panel shows. Raises MixedModelError (a message for
    the user) when the data cannot answer the question."""
    report = progress or (lambda pct, stage: None)
    df = _frame(rows)
    grouped_people = df.loc[df["grouped"] == 1, "participant"].nunique()
    solo_people = df.loc[df["grouped"] == 0, "participant"].nunique()
    if grouped_people == 0:
        raise MixedModelError("no participant in the dataset is in a circle, so engagement cannot be compared")
    with_followup = df.loc[df["followup"] == 1, "participant"].nunique()
    if with_followup < MIN_PARTICIPANTS_WITH_FOLLOWUP:
        raise MixedModelError(
            f"only {with_followup} participant(s) have a follow-up score; "
            f"at least {MIN_PARTICIPANTS_WITH_FOLLOWUP} are needed"
        )
    partially_nested = solo_people > 0
    formula = "score ~ followup * (grouped + engagement)" if partially_nested else "score ~ followup * engagement"
    report(30, "Fitting the mixed model")
    fit = fit_mixed(
        df,
        formula,
        participant="participant",
        group="group",
        partially_nested_by="grouped" if partially_nested else None,
    )
    report(80, "Effect sizes and the plot")
    model = fit.as_dict()
    key = model["fixed_effects"].get(KEY)
    baseline_scores = df.loc[df["wave"] == 0, "score"]
    members = df[df["grouped"] == 1].drop_duplicates("participant")["engagement"].dropna()
    d = None
    if key is not None and len(baseline_scores) > 1 and baseline_scores.std() > 0 and members.std() > 0:
        d = mixed_model_d(
            key["estimate"],
            key["se"],
            duration=1.0,
            sd_baseline=float(baseline_scores.std()),
            sd_predictor=float(members.std()),
        ).as_dict()
    return {
        "formula": formula,
        "partially_nested": partially_nested,
        "model": model,
        "terms": [
            {"name": name, "label": str(TERM_LABELS.get(name, name)), **values}
            for name, values in model["fixed_effects"].items()
        ],
        "headline": _headline(key, higher_is_better),
        "d_per_sd_engagement": d,
        "n_grouped": int(grouped_people),
        "n_solo": int(solo_people),
        "higher_is_better": higher_is_better,
        **_scatter(df, model["fixed_effects"], partially_nested),
    }


def _headline(key: dict | None, higher_is_better: bool) -> dict | None:
    if key is None:
        return None
    sign = 1 if higher_is_better else -1
    improvement = sign * key["estimate"]
    low, high = sorted((sign * key["ci_low"], sign * key["ci_high"]))
    excludes_zero = low > 0 or high < 0
    return {
        "improvement": improvement,
        "ci_low": low,
        "ci_high": high,
        "p": key["p"],
        "direction": "more" if improvement > 0 else "less",
        "clear": excludes_zero,
    }


def _scatter(df: pd.DataFrame, effects: dict, partially_nested: bool) -> dict[str, Any]:
    """Circle members' attendance against their change at the latest follow-up, and the model's line
    (the mean change over follow-ups predicted at each attendance)."""
    base = df[df["wave"] == 0].set_index("participant")["score"]
    last = df[df["wave"] > 0].sort_values("wave").groupby("participant").last()
    last = last[last.index.isin(base.index)]
    change = last["score"] - base.reindex(last.index)
    members = last["grouped"] == 1
    points = [
        {"x": round(float(x), 4), "y": round(float(y), 4)}
        for x, y in zip(last.loc[members, "engagement"], change[members], strict=True)
        if np.isfinite(x) and np.isfinite(y)
    ]
    solo = change[~members]
    line = None
    if "followup" in effects and KEY in effects:
        intercept = effects["followup"]["estimate"]
        if partially_nested and "followup:grouped" in effects:
            intercept += effects["followup:grouped"]["estimate"]
        line = (round(intercept, 6), round(effects[KEY]["estimate"], 6))
    return {
        "points": points,
        "line": line,
        "solo_mean_change": round(float(solo.mean()), 4) if len(solo) else None,
        "solo_n": len(solo),
    }
