"""Linear mixed model with random intercepts for group and for participant within group.

    y = Xβ + Z_g·u + Z_p·v + e,   u ~ N(0, τ²_g),  v ~ N(0, τ²_p),  e ~ N(0, σ²)

fitted by REML (default) or ML, as in docs/insights.md and research/statistics.md §1.2-1.4.
Within group j the marginal covariance is σ²·H_j with

    H_j = A_j + θ_g·z zᵀ,   A_j = blockdiag_i(I + θ_p·1 1ᵀ),   θ_g = τ²_g/σ², θ_p = τ²_p/σ²,

and z the 0/1 "group effect applies" vector (all ones in a fully nested design; the treatment
indicator in a partially nested one, Bauer, Sterba & Hallfors 2008). Both inverses are rank-one
updates (Sherman-Morrison), so every quadratic form WᵀH⁻¹W with W = [X, y] needs only per-participant
and per-group column sums computed once; one likelihood evaluation then costs O((P + K)·q²) and the
one-off precomputation O(n·q²). σ² and β are profiled out.

Pure numpy/scipy/formulaic: no Django. Crossed memberships fall back to statsmodels (labelled).
"""

from __future__ import annotations

import math
import warnings as warnings_module
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

METHODS = ("reml", "ml")
MIN_GROUPS = 3  # below this a group variance is not estimable in any useful sense
FEW_GROUPS = 30  # below this Wald z-tests are anti-conservative; a t(K-1) p is added
BOUNDARY = 1e-6  # a variance ratio below this is reported as a boundary (singular) fit


class MixedModelError(ValueError):
    """The data or the request cannot be fitted; the message is meant for the user."""


@dataclass(frozen=True)
class FixedEffect:
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    p_t: float | None = None  # t(K-1) reference, only when there are few groups
    se_observed: float | None = None  # from the inverse observed information (statsmodels' bse_fe)

    def as_dict(self) -> dict[str, float]:
        out = {"estimate": self.estimate, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high, "p": self.p}
        if self.se_observed is not None:
            out["se_observed"] = self.se_observed
        if self.p_t is not None:
            out["p_t"] = self.p_t
        return out


@dataclass
class MixedResult:
    n_obs: int
    n_participants: int
    n_groups: int
    method: str
    converged: bool
    loglik: float
    fixed_effects: dict[str, FixedEffect]
    variance_components: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    backend: str = "communitas"

    @property
    def icc(self) -> dict[str, float]:
        """statistics.md §1.4: group ICC and the same-person (across waves) correlation."""
        g, p, r = (self.variance_components[k] for k in ("group", "participant", "residual"))
        total = g + p + r
        return {"group": g / total, "participant": (g + p) / total}

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_obs": self.n_obs,
            "n_participants": self.n_participants,
            "n_groups": self.n_groups,
            "method": self.method,
            "converged": self.converged,
            "loglik": self.loglik,
            "fixed_effects": {name: fe.as_dict() for name, fe in self.fixed_effects.items()},
            "variance_components": dict(self.variance_components),
            "icc": self.icc,
            "warnings": list(self.warnings),
            "backend": self.backend,
        }


# --------------------------------------------------------------------------- design


@dataclass
class Prepared:
    """Validated model data: outcome, fixed-effect design and integer codes."""

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    participant: np.ndarray  # participant code per row
    group: np.ndarray  # group code per row (pseudo-groups for ungrouped participants)
    z: np.ndarray  # 1.0 where the group effect applies
    n_groups: int  # real groups (with at least one z = 1 row)
    crossed: bool
    warnings: list[str]


def prepare(
    data: pd.DataFrame, formula: str, *, participant: str, group: str, partially_nested_by: str | None = None
) -> Prepared:
    """Validate columns, drop rows with a missing outcome (MAR, no imputation) and build X, y."""
    from formulaic import model_matrix

    if "~" not in formula:
        raise MixedModelError(f"formula {formula!r} has no '~' (expected e.g. 'score ~ time * engagement')")
    outcome = formula.split("~", 1)[0].strip()
    needed = [c for c in (outcome, participant, group, partially_nested_by) if c]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise MixedModelError(
            f"unknown column(s): {', '.join(missing)}; available: {', '.join(map(str, data.columns))}"
        )
    if not pd.api.types.is_numeric_dtype(data[outcome]) or pd.api.types.is_bool_dtype(data[outcome]):
        raise MixedModelError(f"outcome {outcome!r} is not numeric")
    warnings: list[str] = []
    df = data
    n_missing_y = int(df[outcome].isna().sum())
    if n_missing_y:
        df = df[df[outcome].notna()]
        warnings.append(
            f"dropped {n_missing_y} row(s) with a missing outcome; the likelihood uses all observed rows "
            "(valid under MAR; no imputation, no LOCF)"
        )
    z = _indicator(df, partially_nested_by)
    grouped = z > 0
    bad_ids = df[participant].isna() | (grouped & df[group].isna())
    if bad_ids.any():
        warnings.append(f"dropped {int(bad_ids.sum())} row(s) with a missing participant or group id")
        df, z = df[~bad_ids], z[~bad_ids.to_numpy()]
    try:
        mm = model_matrix(formula, df, na_action="drop")
    except Exception as exc:  # formulaic raises many types for bad formulas / unknown names
        raise MixedModelError(f"formula {formula!r}: {exc}") from exc
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise MixedModelError(f"outcome {outcome!r} must be a single numeric column")
    keep = df.index.get_indexer(rhs.index)
    if len(keep) < len(df):
        warnings.append(f"dropped {len(df) - len(keep)} row(s) with missing predictor values")
    df, z = df.iloc[keep], z[keep]
    part_codes, _ = pd.factorize(df[participant], sort=True)
    group_codes, n_groups, crossed = _group_codes(df[group], part_codes, z)
    if n_groups < MIN_GROUPS:
        raise MixedModelError(
            f"too few groups: {n_groups} (at least {MIN_GROUPS} are needed to estimate a group variance)"
        )
    return Prepared(
        y=np.asarray(lhs, dtype=float)[:, 0],
        X=np.asarray(rhs, dtype=float),
        names=[str(c) for c in rhs.columns],
        participant=part_codes,
        group=group_codes,
        z=z,
        n_groups=n_groups,
        crossed=crossed,
        warnings=warnings,
    )


def _indicator(df: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.ones(len(df))
    values = pd.to_numeric(df[column], errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        raise MixedModelError(f"--partially-nested-by column {column!r} must be 0/1 on every row")
    return values.to_numpy(dtype=float)


def _group_codes(groups: pd.Series, part: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Real groups come first; a participant with no z = 1 row is its own pseudo-group."""
    grouped = z > 0
    real, _ = pd.factorize(groups.where(grouped), sort=True)  # -1 where ungrouped
    n_real = int(real.max()) + 1 if (real >= 0).any() else 0
    per_part = pd.DataFrame({"p": part[grouped], "g": real[grouped]}).groupby("p")["g"]
    crossed = bool((per_part.nunique() > 1).any())
    part_group = np.full(int(part.max()) + 1, -1)
    first = per_part.first()
    part_group[first.index.to_numpy()] = first.to_numpy()
    ungrouped = np.flatnonzero(part_group < 0)
    part_group[ungrouped] = n_real + np.arange(len(ungrouped))
    codes = np.where(grouped, real, part_group[part]) if crossed else part_group[part]
    return codes, n_real, crossed


@dataclass
class NestedSums:
    """Everything the likelihood needs, summed once over rows (q = p + 1 columns of W = [X, y])."""

    n: int
    p: int
    S0: np.ndarray  # WᵀW (qxq)
    s: np.ndarray  # per participant Σ W (Pxq)
    n_i: np.ndarray  # rows per participant
    m_i: np.ndarray  # Σ z per participant
    part_group: np.ndarray  # group of each participant
    t: np.ndarray  # per group Σ z·W (Kxq)
    zz: np.ndarray  # per group Σ z²
    n_groups_all: int

    @classmethod
    def build(cls, prep: Prepared) -> NestedSums:
        W = np.column_stack([prep.X, prep.y])
        n_part = int(prep.participant.max()) + 1
        n_grp = int(prep.group.max()) + 1
        part_group = np.zeros(n_part, dtype=np.int64)
        part_group[prep.participant] = prep.group
        return cls(
            n=len(prep.y),
            p=prep.X.shape[1],
            S0=W.T @ W,
            s=_sum_rows(W, prep.participant, n_part),
            n_i=np.bincount(prep.participant, minlength=n_part).astype(float),
            m_i=np.bincount(prep.participant, weights=prep.z, minlength=n_part),
            part_group=part_group,
            t=_sum_rows(W * prep.z[:, None], prep.group, n_grp),
            zz=np.bincount(prep.group, weights=prep.z**2, minlength=n_grp),
            n_groups_all=n_grp,
        )


def _sum_rows(W: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Σ of the rows of W sharing a code (one bincount per column: linear in rows)."""
    return np.column_stack([np.bincount(codes, weights=W[:, j], minlength=k) for j in range(W.shape[1])])


@dataclass(frozen=True)
class Profile:
    loglik: float
    beta: np.ndarray
    xhx_inv: np.ndarray  # (XᵀH⁻¹X)⁻¹
    sigma2: float


def moments(sums: NestedSums, ratio_group: float, ratio_participant: float) -> tuple[np.ndarray, float]:
    """WᵀH⁻¹W (W = [X, y]) and log|H| at variance ratios θ_g, θ_p, from the per-participant and
    per-group sums alone."""
    c = ratio_participant / (1.0 + sums.n_i * ratio_participant)  # A_i⁻¹ = I - c_i 1 1ᵀ
    M = sums.S0 - (sums.s * c[:, None]).T @ sums.s  # WᵀA⁻¹W
    k = sums.n_groups_all
    g = sums.t - _sum_rows(sums.s * (c * sums.m_i)[:, None], sums.part_group, k)  # zᵀA⁻¹W per group
    q = sums.zz - np.bincount(sums.part_group, weights=c * sums.m_i**2, minlength=k)  # zᵀA⁻¹z
    w = ratio_group / (1.0 + ratio_group * q)  # H⁻¹ = A⁻¹ - w A⁻¹z zᵀA⁻¹
    M = M - (g * w[:, None]).T @ g
    logdet_h = float(np.log1p(sums.n_i * ratio_participant).sum() + np.log1p(ratio_group * q).sum())
    return M, logdet_h


def profile(sums: NestedSums, ratio_group: float, ratio_participant: float, *, reml: bool) -> Profile:
    """Profiled log-likelihood at variance ratios θ_g = τ²_g/σ², θ_p = τ²_p/σ² (statsmodels' constants)."""
    n, p = sums.n, sums.p
    M, logdet_h = moments(sums, ratio_group, ratio_participant)
    xhx, xhy, yhy = M[:p, :p], M[:p, p], M[p, p]
    chol = np.linalg.cholesky(xhx)
    xhx_inv = np.linalg.inv(chol).T @ np.linalg.inv(chol)
    beta = xhx_inv @ xhy
    rss = max(float(yhy - xhy @ beta), 1e-300)
    dof = n - p if reml else n
    sigma2 = rss / dof
    ll = -0.5 * (dof * math.log(2 * math.pi * sigma2) + logdet_h + dof)
    if reml:
        ll -= float(np.log(np.diag(chol)).sum())
    return Profile(loglik=ll, beta=beta, xhx_inv=xhx_inv, sigma2=sigma2)


def observed_information_cov(sums: NestedSums, ratios: np.ndarray, fit: Profile, *, reml: bool) -> np.ndarray:
    """Covariance of β̂ from the inverse observed information of (β, θ), statsmodels' ``bse_fe``.

    The model-based covariance σ²(XᵀH⁻¹X)⁻¹ (lme4's ``vcov``) treats the variance ratios as known.
    Inverting the whole Hessian of the σ²-profiled log-likelihood L(β, θ) instead adds the β x θ
    cross block: with C = σ²(XᵀH⁻¹X)⁻¹, G_j = ∂/∂θ_j XᵀH⁻¹(y - Xβ̂) and S the Hessian of the
    log-likelihood profiled over β and σ² (``profile``) in θ,

        Cov(β̂) = C + C·(G/σ²)·(-S)⁻¹·(G/σ²)ᵀ·C     (block inverse; invariant to how θ is parameterised)

    G and S are central differences of ``moments``/``profile`` (each O(P + K)). Ratios on the
    boundary (θ = 0) are held fixed, as the Hessian there is not that of a maximum.
    """
    p = sums.p
    base = fit.sigma2 * fit.xhx_inv
    idx = [j for j in range(2) if ratios[j] > BOUNDARY]
    if not idx:
        return base
    steps = {j: 1e-4 * ratios[j] for j in idx}

    def at(delta: dict[int, float]) -> np.ndarray:
        out = ratios.astype(float).copy()
        for j, d in delta.items():
            out[j] += d
        return out

    def score(theta: np.ndarray) -> np.ndarray:
        M, _ = moments(sums, theta[0], theta[1])
        return M[:p, p] - M[:p, :p] @ fit.beta

    def loglik(theta: np.ndarray) -> float:
        return profile(sums, theta[0], theta[1], reml=reml).loglik

    G = np.column_stack([(score(at({j: steps[j]})) - score(at({j: -steps[j]}))) / (2 * steps[j]) for j in idx])
    S = np.empty((len(idx), len(idx)))
    l0 = loglik(ratios)
    for a, j in enumerate(idx):
        hj = steps[j] * 10  # second differences want a larger step than first ones
        S[a, a] = (loglik(at({j: hj})) - 2 * l0 + loglik(at({j: -hj}))) / hj**2
        for b in range(a):
            k = idx[b]
            hk = steps[k] * 10
            S[a, b] = S[b, a] = (
                loglik(at({j: hj, k: hk}))
                - loglik(at({j: hj, k: -hk}))
                - loglik(at({j: -hj, k: hk}))
                + loglik(at({j: -hj, k: -hk}))
            ) / (4 * hj * hk)
    if np.any(np.linalg.eigvalsh(-S) <= 0):
        return base
    cross = base @ (G / fit.sigma2)
    return base + cross @ np.linalg.solve(-S, cross.T)


# --------------------------------------------------------------------------- fitting


STARTS = ((0.5, 1.0), (1.0, 0.3))  # relative SDs √θ (lme4's parameterisation)
OPTIONS = {"ftol": 1e-12, "gtol": 1e-7, "maxiter": 500}


def _optimise(sums: NestedSums, *, reml: bool, free: tuple[bool, bool]) -> tuple[np.ndarray, bool]:
    """Maximise over relative SDs s = √θ ≥ 0 (boundary at 0 allowed) by L-BFGS-B from several starts."""
    scale = 1.0 / sums.n

    def nll(x: np.ndarray) -> float:
        s = np.where(free, x, 0.0)
        return -profile(sums, s[0] ** 2, s[1] ** 2, reml=reml).loglik * scale

    def grad(x: np.ndarray) -> np.ndarray:
        out = np.zeros(2)
        for j in range(2):
            if not free[j]:
                continue
            h = 1e-6 * max(1.0, abs(x[j]))
            lo, hi = x.copy(), x.copy()
            lo[j], hi[j] = max(x[j] - h, 0.0), x[j] + h
            out[j] = (nll(hi) - nll(lo)) / (hi[j] - lo[j])
        return out

    best: Any = None
    for start in STARTS:
        res = optimize.minimize(
            nll, np.array(start), jac=grad, method="L-BFGS-B", bounds=[(0.0, None)] * 2, options=OPTIONS
        )
        if best is None or res.fun < best.fun:
            best = res
    x = _polish(nll, grad, np.where(free, best.x, 0.0), free)
    g = grad(x)
    # projected gradient: interior components ≈ 0, components at the bound may only push outward
    interior = x > 0
    ok = bool(np.all(np.abs(g[interior]) < 1e-5) and np.all(g[~interior] > -1e-5))
    return x, ok


def _polish(nll: Any, grad: Any, x: np.ndarray, free: tuple[bool, bool]) -> np.ndarray:
    """A few safeguarded Newton steps on the interior components (finite-difference Hessian)."""
    for _ in range(3):
        idx = np.flatnonzero(np.asarray(free) & (x > BOUNDARY))
        if len(idx) == 0:
            break
        g = grad(x)[idx]
        hess = np.empty((len(idx), len(idx)))
        for a, j in enumerate(idx):
            h = 1e-5 * max(1.0, x[j])
            up = x.copy()
            up[j] += h
            hess[:, a] = (grad(up)[idx] - g) / h
        hess = (hess + hess.T) / 2
        if np.any(np.linalg.eigvalsh(hess) <= 0):
            break
        trial = x.copy()
        trial[idx] = np.maximum(x[idx] - np.linalg.solve(hess, g), 0.0)
        if nll(trial) > nll(x):
            break
        x = trial
    return x


def fit_mixed(
    data: pd.DataFrame,
    formula: str,
    *,
    participant: str,
    group: str,
    partially_nested_by: str | None = None,
    method: str = "reml",
) -> MixedResult:
    """Fit y ~ fixed + (1|group) + (1|group:participant); see the module docstring."""
    if method not in METHODS:
        raise MixedModelError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    prep = prepare(data, formula, participant=participant, group=group, partially_nested_by=partially_nested_by)
    if prep.crossed:
        return _fit_statsmodels(prep, method)
    sums = NestedSums.build(prep)
    if np.linalg.matrix_rank(sums.S0[: sums.p, : sums.p]) < sums.p:
        raise MixedModelError("the fixed-effect design is rank deficient (collinear or constant columns)")
    warnings = list(prep.warnings)
    identifiable = bool(sums.n_i.max() > 1)
    if not identifiable:
        warnings.append("one observation per participant: participant variance is not identifiable and is fixed at 0")
    x, converged = _optimise(sums, reml=method == "reml", free=(True, identifiable))
    ratios = x**2
    fit = profile(sums, ratios[0], ratios[1], reml=method == "reml")
    components = {"group": ratios[0] * fit.sigma2, "participant": ratios[1] * fit.sigma2, "residual": fit.sigma2}
    warnings += _fit_warnings(ratios, converged, identifiable, prep.n_groups)
    se = np.sqrt(np.diag(fit.xhx_inv) * fit.sigma2)
    se_observed = np.sqrt(np.diag(observed_information_cov(sums, ratios, fit, reml=method == "reml")))
    return MixedResult(
        n_obs=sums.n,
        n_participants=len(sums.n_i),
        n_groups=prep.n_groups,
        method=method,
        converged=converged,
        loglik=fit.loglik,
        fixed_effects=_wald(prep.names, fit.beta, se, prep.n_groups, se_observed),
        variance_components={k: float(v) for k, v in components.items()},
        warnings=warnings,
    )


def _fit_warnings(ratios: np.ndarray, converged: bool, identifiable: bool, n_groups: int) -> list[str]:
    out = []
    if ratios[0] < BOUNDARY:
        out.append("boundary fit: group variance is 0 (singular)")
    if identifiable and ratios[1] < BOUNDARY:
        out.append("boundary fit: participant variance is 0 (singular)")
    if not converged:
        out.append("not converged: the optimiser stopped with a non-zero gradient; treat estimates with caution")
    if n_groups < FEW_GROUPS:
        out.append(
            f"only {n_groups} groups: Wald z-tests are anti-conservative with few groups; "
            f"p_t uses a t reference with {n_groups - 1} df"
        )
    return out


def _wald(
    names: list[str], beta: np.ndarray, se: np.ndarray, n_groups: int, se_observed: np.ndarray | None = None
) -> dict[str, FixedEffect]:
    """Wald z intervals and p on the model-based SE (lme4's convention)."""
    zcrit = stats.norm.ppf(0.975)
    observed = se if se_observed is None else se_observed
    out = {}
    for name, b, s, s_obs in zip(names, beta, se, observed, strict=True):
        zval = b / s
        p_t = float(2 * stats.t.sf(abs(zval), n_groups - 1)) if n_groups < FEW_GROUPS else None
        out[name] = FixedEffect(
            estimate=float(b),
            se=float(s),
            ci_low=float(b - zcrit * s),
            ci_high=float(b + zcrit * s),
            p=float(2 * stats.norm.sf(abs(zval))),
            p_t=p_t,
            se_observed=float(s_obs),
        )
    return out


def _fit_statsmodels(prep: Prepared, method: str) -> MixedResult:
    """Crossed memberships: one statsmodels group with group and participant variance components."""
    try:
        from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec
    except ImportError as exc:
        raise MixedModelError(
            "crossed memberships (a participant in several groups) need statsmodels, which is not installed"
        ) from exc
    n = len(prep.y)
    n_real = prep.n_groups
    gmat = np.zeros((n, n_real))
    rows = np.flatnonzero(prep.z > 0)
    gmat[rows, prep.group[rows]] = prep.z[rows]
    pmat = np.zeros((n, int(prep.participant.max()) + 1))
    pmat[np.arange(n), prep.participant] = 1.0
    vcs = VCSpec(
        ["group", "participant"],
        [[[f"g{j}" for j in range(gmat.shape[1])]], [[f"p{j}" for j in range(pmat.shape[1])]]],
        [[gmat], [pmat]],
    )
    model = MixedLM(prep.y, prep.X, groups=np.zeros(n), exog_vc=vcs)
    with warnings_module.catch_warnings(record=True) as caught:
        warnings_module.simplefilter("always")
        res = model.fit(reml=method == "reml")
    vc = np.asarray(res.vcomp)
    ratios = vc / res.scale
    warnings = [
        *prep.warnings,
        "crossed memberships: a participant appears in several groups; fitted with statsmodels MixedLM "
        "(single group, crossed variance components), slower and without the nested fast path",
        *_fit_warnings(ratios, bool(res.converged), True, n_groups=n_real),
        *sorted({f"statsmodels: {w.message}" for w in caught}),
    ]
    return MixedResult(
        n_obs=n,
        n_participants=pmat.shape[1],
        n_groups=n_real,
        method=method,
        converged=bool(res.converged),
        loglik=float(res.llf),
        fixed_effects=_wald(prep.names, np.asarray(res.fe_params), np.asarray(res.bse_fe), n_real),
        variance_components={"group": float(vc[0]), "participant": float(vc[1]), "residual": float(res.scale)},
        warnings=warnings,
        backend="statsmodels",
    )


# --------------------------------------------------------------------------- helpers


def between_within(data: pd.DataFrame, column: str, *, group: str, participant: str | None = None) -> pd.DataFrame:
    """Split a predictor into its group mean (between) and the deviation from it (within), §1.2.

    With ``participant`` the group mean weights each participant once (their mean over rows), so
    participants with more observed waves do not count more. Returns two columns aligned to ``data``:
    ``<column>_between`` and ``<column>_within``.
    """
    if participant is None:
        means = data.groupby(group)[column].transform("mean")
    else:
        per_person = data.groupby(participant)[column].mean()
        person_group = data.groupby(participant)[group].first()
        group_mean = per_person.groupby(person_group).mean()
        means = data[group].map(group_mean)
    return pd.DataFrame({f"{column}_between": means, f"{column}_within": data[column] - means}, index=data.index)
