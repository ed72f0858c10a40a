"""`communitas analyze` prints the mixed-model JSON and exits 2 with one line on bad input."""

import io
import json

import pytest
from django.core.management import call_command

from communitas.insights.synthetic import simulate

FORMULA = "score ~ time * engagement"


def _run(path, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    args = {"formula": FORMULA, "participant": "participant", "group": "group", **kwargs}
    call_command("analyze", csv=path, stdout=out, stderr=err, **args)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "waves.csv"
    simulate(n_groups=12, group_size=6, dropout="mcar", seed=7).to_csv(path, index=False)
    return path


def test_it_prints_the_documented_json(csv_path):
    out, _ = _run(csv_path, json=True)
    result = json.loads(out)
    assert set(result) >= {"n_obs", "n_participants", "n_groups", "method", "converged", "loglik", "fixed_effects",
                           "variance_components", "icc", "warnings"}  # fmt: skip
    assert list(result["fixed_effects"]) == ["Intercept", "time", "engagement", "time:engagement"]
    for effect in result["fixed_effects"].values():
        assert set(effect) >= {"estimate", "se", "ci_low", "ci_high", "p"}
        assert effect["ci_low"] < effect["estimate"] < effect["ci_high"]
    assert set(result["variance_components"]) == {"group", "participant", "residual"}
    assert set(result["icc"]) == {"group", "participant"}
    assert result["n_participants"] == 72 and result["n_groups"] == 12 and result["method"] == "reml"
    assert result["backend"] == "communitas" and any("missing outcome" in w for w in result["warnings"])


def test_it_fits_ml_and_partially_nested_designs(tmp_path):
    path = tmp_path / "trial.csv"
    simulate(n_groups=8, group_size=6, n_controls=40, seed=3).to_csv(path, index=False)
    result = json.loads(_run(path, json=True, method="ml", partially_nested_by="treated")[0])
    assert result["method"] == "ml" and result["n_groups"] == 8 and result["n_participants"] == 88


def test_it_prints_a_readable_table(csv_path):
    out, _ = _run(csv_path)
    assert out.startswith("REML fit (communitas)") and "time:engagement" in out and "ICC: group" in out


BAD = [
    ("unknown column", "waves", {"participant": "pid"}, "unknown column(s): pid"),
    ("non-numeric outcome", "text", {}, "outcome 'score' is not numeric"),
    ("too few groups", "two_groups", {}, "too few groups: 2"),
    ("malformed csv", "malformed", {}, "not a readable CSV"),
    ("empty csv", "empty", {}, "no data rows"),
    ("missing file", "nowhere", {}, "nowhere.csv"),
    ("bad formula", "waves", {"formula": "score ~ time +* nothing("}, "formula"),
]


def _write(tmp_path, kind):
    path = tmp_path / f"{kind}.csv"
    if kind == "waves":
        simulate(n_groups=4, group_size=3, seed=1).to_csv(path, index=False)
    elif kind == "text":
        simulate(n_groups=4, group_size=3, seed=1).assign(score="high").to_csv(path, index=False)
    elif kind == "two_groups":
        simulate(n_groups=2, group_size=3, seed=1).to_csv(path, index=False)
    elif kind == "malformed":
        path.write_text('participant,group,score\n1,"a,2\n2,b,3,4,5\n', encoding="utf-8")
    elif kind == "empty":
        path.write_text("participant,group,score,time,engagement\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("kind", "overrides", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_it_exits_2_with_one_line_on_stderr(tmp_path, kind, overrides, message):
    with pytest.raises(SystemExit) as exit_info:
        _run(_write(tmp_path, kind), json=True, **overrides)
    assert exit_info.value.code == 2


@pytest.mark.parametrize(("kind", "overrides", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_its_error_is_one_clear_line(tmp_path, kind, overrides, message, capsys):
    out, err = io.StringIO(), io.StringIO()
    args = {"formula": FORMULA, "participant": "participant", "group": "group", "json": True, **overrides}
    with pytest.raises(SystemExit):
        call_command("analyze", csv=_write(tmp_path, kind), stdout=out, stderr=err, **args)
    lines = err.getvalue().splitlines()
    assert out.getvalue() == "" and len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
