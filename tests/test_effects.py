"""Effect sizes match their published formulas and worked numbers (statistics.md §1.5)."""

import math

import numpy as np
import pytest

from communitas.insights.effects import (
    hedges_g,
    hedges_g_from_summary,
    mixed_model_d,
    small_sample_c,
    within_change_d,
)


def test_it_reproduces_the_mapp1_between_arm_d():
    # Mitchell et al. 2021: change -24.4 (SD 11.6, n 42) vs -13.9 (SD 11.5, n 37); d = 0.91
    g = hedges_g_from_summary(-13.9, 11.5, 37, -24.4, 11.6, 42)
    j = 1 - 3 / (4 * 79 - 9)
    assert g.estimate / j == pytest.approx(0.909, abs=5e-4)
    assert g.ci_low < g.estimate < g.ci_high and g.n == 79
    assert g.se == pytest.approx(j * math.sqrt(79 / (37 * 42) + (g.estimate / j) ** 2 / 158))


def test_it_computes_hedges_g_from_raw_arms():
    a, b = np.array([3.0, 4.0, 5.0, 6.0, np.nan]), np.array([1.0, 2.0, 3.0])
    assert hedges_g(a, b).estimate == pytest.approx(hedges_g_from_summary(4.5, a[:4].std(ddof=1), 4, 2, 1, 3).estimate)


def test_its_bias_correction_is_close_to_hedges_approximation():
    assert small_sample_c(20) == pytest.approx(1 - 3 / (4 * 20 - 1), abs=1e-4)


def test_it_standardises_within_group_change_by_the_baseline_sd():
    rng = np.random.default_rng(0)
    pre = rng.normal(20, 5, 200)
    post = pre - 5 + rng.normal(0, 3, 200)
    d = within_change_d(pre, post)
    expected = small_sample_c(199) * (post.mean() - pre.mean()) / pre.std(ddof=1)
    r = np.corrcoef(pre, post)[0, 1]
    assert d.estimate == pytest.approx(expected)
    assert d.se == pytest.approx(math.sqrt(2 * (1 - r) / 200 + expected**2 / 400))
    assert d.ci_low < -1.0 < d.ci_high  # true d = -5/5


def test_it_drops_incomplete_pairs():
    d = within_change_d(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, np.nan, 3.5, 5.0]))
    assert d.n == 3


def test_it_scales_the_mixed_model_slope_to_feingold_d():
    # statistics.md §1.5 illustration: -0.5 · 3 · 1 / 4.18 = -0.36 per SD of engagement
    d = mixed_model_d(-0.5, 0.1, duration=3, sd_baseline=4.18)
    assert d.estimate == pytest.approx(-0.3589, abs=1e-4)
    assert (d.ci_low, d.ci_high) == pytest.approx(
        ((-0.5 - 1.959964 * 0.1) * 3 / 4.18, (-0.5 + 1.959964 * 0.1) * 3 / 4.18)
    )
