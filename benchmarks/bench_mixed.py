"""Mixed-model fit time: Communitas vs statsmodels MixedLM vs lme4 (when Rscript + lme4 load).

    uv run python benchmarks/bench_mixed.py [2000 20000 100000] [--sm-max 20000]

Nested design (statistics.md §3.2 truth), groups of 100 participants, 4 waves, REML,
`score ~ time * engagement + (1|group) + (1|group:participant)`. Seconds are wall time for
formula/design construction plus fit (CSV reading excluded), one run each. statsmodels is skipped
above --sm-max participants (it took ~80 s at 100k in statistics.md §3.2 with groups of 10).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from communitas.insights.mixed import fit_mixed
from communitas.insights.synthetic import simulate

FORMULA = "score ~ time * engagement"
R_SCRIPT = """
suppressMessages(library(lme4)); d <- read.csv(commandArgs(TRUE)[1])
t <- system.time(m <- lmer(score ~ time * engagement + (1|group) + (1|group:participant), d, REML = TRUE))
vc <- as.data.frame(VarCorr(m))
se <- sqrt(diag(as.matrix(vcov(m))))
cat(sprintf('{"seconds": %.4f, "loglik": %.6f, "time_engagement": %.10f, "group": %.10f, "se": %.10f}',
    t[["elapsed"]], as.numeric(logLik(m)), fixef(m)[["time:engagement"]], vc$vcov[vc$grp == "group"],
    se[["time:engagement"]]))
"""


def lme4_available() -> bool:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False
    probe = subprocess.run([rscript, "-e", "library(lme4)"], capture_output=True, check=False)  # noqa: S603
    return probe.returncode == 0


def run_communitas(data):
    start = time.perf_counter()
    result = fit_mixed(data, FORMULA, participant="participant", group="group")
    fe = result.fixed_effects["time:engagement"]
    seconds = time.perf_counter() - start
    return seconds, result.loglik, fe.estimate, result.variance_components["group"], fe.se, fe.se_observed


def run_statsmodels(data):
    import statsmodels.formula.api as smf

    start = time.perf_counter()
    model = smf.mixedlm(FORMULA, data, groups="group", re_formula="1", vc_formula={"participant": "0 + C(participant)"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(reml=True)
    seconds = time.perf_counter() - start
    return seconds, fit.llf, fit.fe_params["time:engagement"], fit.cov_re.iloc[0, 0], fit.bse_fe["time:engagement"]


def run_lme4(data, workdir: Path):
    path = workdir / "data.csv"
    data.to_csv(path, index=False)
    script = workdir / "fit.R"
    script.write_text(R_SCRIPT)
    out = subprocess.run(["Rscript", str(script), str(path)], capture_output=True, text=True, check=True)  # noqa: S603, S607
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return row["seconds"], row["loglik"], row["time_engagement"], row["group"], row["se"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 20000, 100000])
    parser.add_argument("--sm-max", type=int, default=20000, help="skip statsmodels above this many participants")
    args = parser.parse_args()
    has_r = lme4_available()
    print(f"lme4: {'available' if has_r else 'not available (Rscript or lme4 missing), skipped'}")
    header = (
        f"{'participants':>12} {'rows':>8} {'communitas s':>13} {'statsmodels s':>14} {'lme4 s':>8} "
        f"{'sm/ours':>8} {'lme4/ours':>10}"
    )
    print(header)
    run_communitas(simulate(n_groups=5, group_size=4, seed=0))  # warm-up: imports, formulaic caches
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            data = simulate(n_groups=n // 100, group_size=100, waves=4, seed=n)
            ours = run_communitas(data)
            sm = run_statsmodels(data) if n <= args.sm_max else None
            r = run_lme4(data, Path(tmp)) if has_r else None
            cells = [f"{x[0]:.2f}" if x else "skipped" for x in (sm, r)]
            ratios = [f"{x[0] / ours[0]:.1f}x" if x else "-" for x in (sm, r)]
            print(
                f"{n:>12} {len(data):>8} {ours[0]:>13.2f} {cells[0]:>14} {cells[1]:>8} {ratios[0]:>8} {ratios[1]:>10}"
            )
            # SE conventions: lme4's vcov is σ²(XᵀV⁻¹X)⁻¹ (our "se"); statsmodels' bse_fe inverts the
            # observed information of (β, θ) (our "se_observed").
            for name, other, se_index in (("statsmodels", sm, 5), ("lme4", r, 4)):
                if other:
                    print(
                        f"{'':>12} loglik diff vs {name}: {ours[1] - other[1]:+.2e}; time:engagement rel diff "
                        f"{abs(ours[2] / other[2] - 1):.1e} (SE {abs(ours[se_index] / other[4] - 1):.1e}); "
                        f"group variance rel diff {abs(ours[3] / other[3] - 1):.1e}"
                    )


if __name__ == "__main__":
    main()
