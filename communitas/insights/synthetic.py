"""Synthetic longitudinal data with known parameters (statistics.md §1.2, §1.3, §3.2).

    score_tij = β0 + β1·time + β2·eng + β3·time·eng [+ β_treat·treated + β_tt·time·treated]
                + treated·u_j + v_ij + e_tij

Long format, one row per participant x wave; rows after dropout keep the design columns with a
missing ``score`` (the analysis drops them and the likelihood is valid under MCAR/MAR).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DROPOUT = ("none", "mcar", "mar")


@dataclass(frozen=True)
class Truth:
    beta: tuple[float, float, float, float] = (15.0, -2.0, -0.5, -0.5)  # Intercept, time, engagement, time:eng
    tau2_group: float = 2.25
    tau2_participant: float = 9.0
    sigma2: float = 6.25
    treat_effect: float = 0.0  # main effect of being in the grouped arm (partially nested designs)
    treat_slope: float = 0.0  # time x treated


def simulate(
    *,
    n_groups: int = 20,
    group_size: int = 10,
    waves: int = 4,
    truth: Truth | None = None,
    dropout: str = "none",
    dropout_rate: float = 0.15,
    n_controls: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Columns: participant, group, treated, time, engagement, score.

    ``dropout``: "mcar" drops a participant after each wave ≥ 1 with probability ``dropout_rate``;
    "mar" makes that probability depend on the previous observed score (higher score, more dropout),
    with the same average rate. ``n_controls`` adds ungrouped participants (treated = 0, group =
    their own pseudo-group id "c<k>", no group effect): the partially nested design of §1.3.
    """
    if dropout not in DROPOUT:
        raise ValueError(f"dropout must be one of {DROPOUT}")
    truth = truth or Truth()
    rng = np.random.default_rng(seed)
    n_treated = n_groups * group_size
    n_people = n_treated + n_controls
    treated = np.r_[np.ones(n_treated), np.zeros(n_controls)]
    group = np.r_[np.repeat(np.arange(n_groups), group_size).astype(str), [f"c{k}" for k in range(n_controls)]]
    u = np.r_[np.repeat(rng.normal(0, np.sqrt(truth.tau2_group), n_groups), group_size), np.zeros(n_controls)]
    v = rng.normal(0, np.sqrt(truth.tau2_participant), n_people)
    eng = rng.normal(0, 1, n_people)
    time = np.arange(waves, dtype=float)
    b0, b1, b2, b3 = truth.beta
    mean = (
        b0
        + b1 * time[None, :]
        + (b2 + b3 * time[None, :]) * eng[:, None]
        + treated[:, None] * (truth.treat_effect + truth.treat_slope * time[None, :])
    )
    score = mean + (u + v)[:, None] + rng.normal(0, np.sqrt(truth.sigma2), (n_people, waves))
    score = _apply_dropout(score, dropout, dropout_rate, rng)
    return pd.DataFrame(
        {
            "participant": np.repeat(np.arange(n_people), waves),
            "group": np.repeat(group, waves),
            "treated": np.repeat(treated.astype(int), waves),
            "time": np.tile(time, n_people),
            "engagement": np.repeat(eng, waves),
            "score": score.ravel(),
        }
    )


def _apply_dropout(score: np.ndarray, dropout: str, rate: float, rng: np.random.Generator) -> np.ndarray:
    if dropout == "none":
        return score
    out = score.copy()
    active = np.ones(score.shape[0], dtype=bool)
    for t in range(1, score.shape[1]):
        if dropout == "mcar":
            prob = np.full(score.shape[0], rate)
        else:  # MAR: logistic in the standardised previous (observed) score
            prev = score[:, t - 1]
            zs = (prev - prev.mean()) / prev.std()
            logit = np.log(rate / (1 - rate)) + 1.0 * zs
            prob = 1 / (1 + np.exp(-logit))
        active &= rng.random(score.shape[0]) >= prob
        out[~active, t] = np.nan
    return out


def simulate_partially_nested_posttest(
    *, n_groups: int = 10, group_size: int = 8, n_controls: int = 80, icc: float = 0.05, seed: int = 0
) -> pd.DataFrame:
    """statistics.md §1.3 single post-test design under the null: y = β0 + T·u_j + e, icc = treated-arm group ICC.

    Columns: participant, group (controls get pseudo-groups), treated, score.
    """
    rng = np.random.default_rng(seed)
    n_treated = n_groups * group_size
    u = np.repeat(rng.normal(0, np.sqrt(icc), n_groups), group_size)
    score = np.r_[u, np.zeros(n_controls)] + rng.normal(0, np.sqrt(1 - icc), n_treated + n_controls)
    return pd.DataFrame(
        {
            "participant": np.arange(n_treated + n_controls),
            "group": np.r_[
                np.repeat(np.arange(n_groups), group_size).astype(str), [f"c{k}" for k in range(n_controls)]
            ],
            "treated": np.r_[np.ones(n_treated, dtype=int), np.zeros(n_controls, dtype=int)],
            "score": score,
        }
    )
