import json
import sys
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand

from communitas.insights.mixed import METHODS, MIN_GROUPS, MixedModelError, MixedResult, fit_mixed


class Command(BaseCommand):
    help = (
        "Fit a linear mixed model (participants nested in groups): communitas analyze --csv FILE "
        '--formula "score ~ time * engagement" --participant COL --group COL [--partially-nested-by COL] '
        f"[--method reml|ml] [--json]. Needs at least {MIN_GROUPS} groups; see docs/insights.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True, type=Path, help="long format, one row per participant-wave")
        parser.add_argument("--formula", required=True, help="fixed effects, e.g. 'score ~ time * engagement'")
        parser.add_argument("--participant", required=True)
        parser.add_argument("--group", required=True)
        parser.add_argument("--partially-nested-by", default=None, help="0/1 column: group effect only where 1")
        parser.add_argument("--method", choices=METHODS, default="reml")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, csv: Path, formula: str, participant: str, group: str, **options):
        try:
            data = _read_csv(csv)
            result = fit_mixed(
                data,
                formula,
                participant=participant,
                group=group,
                partially_nested_by=options.get("partially_nested_by"),
                method=options.get("method", "reml"),
            )
        except (MixedModelError, OSError) as exc:
            self.stderr.write("error: " + " ".join(str(exc).split()))
            sys.exit(2)
        if options.get("json"):
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(_table(result))


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        data = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MixedModelError(f"{path} is not a readable CSV file: {str(exc).strip()}") from exc
    if data.empty:
        raise MixedModelError(f"{path} has no data rows")
    return data


def _table(result: MixedResult) -> str:
    lines = [
        f"{result.method.upper()} fit ({result.backend}): {result.n_obs} rows, {result.n_participants} participants, "
        f"{result.n_groups} groups; log-likelihood {result.loglik:.4f}; converged: {result.converged}",
        f"{'term':<28}{'estimate':>12}{'SE':>10}{'95% CI':>24}{'p':>10}",
    ]
    for name, fe in result.fixed_effects.items():
        ci = f"[{fe.ci_low:.4f}, {fe.ci_high:.4f}]"
        lines.append(f"{name:<28}{fe.estimate:>12.4f}{fe.se:>10.4f}{ci:>24}{fe.p:>10.4g}")
    vc, icc = result.variance_components, result.icc
    lines.append("variance: " + ", ".join(f"{k} {v:.4f}" for k, v in vc.items()))
    lines.append(f"ICC: group {icc['group']:.4f}; same participant (group + participant) {icc['participant']:.4f}")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)
