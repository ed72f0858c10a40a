"""`communitas screen` end to end: an answers file in, the JSON verdict out; bad input exits 2."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from communitas.safety.screening.engine import default_rules


def answers(**changes: Any) -> dict[str, Any]:
    """A 34-year-old who answered PHQ-9 item 9 with 0, plus ``changes``."""
    return {"age": 34, "phq9_item9": 0} | changes


def ibogaine(**changes: Any) -> dict[str, Any]:
    return answers(**({"qtc_ms": 410} | changes))


def meds(*names: str) -> dict[str, Any]:
    return {"medications": list(names)}


def cssrs(**flags: bool) -> dict[str, Any]:
    return {"suicidal_ideation": flags}


ISSUE_EXAMPLE = {
    "age": 34,
    "conditions": ["bipolar_i"],
    "family_history": ["schizophrenia"],
    "medications": ["lithium carbonate", "Zoloft"],
    "phq9_item9": 0,
    "blood_pressure": [122, 78],
}

E, R, OK = "excluded", "needs_review", "eligible"

# name, substance, jurisdiction, answers, outcome, rule ids that must be among the reasons, escalate
CASES: list[tuple[str, str, str, dict[str, Any], str, set[str], bool]] = [
    # drug interactions, written as people write them
    ("zoloft with ayahuasca", "ayahuasca", "BR", answers(**meds("Zoloft 50 mg")), E, {"D5"}, False),
    ("nardil with mdma", "mdma", "US-UT", answers(**meds("Nardil")), E, {"D9"}, False),
    ("ultram with ayahuasca", "ayahuasca", "US-CO", answers(**meds("Ultram 50mg")), E, {"D6"}, False),
    ("lexapro with psilocybin is a caution", "psilocybin", "US-OR", answers(**meds("lexapro 10mg")), OK, {"D3"}, False),
    ("adderall with mdma", "mdma", "US-UT", answers(**meds("Adderall XR 20 mg")), R, {"D11"}, False),
    ("theophylline with ketamine", "ketamine", "US", answers(**meds("Theo-24 300 mg")), E, {"D15"}, False),
    ("theophylline with esketamine", "esketamine", "US", answers(**meds("theophylline")), OK, set(), False),
    ("methadone with ibogaine", "ibogaine", "MX", ibogaine(**meds("methadone 80 mg")), E, {"D16", "D17"}, False),
    ("seroquel with ibogaine", "ibogaine", "MX", ibogaine(**meds("Seroquel XR 50mg")), E, {"D16", "D18"}, False),
    ("mirtazapine with ibogaine", "ibogaine", "MX", ibogaine(**meds("Remeron")), R, {"D18"}, False),
    ("lithium with psilocybin", "psilocybin", "US-OR", answers(**meds("Lithium Carbonate 300 mg")), E, {"D1"}, False),
    (
        "lithium stopped 31 days ago",
        "psilocybin",
        "US-OR",
        answers(medications=[{"name": "lithium", "last_taken_days_ago": 31}]),
        OK,
        set(),
        False,
    ),
    ("wellbutrin with mdma is a caution", "mdma", "US-UT", answers(**meds("Wellbutrin XL")), OK, {"D12"}, False),
    ("xanax with ketamine is a caution", "ketamine", "US", answers(**meds("Xanax 0.5 mg")), OK, {"D13"}, False),
    ("sudafed with ayahuasca", "ayahuasca", "BR", answers(**meds("Sudafed")), R, {"D8"}, False),
    ("phenelzine with ayahuasca", "ayahuasca", "BR", answers(**meds("phenelzine")), E, {"D5"}, False),
    ("5-htp with ayahuasca", "ayahuasca", "BR", answers(**meds("5-HTP 100 mg")), E, {"D5"}, False),
    ("combined entry finds lithium", "lsd", "CH", answers(**meds("sertraline + lithium")), E, {"D1", "D3"}, False),
    ("unknown medicine forces review", "lsd", "CH", answers(**meds("Xyzzylol 5 mg")), R, {"MED-UNKNOWN"}, False),
    # legal age
    ("20 in Oregon", "psilocybin", "US-OR", answers(age=20), E, {"A1"}, False),
    ("21 in Oregon", "psilocybin", "US-OR", answers(age=21), OK, set(), False),
    ("20 in Colorado", "psilocybin", "US-CO", answers(age=20), E, {"A2"}, False),
    ("21 in Colorado", "psilocybin", "US-CO", answers(age=21), OK, set(), False),
    ("20 with ibogaine in Colorado", "ibogaine", "US-CO", ibogaine(age=20), E, {"A2"}, False),
    ("20 in New Mexico", "psilocybin", "US-NM", answers(age=20), OK, set(), False),
    ("20 in the Netherlands", "psilocybin", "NL", answers(age=20), OK, set(), False),
    ("17 in Oregon", "psilocybin", "US-OR", answers(age=17), E, {"A0", "A1"}, False),
    ("17 with ketamine", "ketamine", "US", answers(age=17), E, {"A0"}, False),
    ("18 with mdma", "mdma", "AU", answers(age=18), OK, set(), False),
    # blood pressure, heart rate, ECG
    ("ketamine 141/85", "ketamine", "US", answers(blood_pressure=[141, 85]), R, {"C3"}, False),
    ("ketamine 140/90", "ketamine", "US", answers(blood_pressure=[140, 90]), OK, set(), False),
    ("ketamine 120/95", "ketamine", "US", answers(blood_pressure=[120, 95]), R, {"C3"}, False),
    ("esketamine 150/80", "esketamine", "US", answers(blood_pressure=[150, 80]), R, {"C3"}, False),
    ("ibogaine 175/100", "ibogaine", "MX", ibogaine(blood_pressure=[175, 100]), E, {"C9"}, False),
    ("ibogaine 120/55", "ibogaine", "MX", ibogaine(blood_pressure=[120, 55]), E, {"C9"}, False),
    ("ibogaine heart rate 45", "ibogaine", "MX", ibogaine(heart_rate=45), E, {"C9"}, False),
    ("ibogaine at the limits", "ibogaine", "MX", ibogaine(blood_pressure=[170, 105], heart_rate=50), OK, set(), False),
    ("ibogaine QTc 470", "ibogaine", "MX", ibogaine(qtc_ms=470), E, {"C7"}, False),
    ("ibogaine without ECG", "ibogaine", "MX", answers(), R, {"C8"}, False),
    ("psilocybin 165/95", "psilocybin", "US-OR", answers(blood_pressure=[165, 95]), R, {"C6M"}, False),
    ("lsd 160/100", "lsd", "CH", answers(blood_pressure=[160, 100]), OK, set(), False),
    ("mdma with WPW", "mdma", "US-UT", answers(conditions=["wpw"]), E, {"C1"}, False),
    ("esketamine with aneurysm", "esketamine", "US", answers(conditions=["aneurysm"]), E, {"C2"}, False),
    (
        "ketamine after a brain bleed",
        "ketamine",
        "US",
        answers(conditions=["intracerebral_hemorrhage"]),
        E,
        {"C5"},
        False,
    ),
    # suicide and harm risk
    ("C-SSRS intent", "psilocybin", "US-OR", answers(**cssrs(active_thoughts=True, intent=True)), E, {"S1"}, True),
    ("C-SSRS plan", "mdma", "US-UT", answers(**cssrs(plan=True)), E, {"S1"}, True),
    ("C-SSRS behaviour, 3 months", "ketamine", "US", answers(**cssrs(behavior_past_3_months=True)), E, {"S1"}, True),
    ("C-SSRS wish to be dead only", "psilocybin", "US-OR", answers(**cssrs(wish_dead=True)), R, {"S2"}, False),
    ("C-SSRS lifetime behaviour only", "lsd", "CH", answers(**cssrs(behavior_lifetime=True)), R, {"S2"}, False),
    ("PHQ-9 item 9 = 1", "psilocybin", "US-OR", answers(phq9_item9=1), R, {"S3"}, False),
    ("PHQ-9 item 9 = 2", "psilocybin", "US-OR", answers(phq9_item9=2), R, {"S3", "S4"}, True),
    ("PHQ-9 item 9 = 3", "ayahuasca", "BR", answers(phq9_item9=3), R, {"S3", "S4"}, True),
    ("PHQ-9 item 9 missing", "psilocybin", "US-OR", {"age": 34}, R, {"S0"}, False),
    ("harm ideation in Oregon", "psilocybin", "US-OR", answers(harm_ideation=True), E, {"OR-H", "H1"}, True),
    ("harm ideation elsewhere", "psilocybin", "US-CO", answers(harm_ideation=True), R, {"H1"}, True),
    # pregnancy, breastfeeding
    ("pregnant with mdma", "mdma", "AU", answers(pregnant=True), E, {"R1"}, False),
    ("breastfeeding with esketamine", "esketamine", "US", answers(breastfeeding=True), E, {"R1"}, False),
    ("pregnant with psilocybin", "psilocybin", "US-OR", answers(pregnant=True), E, {"R1"}, False),
    # psychiatric history
    ("the issue example", "psilocybin", "US-OR", ISSUE_EXAMPLE, E, {"D1", "P3", "P4", "D3"}, False),
    ("bipolar II with psilocybin", "psilocybin", "US-OR", answers(conditions=["bipolar_ii"]), OK, set(), False),
    ("family history with mdma", "mdma", "US-UT", answers(family_history=["bipolar_i"]), R, {"P4"}, False),
    ("schizophrenia with ketamine", "ketamine", "US", answers(conditions=["schizophrenia"]), R, {"P5"}, False),
    ("a clean adult", "lsd", "CH", answers(), OK, set(), False),
]


def screen_json(tmp_path, substance: str, jurisdiction: str, data: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    call_command("screen", substance=substance, jurisdiction=jurisdiction, answers=path, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_it_has_a_readable_table_of_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("substance", "jurisdiction", "data", "outcome", "rule_ids", "escalate"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_it_screens_from_an_answers_file(tmp_path, substance, jurisdiction, data, outcome, rule_ids, escalate):
    result = screen_json(tmp_path, substance, jurisdiction, data)
    got = {reason["rule"] for reason in result["reasons"]}
    assert result["outcome"] == outcome, got
    assert rule_ids <= got
    assert result["escalate"] is escalate
    if outcome == "eligible":
        assert {r["severity"] for r in result["reasons"]} <= {"caution"}
    assert (result["substance"], result["jurisdiction"]) == (substance, jurisdiction)
    assert result["rules_version"] == default_rules().version


def test_it_prints_each_reason_with_its_source_and_overridability(tmp_path):
    result = screen_json(tmp_path, "psilocybin", "US-OR", ISSUE_EXAMPLE)
    assert [r["rule"] for r in result["reasons"]] == ["D1", "P3", "P4", "D3"]  # most severe first
    d1 = result["reasons"][0]
    assert set(d1) == {"rule", "severity", "explanation", "source", "overridable", "escalate"}
    assert d1["severity"] == "exclude" and d1["overridable"] is True and d1["escalate"] is False
    assert "lithium carbonate" in d1["explanation"] and "clinical.md 1.2 D1" in d1["source"]
    assert result["unrecognised_medications"] == []


def test_it_prints_a_readable_verdict_without_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(answers(phq9_item9=2)), encoding="utf-8")
    out = io.StringIO()
    call_command("screen", substance="psilocybin", jurisdiction="US-OR", answers=path, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "NEEDS_REVIEW (escalate: page a clinician today)"
    assert [line.split("]")[1].split(":")[0].strip() for line in lines[1:]] == ["S3", "S4"]


BAD = [
    ("unknown substance", "dmt", "US-OR", json.dumps(answers()), "unknown substance"),
    ("malformed JSON", "psilocybin", "US-OR", '{"age": 34,', "Invalid JSON"),
    ("not an object", "psilocybin", "US-OR", "[34]", "answers:"),
    ("age 300", "psilocybin", "US-OR", json.dumps(answers(age=300)), "age:"),
    ("negative age", "psilocybin", "US-OR", json.dumps(answers(age=-1)), "age:"),
    ("missing age", "psilocybin", "US-OR", json.dumps({"phq9_item9": 0}), "age: Field required"),
    ("systolic below diastolic", "ketamine", "US", json.dumps(answers(blood_pressure=[80, 120])), "systolic"),
    ("one blood pressure number", "ketamine", "US", json.dumps(answers(blood_pressure=[120])), "blood_pressure"),
    ("unknown condition", "psilocybin", "US-OR", json.dumps(answers(conditions=["bipolar"])), "bipolar"),
    ("unknown family history", "mdma", "US", json.dumps(answers(family_history=["schizo"])), "schizo"),
    ("unknown top-level key", "psilocybin", "US-OR", json.dumps(answers(override=True)), "override"),
    ("unknown nested key", "lsd", "CH", json.dumps(answers(**cssrs(intent=True, cleared=True))), "cleared"),
    (
        "unknown medication key",
        "lsd",
        "CH",
        json.dumps(answers(medications=[{"name": "lithium", "cleared": True}])),
        "medications.0.cleared",
    ),
    ("phq9_item9 = 4", "psilocybin", "US-OR", json.dumps(answers(phq9_item9=4)), "phq9_item9"),
    ("age as a string", "psilocybin", "US-OR", json.dumps(answers(age="34")), "age"),
    ("yes for a boolean", "mdma", "US", json.dumps(answers(pregnant="yes")), "pregnant"),
    ("medications as a string", "psilocybin", "US-OR", json.dumps(answers(medications="lithium")), "medications"),
    ("empty medication name", "psilocybin", "US-OR", json.dumps(answers(medications=[""])), "medications.0"),
    ("QTc out of range", "ibogaine", "MX", json.dumps(ibogaine(qtc_ms=90)), "qtc_ms"),
    ("jurisdiction as a name", "psilocybin", "Oregon", json.dumps(answers()), "ISO 3166"),
    ("lower-case jurisdiction", "psilocybin", "us-or", json.dumps(answers()), "ISO 3166"),
    ("overlong jurisdiction", "psilocybin", "US-OREGON", json.dumps(answers()), "ISO 3166"),
]


@pytest.mark.parametrize(
    ("substance", "jurisdiction", "text", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_it_exits_2_with_one_line_on_stderr_for_bad_input(tmp_path, substance, jurisdiction, text, message):
    path = tmp_path / "answers.json"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "screen", substance=substance, jurisdiction=jurisdiction, answers=path, json=True, stdout=out, stderr=err
        )
    assert exit_info.value.code == 2
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_it_exits_2_when_the_answers_file_is_missing(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "screen",
            substance="psilocybin",
            jurisdiction="US-OR",
            answers=tmp_path / "nowhere.json",
            json=True,
            stdout=out,
            stderr=err,
        )
    assert exit_info.value.code == 2 and out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "nowhere.json" in lines[0]


def test_it_exits_2_when_the_answers_file_is_not_utf8(tmp_path):
    path = tmp_path / "answers.json"
    path.write_bytes(b'{"age": 34, "medications": ["\xff"]}')
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("screen", substance="lsd", jurisdiction="CH", answers=path, json=True, stdout=out, stderr=err)
    assert exit_info.value.code == 2 and out.getvalue() == "" and len(err.getvalue().splitlines()) == 1
