"""`communitas compliance group-session` and `legal-status`: JSON out, bad input exits 2 with one line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.test_compliance_rulepacks import community_pack

KEYS = {"ok", "min_facilitators", "max_clients", "min_duration_minutes", "violations", "warnings"}


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("compliance", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def group_json(*args: str) -> dict:
    out, err = run("group-session", "--json", *args)
    assert err == ""
    return json.loads(out)


def test_it_prints_the_check_as_json():
    result = group_json("--jurisdiction", "US-OR", "--doses-mg", "5,12,30", "--facilitators", "1")
    assert result == {
        "ok": True,
        "min_facilitators": 1,
        "max_clients": 4,  # 30 mg: 1:4 with one facilitator
        "min_duration_minutes": 300,  # 30 mg: 5 h
        "violations": [],
        "warnings": [],
    }


def test_it_prints_violations_with_rule_message_and_source():
    result = group_json("--jurisdiction", "US-OR", "--doses-mg", "5, 12, 30, 51, 30", "--facilitators", "1")
    assert set(result) == KEYS and result["ok"] is False
    assert [v["rule"] for v in result["violations"]] == ["OR-GROUP-RATIO", "OR-DOSE-MAX"]
    for item in result["violations"] + result["warnings"]:
        assert set(item) == {"rule", "message", "source"} and item["source"]
    assert result["min_facilitators"] == 3 and result["max_clients"] == 2


def test_it_flags_an_overlapping_band_edge():
    result = group_json("--jurisdiction", "US-OR", "--doses-mg", "5", "--facilitators", "1")
    assert result["ok"] and result["max_clients"] == 15
    assert [w["rule"] for w in result["warnings"]] == ["OR-GROUP-RATIO"]


@pytest.mark.parametrize(
    ("flags", "minutes"),
    [([], 30), (["--first-session"], 60), (["--whole-fungi"], 60), (["--first-session", "--whole-fungi"], 60)],
)
def test_it_applies_the_low_dose_flags(flags, minutes):
    result = group_json("--jurisdiction", "US-OR", "--doses-mg", "1.5,2", "--facilitators", "1", *flags)
    assert result["min_duration_minutes"] == minutes


def test_it_caps_at_the_occupancy_given():
    result = group_json("--jurisdiction", "US-OR", "--doses-mg", "1,1,1", "--facilitators", "1", "--max-occupancy", "2")
    assert not result["ok"] and result["max_clients"] == 2


def test_it_reads_an_organization_pack(tmp_path):
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(community_pack()), encoding="utf-8")
    args = ["--jurisdiction", "US-CO", "--doses-mg", "8,8,14", "--facilitators", "1", "--pack", str(path)]
    result = group_json(*args)
    assert result["ok"] and result["max_clients"] == 3 and result["min_duration_minutes"] == 420


def test_it_prints_a_readable_verdict_without_json():
    out, _ = run("group-session", "--jurisdiction", "US-OR", "--doses-mg", "35,35,35", "--facilitators", "1")
    lines = out.splitlines()
    assert lines[0] == "NOT ALLOWED: at least 2 facilitator(s), at most 2 clients, at least 360 minutes"
    assert lines[1].startswith("  [violation] OR-GROUP-RATIO: 3 clients")
    assert [line.split("]")[0].strip() for line in lines[2:]] == ["[warning", "[warning"]


BAD = [
    ("unknown jurisdiction", ["--jurisdiction", "FR"], "no rule pack for FR"),
    ("colorado", ["--jurisdiction", "US-CO"], "were not found"),
    ("lower-case code", ["--jurisdiction", "us-or"], "ISO 3166"),
    ("word", ["--doses-mg", "5,twelve"], "'twelve' is not a number"),
    ("empty part", ["--doses-mg", "5,,12"], "'' is not a number"),
    ("no clients", ["--doses-mg", ""], "no clients"),
    ("only spaces", ["--doses-mg", "  "], "no clients"),
    ("negative dose", ["--doses-mg=-5,12"], "negative"),
    ("not a number", ["--doses-mg", "nan"], "not a number"),
    ("infinite", ["--doses-mg", "5,inf"], "not a number"),
    ("implausible", ["--doses-mg", "5,3000"], "above any plausible dose"),
    ("huge", ["--doses-mg", "1e9"], "above any plausible dose"),
    ("negative facilitators", ["--facilitators", "-1"], "negative"),
    ("fractional facilitators", ["--facilitators", "1.5"], "not a whole number"),
    ("zero occupancy", ["--max-occupancy", "0"], "at least 1"),
]


@pytest.mark.parametrize(("args", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_it_exits_2_with_one_line_on_stderr_for_bad_input(args, message):
    base = {"--jurisdiction": "US-OR", "--doses-mg": "5,12", "--facilitators": "1"}
    given = {arg.split("=")[0] for arg in args if arg.startswith("--")}
    argv = [item for key, value in base.items() if key not in given for item in (key, value)] + args
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("compliance", "group-session", "--json", *argv, stdout=out, stderr=err)
    assert exit_info.value.code == 2
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_it_exits_2_for_a_malformed_organization_pack(tmp_path):
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(community_pack(sources={})), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("compliance", "group-session", "--jurisdiction", "US-CO", "--doses-mg", "5",
                     "--facilitators", "1", "--pack", str(path), stderr=err)  # fmt: skip
    assert exit_info.value.code == 2 and "source key 'POL-7'" in err.getvalue()
    assert len(err.getvalue().splitlines()) == 1


def _communitas(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMUNITAS_", "DATABASE_URL"))}
    env["COMMUNITAS_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "communitas", "compliance", *args], env=env, capture_output=True, text=True, check=False
    )


def test_it_runs_from_the_console_script(tmp_path):
    done = _communitas(tmp_path, "group-session", "--jurisdiction", "US-OR", "--doses-mg", "5,12,30",
                       "--facilitators", "1", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["max_clients"] == 4
    bad = _communitas(tmp_path, "group-session", "--jurisdiction", "US-CO", "--doses-mg", "5", "--facilitators", "1")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
    # an argument argparse itself refuses (a dose list starting with "-") is one line too
    dash = _communitas(tmp_path, "group-session", "--jurisdiction", "US-OR", "--doses-mg", "-5", "--facilitators", "1")
    assert dash.returncode == 2 and len(dash.stderr.splitlines()) == 1 and dash.stderr.startswith("error: ")


@pytest.mark.django_db
def test_it_answers_a_legal_status_question_as_json():
    out, _ = run("legal-status", "--jurisdiction", "US-OR", "--substance", "mdma", "--framework",
                 "clinical_trial_ind", "--on", "2026-11-26", "--json")  # fmt: skip
    answer = json.loads(out)
    assert answer["lawful"] is True and answer["decided_by"] == "US"
    assert [(layer["jurisdiction"], layer["verdict"]) for layer in answer["layers_used"]] == [
        ("US", "permits"),
        ("US-OR", "no_row"),
    ]


@pytest.mark.django_db
def test_it_prints_a_readable_legal_status():
    out, _ = run("legal-status", "--jurisdiction", "US-OR", "--substance", "psilocybin", "--framework",
                 "licensed_service_center", "--on", "2026-11-26")  # fmt: skip
    lines = out.splitlines()
    assert lines[0].startswith("Lawful: licensed_service_center for psilocybin in US-OR on 2026-11-26")
    assert lines[-2:] == ["  country US: prohibits (us-psilocybin)", "  state US-OR: permits (us-or-psilocybin)"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--framework", "spa"], "unknown framework"),
        (["--on", "26/11/2026"], "not a date"),
        (["--jurisdiction", "Oregon"], "ISO 3166"),
    ],
)
def test_it_exits_2_for_a_bad_legal_status_question(args, message):
    base = {"--jurisdiction": "US-OR", "--substance": "psilocybin", "--framework": "licensed_service_center"}
    argv = [item for key, value in base.items() if key not in args for item in (key, value)] + args
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("compliance", "legal-status", *argv, stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2 and message in err.getvalue() and len(err.getvalue().splitlines()) == 1
