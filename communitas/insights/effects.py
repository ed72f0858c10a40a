"""Effect sizes with 95% CIs (statistics.md §1.5). Plain functions over numbers and arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

Z975 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class EffectSize:
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n}


def _wald(estimate: float, se: float, n: int) -> EffectSize:
    return EffectSize(estimate, se, estimate - Z975 * se, estimate + Z975 * se, n)


def small_sample_c(m: float) -> float:
    """Exact bias correction c(m) = √(2/m)·Γ(m/2)/Γ((m-1)/2) (Hedges 1981; Becker 1988)."""
    return math.sqrt(2 / m) * math.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2))


def within_change_d(pre: np.ndarray, post: np.ndarray) -> EffectSize:
    """Standardised mean change by the baseline SD: g_pre = c(n-1)·(M_post - M_pre)/SD_pre.

    Becker 1988 / Morris 2008 (statistics.md §1.5), SE ≈ √[2(1-r)/n + g²/(2n)], r the pre-post
    correlation. Pairs with a missing value are dropped.
    """
    pre, post = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    ok = ~(np.isnan(pre) | np.isnan(post))
    pre, post = pre[ok], post[ok]
    n = len(pre)
    if n < 3:
        raise ValueError("within_change_d needs at least 3 complete pairs")
    g = small_sample_c(n - 1) * (post.mean() - pre.mean()) / pre.std(ddof=1)
    r = float(np.corrcoef(pre, post)[0, 1])
    return _wald(float(g), math.sqrt(2 * (1 - r) / n + g**2 / (2 * n)), n)


def hedges_g_from_summary(m1: float, s1: float, n1: int, m2: float, s2: float, n2: int) -> EffectSize:
    """Hedges g = J·(M₁ - M₂)/s_p, J ≈ 1 - 3/(4(n₁+n₂) - 9).

    s_p = √{[(n₁-1)s₁² + (n₂-1)s₂²]/(n₁+n₂-2)}; SE(d) ≈ √{(n₁+n₂)/(n₁n₂) + d²/[2(n₁+n₂)]} and
    SE(g) = J·SE(d) (statistics.md §1.5; Hedges & Olkin 1985).
    """
    if min(n1, n2) < 2:
        raise ValueError("hedges_g needs at least 2 observations per arm")
    sp = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    d = (m1 - m2) / sp
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    se_d = math.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2)))
    return _wald(j * d, j * se_d, n1 + n2)


def hedges_g(x1: np.ndarray, x2: np.ndarray) -> EffectSize:
    """Hedges g between two independent arms (missing values dropped); see hedges_g_from_summary."""
    a, b = (np.asarray(x, dtype=float) for x in (x1, x2))
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    return hedges_g_from_summary(a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b))


def mixed_model_d(
    beta: float, se: float, *, duration: float, sd_baseline: float, sd_predictor: float = 1.0
) -> EffectSize:
    """Feingold (2009) GMA d = β·duration·SD(predictor)/SD_baseline, CI from β's Wald CI.

    β is a slope difference (time x arm, SD(predictor) = 1) or the engagement analogue
    d_eng = β₃·duration·SD(eng)/SD_baseline(y) (statistics.md §1.5). The baseline SD is treated as
    known, as in Feingold 2009, so the CI is β's CI rescaled.
    """
    factor = duration * sd_predictor / sd_baseline
    return _wald(beta * factor, abs(se * factor), 0)
