"""The mixed-model engine agrees with statsmodels MixedLM, recovers known parameters and reports
boundary fits instead of crashing (docs/insights.md)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from communitas.insights import mixed
from communitas.insights.mixed import MixedModelError, between_within, fit_mixed
from communitas.insights.synthetic import Truth, simulate, simulate_partially_nested_posttest

sm = pytest.importorskip("statsmodels.regression.mixed_linear_model")
smf = pytest.importorskip("statsmodels.formula.api")

FORMULA = "score ~ time * engagement"
REL = 1e-4


def _statsmodels_nested(data, reml):
    model = smf.mixedlm(FORMULA, data, groups="group", re_formula="1", vc_formula={"participant": "0 + C(participant)"})
    return _best_statsmodels_fit(model, reml)


def _best_statsmodels_fit(model, reml):
    """statsmodels at tight tolerances: the better of L-BFGS (tiny pgtol) and BFGS (tiny gtol)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [
            model.fit(reml=reml, method=["lbfgs"], maxiter=5000, pgtol=1e-12, factr=1.0),
            model.fit(reml=reml, method=["bfgs"], maxiter=5000, gtol=1e-10),
        ]
    return max(fits, key=lambda fit: fit.llf)


def _dense_se(data, formula, tau2_g, tau2_p, sigma2, group_col="group", z=None):
    """Reference SE = √diag(σ²-scaled (XᵀV⁻¹X)⁻¹) from a dense V (what lme4 reports)."""
    from formulaic import model_matrix

    X = np.asarray(model_matrix(formula.split("~")[1], data))
    z = np.ones(len(data)) if z is None else z
    same_g = (data[group_col].to_numpy()[:, None] == data[group_col].to_numpy()[None, :]) * np.outer(z, z)
    same_p = data.participant.to_numpy()[:, None] == data.participant.to_numpy()[None, :]
    V = sigma2 * np.eye(len(data)) + tau2_p * same_p + tau2_g * same_g
    return np.sqrt(np.diag(np.linalg.inv(X.T @ np.linalg.solve(V, X))))


def _assert_close(ours, theirs, rel=REL):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=rel)


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_it_agrees_with_statsmodels_on_a_balanced_nested_design(method):
    data = simulate(n_groups=40, group_size=10, seed=3)
    ours = fit_mixed(data, FORMULA, participant="participant", group="group", method=method)
    theirs = _statsmodels_nested(data, reml=method == "reml")
    assert ours.converged and ours.backend == "communitas" and ours.warnings == []
    assert ours.loglik >= theirs.llf - 1e-7
    _assert_close(ours.loglik, theirs.llf, rel=1e-8)
    _assert_close([fe.estimate for fe in ours.fixed_effects.values()], theirs.fe_params[list(ours.fixed_effects)])
    vc = ours.variance_components
    _assert_close(
        [vc["group"], vc["participant"], vc["residual"]], [theirs.cov_re.iloc[0, 0], *theirs.vcomp, theirs.scale]
    )
    _assert_same_standard_errors(ours, theirs, data, FORMULA)


def _assert_same_standard_errors(ours, theirs, data, formula, z=None):
    """Two conventions, each equal to its reference: ``se`` is σ²(XᵀV⁻¹X)⁻¹ (lme4's vcov, checked
    against a dense computation), ``se_observed`` inverts the observed information of (β, θ) as
    statsmodels' ``bse_fe`` does. They differ by up to ~1e-3 (more under dropout)."""
    vc = ours.variance_components
    ses = [fe.se for fe in ours.fixed_effects.values()]
    dense = _dense_se(data, formula, vc["group"], vc["participant"], vc["residual"], z=z)
    _assert_close(ses, dense, rel=1e-8)
    _assert_close([fe.se_observed for fe in ours.fixed_effects.values()], theirs.bse_fe[list(ours.fixed_effects)])


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_it_agrees_with_statsmodels_under_mar_dropout(method):
    data = simulate(n_groups=40, group_size=10, seed=3, dropout="mar")
    ours = fit_mixed(data, FORMULA, participant="participant", group="group", method=method)
    observed = data.dropna()
    theirs = _statsmodels_nested(observed, reml=method == "reml")
    assert ours.n_obs == len(observed) and "missing outcome" in ours.warnings[0]
    assert ours.loglik >= theirs.llf - 1e-7
    _assert_close(ours.loglik, theirs.llf, rel=1e-8)
    _assert_close([fe.estimate for fe in ours.fixed_effects.values()], theirs.fe_params[list(ours.fixed_effects)])
    vc = ours.variance_components
    _assert_close(
        [vc["group"], vc["participant"], vc["residual"]], [theirs.cov_re.iloc[0, 0], *theirs.vcomp, theirs.scale]
    )
    _assert_same_standard_errors(ours, theirs, observed, FORMULA)


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_its_likelihood_equals_statsmodels_at_statsmodels_optimum(method):
    data = simulate(n_groups=30, group_size=6, seed=11, dropout="mcar")
    theirs = _statsmodels_nested(data.dropna(), reml=method == "reml")
    prep = mixed.prepare(data, FORMULA, participant="participant", group="group")
    sums = mixed.NestedSums.build(prep)
    ratios = (theirs.cov_re.iloc[0, 0] / theirs.scale, theirs.vcomp[0] / theirs.scale)
    at = mixed.profile(sums, *ratios, reml=method == "reml")
    _assert_close(at.loglik, theirs.llf, rel=1e-10)
    _assert_close(at.beta, theirs.fe_params, rel=1e-7)
    _assert_close(at.sigma2, theirs.scale, rel=1e-7)


def test_it_agrees_with_statsmodels_on_a_partially_nested_design():
    truth = Truth(tau2_group=2.0, treat_effect=-1.0, treat_slope=-1.0)
    data = simulate(n_groups=15, group_size=8, n_controls=120, truth=truth, seed=5)
    formula = "score ~ time * treated + engagement"
    ours = fit_mixed(data, formula, participant="participant", group="group", partially_nested_by="treated")
    model = smf.mixedlm(
        formula, data, groups="group", re_formula="0 + treated", vc_formula={"participant": "0 + C(participant)"}
    )
    theirs = _best_statsmodels_fit(model, reml=True)
    assert ours.n_groups == 15 and ours.n_participants == 240
    assert ours.loglik >= theirs.llf - 1e-7
    _assert_close(ours.loglik, theirs.llf, rel=1e-8)
    _assert_close([fe.estimate for fe in ours.fixed_effects.values()], theirs.fe_params[list(ours.fixed_effects)])
    vc = ours.variance_components
    _assert_close(
        [vc["group"], vc["participant"], vc["residual"]], [theirs.cov_re.iloc[0, 0], *theirs.vcomp, theirs.scale]
    )
    _assert_same_standard_errors(ours, theirs, data, formula, z=data.treated.to_numpy(float))


def test_it_reports_a_boundary_fit_when_the_true_group_variance_is_zero():
    data = simulate(n_groups=20, group_size=10, truth=Truth(tau2_group=0.0), seed=1)
    result = fit_mixed(data, FORMULA, participant="participant", group="group")
    assert result.variance_components["group"] == 0.0 and result.icc["group"] == 0.0
    assert "boundary fit: group variance is 0 (singular)" in result.warnings
    assert result.converged and np.isfinite(result.loglik)


def test_it_fits_the_partially_nested_data_where_statsmodels_raises_linalgerror():
    data = simulate_partially_nested_posttest(seed=6)  # statistics.md §1.3: 10 groups x 8 vs 80, ICC 0.05
    X = np.column_stack([np.ones(len(data)), data.treated])
    with warnings.catch_warnings(), pytest.raises(np.linalg.LinAlgError):
        warnings.simplefilter("ignore")
        sm.MixedLM(data.score.to_numpy(), X, groups=data.group.to_numpy(), exog_re=data.treated.to_numpy(float)).fit()
    result = fit_mixed(data, "score ~ treated", participant="participant", group="group", partially_nested_by="treated")
    assert result.converged and result.n_groups == 10 and result.n_participants == 160
    assert "boundary fit: group variance is 0 (singular)" in result.warnings
    assert any("not identifiable" in w for w in result.warnings)
    assert "p_t" in result.as_dict()["fixed_effects"]["treated"]


def test_it_covers_the_true_engagement_effect_95_percent_of_the_time():
    truth = Truth()
    hits = []
    for seed in range(400):
        data = simulate(n_groups=40, group_size=5, waves=4, truth=truth, dropout="mar", seed=seed)
        fe = fit_mixed(data, FORMULA, participant="participant", group="group").fixed_effects["time:engagement"]
        hits.append(fe.ci_low <= truth.beta[3] <= fe.ci_high)
    assert 0.93 <= np.mean(hits) <= 0.97, np.mean(hits)


def test_it_falls_back_to_statsmodels_for_crossed_memberships():
    data = simulate(n_groups=6, group_size=5, waves=4, seed=2)
    data.loc[data.time >= 2, "group"] = ((data.participant + 1) % 6).astype(str)  # moves to another circle
    result = fit_mixed(data, FORMULA, participant="participant", group="group")
    assert result.backend == "statsmodels" and any(w.startswith("crossed memberships") for w in result.warnings)
    assert set(result.variance_components) == {"group", "participant", "residual"}


def test_it_uses_categorical_terms():
    data = simulate(n_groups=10, group_size=5, seed=4)
    result = fit_mixed(data, "score ~ C(time) + engagement", participant="participant", group="group")
    assert list(result.fixed_effects) == [
        "Intercept",
        "C(time)[T.1.0]",
        "C(time)[T.2.0]",
        "C(time)[T.3.0]",
        "engagement",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"participant": "nobody"}, "unknown column"),
        ({"method": "bayes"}, "method must be"),
        ({"formula": "score time"}, "no '~'"),
        ({"partially_nested_by": "engagement"}, "must be 0/1"),
    ],
)
def test_it_rejects_bad_requests(kwargs, message):
    data = simulate(n_groups=5, group_size=3, seed=0)
    args = {"formula": FORMULA, "participant": "participant", "group": "group", **kwargs}
    with pytest.raises(MixedModelError, match=message):
        fit_mixed(data, args.pop("formula"), **args)


def test_it_needs_three_groups():
    data = simulate(n_groups=2, group_size=5, seed=0)
    with pytest.raises(MixedModelError, match="too few groups: 2"):
        fit_mixed(data, FORMULA, participant="participant", group="group")


def test_it_splits_engagement_into_between_and_within_parts():
    data = pd.DataFrame({"g": ["a", "a", "a", "b", "b"], "p": [1, 1, 2, 3, 4], "eng": [1.0, 1.0, 3.0, 4.0, 6.0]})
    split = between_within(data, "eng", group="g", participant="p")
    assert split.eng_between.tolist() == [2.0, 2.0, 2.0, 5.0, 5.0]
    assert split.eng_within.tolist() == [-1.0, -1.0, 1.0, -1.0, 1.0]
    assert between_within(data, "eng", group="g").eng_between.iloc[0] == pytest.approx(5 / 3)
