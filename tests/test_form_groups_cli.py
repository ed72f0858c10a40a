"""`communitas form-groups`: JSON or readable output; exit 0 when circles are formed, 1 when the
input is impossible, 2 with one line on standard error for bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from django.core.management import call_command

EXAMPLE = Path(str(resources.files("communitas.community") / "data" / "example_problem.json"))
KEYS = {"status", "objective", "bound", "gap", "wall_time_s", "assignments", "facilitators", "unassigned",
        "rule_report", "conflicts", "explanations"}  # fmt: skip


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("form_groups", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def exit_code(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("form_groups", *args, stdout=out, stderr=err)
    return int(exit_info.value.code), out.getvalue(), err.getvalue()


def write(tmp_path: Path, data) -> str:
    path = tmp_path / "problem.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_it_prints_the_result_as_json():
    out, err = run(str(EXAMPLE), "--json", "--workers", "1", "--time-limit", "20")
    result = json.loads(out)
    assert err == "" and set(result) == KEYS
    assert result["status"] == "optimal" and result["objective"] == result["bound"] and result["gap"] == 0
    assert result["assignments"]["quinn"] == "thursday-circle"
    assert result["facilitators"]["veterans-circle"] == ["dev"]
    rule = next(r for r in result["rule_report"] if r["rule"] == "together")
    assert set(rule) == {"rule", "kind", "weight", "met", "total", "penalty", "details"}
    hard = next(r for r in result["rule_report"] if r["rule"] == "language")
    assert set(hard) == {"rule", "kind", "met", "total", "details"}
    assert "locked to thursday-circle by the coordinator" in result["explanations"]["quinn"]


def test_it_prints_readable_circles_without_json():
    out, _ = run(str(EXAMPLE), "--workers", "1")
    lines = out.splitlines()
    assert lines[0].startswith("OPTIMAL: penalty ")
    assert any(line.startswith("veterans-circle (") and "; dev):" in line for line in lines)
    assert "  [hard] language: 23/23 met" in lines


def test_an_impossible_problem_exits_1_and_names_the_clash(tmp_path):
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["applicants"][0]["languages"] = ["ps"]
    code, out, err = exit_code(write(tmp_path, data), "--json")
    result = json.loads(out)
    assert code == 1 and err == "" and result["status"] == "infeasible" and result["assignments"] == {}
    assert result["conflicts"] == [
        {"rule": "language", "message": "amira speaks only 'ps' and no facilitator speaks it", "subjects": ["amira"]}
    ]
    code, out, _ = exit_code(write(tmp_path, data))
    lines = out.splitlines()
    assert code == 1 and lines[0].startswith("INFEASIBLE after ")
    assert lines[1:] == ["  [language] amira speaks only 'ps' and no facilitator speaks it"]


BAD = [
    ("missing file", ["nowhere.json"], "No such file"),
    ("not json", ["{not json"], "not JSON"),
    ("unknown id", [json.dumps({"circles": [{"id": "c1", "max_size": 3}],
                                "applicants": [{"id": "p1", "never": ["p2"]}]})], "unknown applicant 'p2'"),
    ("zero time", ["{}", "--time-limit", "0"], "positive number of seconds"),
    ("word time", ["{}", "--time-limit", "soon"], "not a number of seconds"),
    ("no workers", ["{}", "--workers", "0"], "below 1"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_line_on_stderr(tmp_path, args, message):
    path = str(tmp_path / "nowhere.json") if args[0] == "nowhere.json" else write(tmp_path, args[0])
    code, out, err = exit_code(path, "--json", *args[1:])
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_it_runs_from_the_console_script(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMUNITAS_", "DATABASE_URL"))}
    env["COMMUNITAS_DATA_DIR"] = str(tmp_path)

    def communitas(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "communitas", "form-groups", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    done = communitas(str(EXAMPLE), "--json", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    bad = communitas(str(EXAMPLE), "--workers", "many")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
    flag = communitas(str(EXAMPLE), "--fast")  # an option argparse itself refuses is one line too
    assert flag.returncode == 2 and flag.stderr.startswith("error: ") and len(flag.stderr.splitlines()) == 1
