"""The screening rules, one by one: every rule in rules.json has a case that fires it and a case,
differing minimally, that does not. Pure engine; no database."""

from __future__ import annotations

import inspect
import itertools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from communitas.safety.screening.engine import (
    UNKNOWN_MEDICATION_RULE,
    ScreeningInputError,
    ScreeningResult,
    default_drugs,
    default_rules,
    identify,
    identify_all,
    parse_answers,
    screen,
)
from communitas.safety.screening.schema import SUBSTANCES, Answers, Medication, SuicidalIdeation

RULES = {rule.id: rule for rule in default_rules().rules}
OUTCOME_OF = {"exclude": "excluded", "requires_medical_review": "needs_review", "caution": "eligible"}
RANK = {"exclude": 0, "requires_medical_review": 1, "caution": 2}
DROP = object()  # in a case's answers: remove this key from the clean baseline


def clean(substance: str) -> dict[str, Any]:
    """Answers that fire no rule for ``substance`` anywhere: an adult who answered PHQ-9 item 9
    with 0 (and, for ibogaine, has a normal baseline ECG)."""
    answers: dict[str, Any] = {"age": 35, "phq9_item9": 0}
    if substance == "ibogaine":
        answers["qtc_ms"] = 410
    return answers


def answers_for(substance: str, changes: dict[str, Any]) -> Answers:
    data = clean(substance) | changes
    return Answers.model_validate({k: v for k, v in data.items() if v is not DROP})


def run(substance: str, jurisdiction: str, changes: dict[str, Any], **kwargs) -> ScreeningResult:
    return screen(answers_for(substance, changes), substance=substance, jurisdiction=jurisdiction, **kwargs)


def fired(result: ScreeningResult) -> set[str]:
    return {reason.rule for reason in result.reasons}


def expected_outcome(result: ScreeningResult) -> str:
    if not result.reasons:
        return "eligible"
    return OUTCOME_OF[min((r.severity for r in result.reasons), key=RANK.__getitem__)]


def med(name: str, days: int | None = None) -> dict[str, Any]:
    return {"name": name, "last_taken_days_ago": days}


@dataclass(frozen=True)
class Case:
    rule: str
    substance: str
    jurisdiction: str
    fires: dict[str, Any]  # changes to the clean answers that fire the rule
    quiet: dict[str, Any]  # the same fields with values that do not fire it ({}: see below)
    also: frozenset[str] = frozenset()  # other rules the triggering answers fire as well
    quiet_substance: str | None = None  # or: the triggering answers for another substance
    quiet_jurisdiction: str | None = None  # or: the triggering answers in another jurisdiction

    def __str__(self) -> str:
        return self.rule


WA, OR, CO = "US-WA", "US-OR", "US-CO"
CASES = [
    # psychiatric history
    Case("P1", "psilocybin", WA, {"conditions": ["schizophrenia"]}, {}, quiet_substance="ketamine"),
    Case("P2", "psilocybin", OR, {"conditions": ["psychosis"]}, {}, also=frozenset({"P1"}), quiet_jurisdiction=CO),
    Case("P3", "mdma", WA, {"conditions": ["bipolar_i"]}, {"conditions": ["bipolar_ii"]}),
    Case("P4", "lsd", WA, {"family_history": ["schizophrenia"]}, {}, quiet_substance="ketamine"),
    Case("P5", "ketamine", WA, {"conditions": ["schizoaffective"]}, {"conditions": ["bipolar_i"]}),
    Case("P7", "ibogaine", WA, {"conditions": ["suicide_attempt_history"]}, {"conditions": ["bipolar_ii"]}),
    Case("P8", "ketamine", WA, {"conditions": ["substance_use_disorder"]}, {}, quiet_substance="ibogaine"),
    Case("P9", "mdma", WA, {"conditions": ["eating_disorder_purging"]}, {}, quiet_substance="psilocybin"),
    Case("P10", "mdma", WA, {"conditions": ["dissociative_identity_disorder"]}, {}, quiet_substance="lsd"),
    # suicide and harm risk
    Case("S1", "ayahuasca", WA, {"suicidal_ideation": {"intent": True}}, {"suicidal_ideation": {"intent": False}}),
    Case("S2", "mdma", WA, {"suicidal_ideation": {"wish_dead": True}}, {"suicidal_ideation": {"wish_dead": False}}),
    Case("S3", "lsd", WA, {"phq9_item9": 1}, {"phq9_item9": 0}),
    Case("S4", "ketamine", WA, {"phq9_item9": 2}, {"phq9_item9": 1}, also=frozenset({"S3"})),
    Case("S0", "psilocybin", WA, {"phq9_item9": DROP}, {"phq9_item9": 0}),
    Case("OR-H", "psilocybin", OR, {"harm_ideation": True}, {}, also=frozenset({"H1"}), quiet_jurisdiction=CO),
    Case("H1", "mdma", WA, {"harm_ideation": True}, {"harm_ideation": False}),
    # cardiovascular and vital signs
    Case("C1", "mdma", WA, {"conditions": ["wpw"]}, {}, quiet_substance="ketamine"),
    Case("C1R", "mdma", WA, {"conditions": ["myocardial_infarction"]}, {}, quiet_substance="ketamine"),
    Case("C2", "esketamine", WA, {"conditions": ["avm"]}, {}, quiet_substance="ketamine"),
    Case("C3", "ketamine", WA, {"blood_pressure": [141, 85]}, {"blood_pressure": [140, 90]}),
    Case("C4", "esketamine", WA, {"conditions": ["glaucoma"]}, {}, quiet_substance="psilocybin"),
    Case("C5", "ketamine", WA, {"conditions": ["preeclampsia"]}, {}, quiet_substance="esketamine"),
    Case("C6", "psilocybin", WA, {"conditions": ["cardiovascular_disease"]}, {}, quiet_substance="esketamine"),
    Case("C6M", "psilocybin", WA, {"blood_pressure": [165, 95]}, {"blood_pressure": [160, 100]}),
    Case("C7", "ibogaine", WA, {"qtc_ms": 460}, {"qtc_ms": 450}),
    Case("C8", "ibogaine", WA, {"qtc_ms": DROP}, {"qtc_ms": 410}),
    Case("C9", "ibogaine", WA, {"heart_rate": 45}, {"heart_rate": 50}),
    # neurological
    Case("N1", "lsd", WA, {"conditions": ["seizure_disorder"]}, {}, quiet_substance="mdma"),
    Case("N2", "ibogaine", WA, {"conditions": ["alcohol_dependence"]}, {}, quiet_substance="ayahuasca"),
    # reproductive
    Case("R1", "esketamine", WA, {"breastfeeding": True}, {"breastfeeding": False}),
    # age and jurisdiction
    Case("A1", "psilocybin", OR, {"age": 20}, {"age": 21}),
    Case("A2", "psilocybin", CO, {"age": 20}, {}, quiet_jurisdiction=WA),
    Case("A0", "mdma", WA, {"age": 17}, {"age": 18}),
    Case("OR-M", "psilocybin", OR, {"conditions": ["mushroom_allergy"]}, {}, quiet_jurisdiction=CO),
    # drug interactions
    Case(
        "D1",
        "psilocybin",
        OR,
        {"medications": [med("lithium carbonate", 30)]},
        {"medications": [med("lithium carbonate", 31)]},
    ),
    Case("D2", "lsd", WA, {"medications": ["amitriptyline"]}, {}, quiet_substance="ketamine"),
    Case("D3", "psilocybin", OR, {"medications": [med("sertraline", 90)]}, {"medications": [med("sertraline", 91)]}),
    Case("D4", "psilocybin", OR, {"medications": ["phenelzine"]}, {}, quiet_substance="ibogaine"),
    Case("D5", "ayahuasca", WA, {"medications": ["sertraline"]}, {}, quiet_substance="psilocybin"),
    Case("D6", "ayahuasca", WA, {"medications": ["tramadol"]}, {}, quiet_substance="lsd"),
    Case("D6M", "mdma", WA, {"medications": ["tapentadol"]}, {}, quiet_substance="psilocybin"),
    Case("D7", "ayahuasca", WA, {"medications": ["St John's wort"]}, {}, quiet_substance="psilocybin"),
    Case("D8", "ayahuasca", WA, {"medications": ["pseudoephedrine"]}, {}, quiet_substance="lsd"),
    Case("D9", "mdma", WA, {"medications": ["moclobemide"]}, {}, quiet_substance="ketamine"),
    Case("D10", "mdma", WA, {"medications": ["sertraline"]}, {}, quiet_substance="ketamine"),
    Case("D11", "mdma", WA, {"medications": ["methylphenidate"]}, {}, quiet_substance="psilocybin"),
    Case("D12", "mdma", WA, {"medications": ["bupropion"]}, {}, quiet_substance="psilocybin"),
    Case("D13", "esketamine", WA, {"medications": ["lorazepam"]}, {}, quiet_substance="mdma"),
    Case("D14", "ketamine", WA, {"medications": ["modafinil"]}, {}, quiet_substance="psilocybin"),
    Case("D15", "ketamine", WA, {"medications": ["aminophylline"]}, {}, quiet_substance="esketamine"),
    Case("D16", "ibogaine", WA, {"medications": ["azithromycin"]}, {}, quiet_substance="mdma"),
    Case("D17", "ibogaine", WA, {"medications": [med("oxycodone", 30)]}, {"medications": [med("oxycodone", 31)]}),
    Case("D18", "ibogaine", WA, {"medications": ["sertraline"]}, {}, quiet_substance="psilocybin"),
]


def quiet_run(case: Case) -> ScreeningResult:
    if case.quiet_substance or case.quiet_jurisdiction:
        substance = case.quiet_substance or case.substance
        return run(substance, case.quiet_jurisdiction or case.jurisdiction, case.fires)
    return run(case.substance, case.jurisdiction, case.quiet)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_it_fires_each_rule_on_its_triggering_answers(case):
    rule = RULES[case.rule]
    result = run(case.substance, case.jurisdiction, case.fires)
    assert fired(result) == {case.rule, *case.also}
    (reason,) = [r for r in result.reasons if r.rule == case.rule]
    assert reason.severity == rule.severity
    assert reason.source == rule.source and reason.overridable == rule.overridable
    assert result.outcome == OUTCOME_OF[rule.severity] == expected_outcome(result)
    assert result.escalate == any(RULES[rule_id].escalate for rule_id in fired(result))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_it_does_not_fire_a_rule_on_minimally_different_answers(case):
    result = quiet_run(case)
    assert case.rule not in fired(result)
    assert result.outcome == expected_outcome(result)
    assert result.escalate == any(RULES[rule_id].escalate for rule_id in fired(result))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_it_keeps_the_quiet_case_minimal(case):
    """The non-triggering case differs in exactly one thing: the answers, the substance, or the
    jurisdiction."""
    elsewhere = [case.quiet_substance, case.quiet_jurisdiction]
    if any(elsewhere):
        assert case.quiet == {} and elsewhere.count(None) == 1
        assert case.quiet_substance != case.substance and case.quiet_jurisdiction != case.jurisdiction
    else:
        assert set(case.quiet) == set(case.fires) and case.quiet != case.fires


def test_it_has_a_case_for_every_rule_in_rules_json():
    """A new rule in rules.json must get a triggering and a non-triggering case here."""
    in_file = [rule["id"] for rule in json.loads(_data("rules.json"))["rules"]]
    assert sorted(case.rule for case in CASES) == sorted(in_file)


def _data(name: str) -> str:
    return (resources.files("communitas.safety.screening") / "data" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("substance", SUBSTANCES)
@pytest.mark.parametrize("jurisdiction", [WA, OR, CO, "NL", "AU"])
def test_it_finds_the_clean_baseline_eligible_with_no_reasons(substance, jurisdiction):
    result = run(substance, jurisdiction, {})
    assert (result.outcome, result.reasons, result.escalate) == ("eligible", [], False)
    assert result.rules_version == default_rules().version


# --- every threshold at its boundary ---------------------------------------------------------------

SUBSTANCE_OF = {"classic": "psilocybin", "ket": "ketamine", "all": "lsd"}


def _boundaries():
    """(rule, field, value that fires, value that does not) for every measurement, age and
    medication-window trigger in rules.json."""
    for rule in default_rules().rules:
        for trigger in rule.triggers:
            if trigger.type == "measurement" and trigger.above is not None:
                yield rule.id, trigger.field, int(trigger.above) + 1, int(trigger.above)
            elif trigger.type == "measurement" and trigger.below is not None:
                yield rule.id, trigger.field, int(trigger.below) - 1, int(trigger.below)
            elif trigger.type == "measurement" and trigger.at_least is not None:
                yield rule.id, trigger.field, int(trigger.at_least), int(trigger.at_least) - 1
            elif trigger.type == "age_below":
                yield rule.id, "age", trigger.age - 1, trigger.age
            elif trigger.type == "drug_class" and trigger.within_days is not None:
                yield rule.id, f"within_days:{trigger.codes[0]}", trigger.within_days, trigger.within_days + 1


BOUNDARIES = list(_boundaries())
MEDICINE_OF_CLASS = {c: d.name for d in reversed(default_drugs().drugs) for c in d.classes}  # first in the table


def _at(field: str, value: int) -> dict[str, Any]:
    if field == "systolic":
        return {"blood_pressure": [value, 70]}
    if field == "diastolic":
        return {"blood_pressure": [130, value]}
    if field.startswith("within_days:"):
        return {"medications": [med(MEDICINE_OF_CLASS[field.split(":")[1]], value)]}
    return {field: value}


# The thresholds as clinical.md 1.2/1.3 and regulatory.md state them (C6M, C7's 450 ms: Communitas policy).
EXPECTED_BOUNDARIES = [
    ("C3", "systolic", 141, 140),  # ketamine/esketamine: pre-dose BP > 140/90 [SPR-PDR]
    ("C3", "diastolic", 91, 90),
    ("C6M", "systolic", 161, 160),
    ("C6M", "diastolic", 101, 100),
    ("C7", "qtc_ms", 451, 450),
    ("C9", "systolic", 171, 170),  # ibogaine: BP > 170/105 or < 80/60; HR > 120 or < 50 [IBO-PROT]
    ("C9", "diastolic", 106, 105),
    ("C9", "systolic", 79, 80),
    ("C9", "diastolic", 59, 60),
    ("C9", "heart_rate", 121, 120),
    ("C9", "heart_rate", 49, 50),
    ("S3", "phq9_item9", 1, 0),  # item 9 >= 1: review; >= 2: same day
    ("S4", "phq9_item9", 2, 1),
    ("A1", "age", 20, 21),  # Oregon: 21+
    ("A2", "age", 20, 21),  # Colorado: 21+
    ("A0", "age", 17, 18),
    ("D1", "within_days:lithium", 30, 31),  # lithium in the last 30 days [OAR q(a)]
    ("D3", "within_days:ssri", 90, 91),  # blunting for ~3 months after stopping [GUK23]
    ("D17", "within_days:long_acting_opioid", 30, 31),
]


def test_it_has_the_thresholds_the_research_gives():
    """A changed threshold in rules.json must be a deliberate change here too."""
    assert sorted(BOUNDARIES) == sorted(EXPECTED_BOUNDARIES)


@pytest.mark.parametrize(("rule_id", "field", "hit", "miss"), EXPECTED_BOUNDARIES, ids=lambda v: str(v))
def test_it_fires_a_threshold_just_past_it_and_not_at_it(rule_id, field, hit, miss):
    rule = RULES[rule_id]
    substance = next(SUBSTANCE_OF.get(s, s) for s in rule.substances)
    jurisdiction = rule.jurisdictions[0] if rule.jurisdictions else WA
    assert rule_id in fired(run(substance, jurisdiction, _at(field, hit)))
    assert rule_id not in fired(run(substance, jurisdiction, _at(field, miss)))


# --- disabled rules, escalation -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_it_never_fires_a_disabled_rule(case):
    rules = default_rules()
    disabled = rules.model_copy(
        update={"rules": [r.model_copy(update={"enabled": r.id != case.rule}) for r in rules.rules]}
    )
    assert case.rule in fired(run(case.substance, case.jurisdiction, case.fires, rules=rules))
    assert fired(run(case.substance, case.jurisdiction, case.fires, rules=disabled)) == case.also


def test_it_escalates_exactly_the_same_day_rules():
    assert {rule_id for rule_id, rule in RULES.items() if rule.escalate} == {"S1", "S4", "OR-H", "H1"}
    for case in CASES:
        result = run(case.substance, case.jurisdiction, case.fires)
        assert result.escalate is (case.rule in {"S1", "S4", "OR-H", "H1"}), case.rule


def test_it_keeps_legal_age_and_high_suicide_risk_non_overridable():
    assert {rule_id for rule_id, rule in RULES.items() if not rule.overridable} == {"A0", "A1", "A2", "S1"}
    result = run("psilocybin", OR, {"age": 19, "suicidal_ideation": {"plan": True}})
    assert {r.rule: r.overridable for r in result.reasons} == {"A1": False, "S1": False}
    assert result.as_dict()["reasons"][0]["overridable"] is False


# --- medication names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "generic"),
    [
        ("ZOLOFT", "sertraline"),
        ("Lithium Carbonate 300 mg", "lithium"),
        ("lexapro 10mg", "escitalopram"),
        ("Wellbutrin XL", "bupropion"),
        ("Wellbutrin XL 150 mg tablets", "bupropion"),
        ("Effexor XR 75 mg", "venlafaxine"),
        ("Seroquel XR", "quetiapine"),
        ("St. John\u2019s Wort", "st john's wort"),  # curly apostrophe
        ("5-HTP 100 mg", "5-htp"),
        ("Sudafed PE", "phenylephrine"),
        ("Sudafed", "pseudoephedrine"),
        ("Théophylline", "theophylline"),
        ("Theo-24", "theophylline"),
        ("buprenorphine/naloxone 8/2 mg", "buprenorphine"),
        ("Tylenol with codeine 30 mg", "codeine"),
        ("Focalin XR 10 mg", "dexmethylphenidate"),
        ("Adderall XR 20 mg", "amphetamine"),
    ],
)
def test_it_recognises_generic_salt_and_brand_names_in_any_case(written, generic):
    assert identify(written, default_drugs()).name == generic
    assert identify_all(written, default_drugs())[1] is False


@pytest.mark.parametrize(
    ("written", "substance", "rule"),
    [
        ("ZOLOFT", "ayahuasca", "D5"),
        ("Lithium Carbonate 300 mg", "psilocybin", "D1"),
        ("lexapro 10mg", "psilocybin", "D3"),
        ("Wellbutrin XL", "mdma", "D12"),
        ("5-HTP 100 mg", "ayahuasca", "D5"),
        ("Theo-24", "ketamine", "D15"),
    ],
)
def test_it_applies_rules_to_brand_and_salt_names(written, substance, rule):
    result = run(substance, WA, {"medications": [written]})
    assert rule in fired(result) and result.unrecognised_medications == []


@pytest.mark.parametrize("entry", ["lithium + sertraline", "sertraline and lithium", "Zoloft, lithium 300mg"])
def test_it_finds_every_medicine_in_a_combined_entry(entry):
    result = run("psilocybin", OR, {"medications": [entry]})
    assert {"D1", "D3"} <= fired(result) and result.outcome == "excluded"


def test_it_reports_unknown_medication_names_and_forces_review():
    result = run("psilocybin", OR, {"medications": ["Xyzzylol 20 mg", "ibuprofen"]})
    assert result.unrecognised_medications == ["Xyzzylol 20 mg"]
    assert result.outcome == "needs_review" and fired(result) == {UNKNOWN_MEDICATION_RULE}
    (reason,) = result.reasons
    assert reason.severity == "requires_medical_review" and "Xyzzylol 20 mg" in reason.explanation


def test_it_reports_the_unknown_part_of_a_combined_entry_and_still_applies_the_known_part():
    result = run("psilocybin", OR, {"medications": ["lithium and xyzzylol"]})
    assert result.unrecognised_medications == ["lithium and xyzzylol"]
    assert fired(result) == {"D1", UNKNOWN_MEDICATION_RULE} and result.outcome == "excluded"


def test_it_does_not_let_a_known_drug_hide_an_unknown_one_in_review_only_cases():
    result = run("lsd", WA, {"medications": ["ibuprofen/xyzzylol"]})
    assert result.outcome == "needs_review" and result.unrecognised_medications == ["ibuprofen/xyzzylol"]


def test_it_ignores_a_medication_last_taken_long_ago_for_a_within_days_rule():
    long_ago = {"medications": [med("lithium", 400), med("sertraline", 400), med("oxycodone", 400)]}
    assert fired(run("psilocybin", OR, long_ago)) == set()
    assert fired(run("ibogaine", WA, {"medications": [med("oxycodone", 400)]})) == set()


def test_it_fires_a_rule_without_a_window_on_any_recorded_past_use():
    """Only lithium (30 days), SSRIs for psilocybin/LSD (90 days) and opioids before ibogaine
    (30 days) have sourced windows; any other recorded use goes to a clinician or excludes."""
    result = run("ayahuasca", WA, {"medications": [med("fluoxetine", 400)]})
    assert fired(result) == {"D5"} and result.outcome == "excluded"


def test_it_treats_a_medication_with_no_date_as_taken_now():
    assert fired(run("psilocybin", OR, {"medications": [med("lithium")]})) == {"D1"}


# --- data integrity -------------------------------------------------------------------------------


def test_it_only_uses_drug_classes_that_exist_in_the_drug_table():
    known = {c.code for c in default_drugs().classes}
    for rule in default_rules().rules:
        for trigger in rule.triggers:
            if trigger.type == "drug_class":
                assert set(trigger.codes) <= known, rule.id
                assert trigger.codes, rule.id


def test_it_reads_only_answer_fields_that_exist():
    fields = {*Answers.model_fields, "systolic", "diastolic"} | {
        f"suicidal_ideation.{name}" for name in SuicidalIdeation.model_fields
    }
    for rule in default_rules().rules:
        for trigger in rule.triggers:
            if trigger.type in ("measurement", "answer", "missing"):
                assert trigger.field in fields, rule.id


def test_it_never_maps_one_name_to_two_drugs():
    from communitas.safety.screening.engine import _canon

    owner: dict[str, str] = {}
    for drug in default_drugs().drugs:
        for name in (drug.name, *drug.aliases):
            assert owner.setdefault(_canon(name), drug.name) == drug.name, name


def test_it_rejects_a_rule_with_a_malformed_jurisdiction():
    data = json.loads(_data("rules.json"))
    data["rules"][0]["jurisdictions"] = ["us-or"]
    with pytest.raises(ValidationError):
        type(default_rules()).model_validate(data)


# --- input validation at the engine boundary ------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["us-or", "Oregon", "US-OREGON", "", "US_OR"])
def test_it_refuses_a_jurisdiction_that_would_silently_skip_local_rules(jurisdiction):
    with pytest.raises(ScreeningInputError, match="ISO 3166"):
        run("psilocybin", jurisdiction, {"age": 19})


def test_it_refuses_an_unknown_substance_and_unknown_condition_codes():
    with pytest.raises(ScreeningInputError, match="unknown substance"):
        run("dmt", WA, {})
    with pytest.raises(ScreeningInputError, match="unknown condition codes: bipolar"):
        run("psilocybin", WA, {"conditions": ["bipolar"]})
    with pytest.raises(ScreeningInputError, match="unknown condition codes: schizo"):
        run("psilocybin", WA, {"family_history": ["schizo"]})


@pytest.mark.parametrize(
    "text",
    ['{"age": "34"}', '{"age": true}', '{"age": 34, "pregnant": "yes"}', '{"age": 34, "phq9_item9": 1.0}'],
)
def test_it_rejects_answers_of_the_wrong_type_instead_of_coercing_them(text):
    with pytest.raises(ScreeningInputError):
        parse_answers(text)


# --- exclusion cannot be undone by other answers ----------------------------------------------------

EXTRAS: dict[str, dict[str, Any]] = {
    "caution-only medicines": {"medications": ["bupropion", "amitriptyline", "lorazepam", "ibuprofen"]},
    "a review condition": {"conditions": ["suicide_attempt_history"]},
    "a family history": {"family_history": ["bipolar_i"]},
    "unrelated vitals": {"heart_rate": 72, "blood_pressure": [118, 76]},
    "unknown medications": {"medications": ["Xyzzylol 5 mg", "herbal tea"]},
    "an old medicine": {"medications": [med("lithium", 3650)]},
    "a low risk answer": {"phq9_item9": 1, "suicidal_ideation": {"wish_dead": True}},
    "a normal ECG": {"qtc_ms": 400},
}
EXCLUDE_CASES = [case for case in CASES if RULES[case.rule].severity == "exclude"]
EXTRA_SETS = [combo for size in (1, 2, len(EXTRAS)) for combo in itertools.combinations(sorted(EXTRAS), size)]


def combine(fires: dict[str, Any], extras: list[dict[str, Any]]) -> dict[str, Any]:
    """The triggering answers plus extra answers: lists grow, other fields are only added where the
    triggering answers leave them unset (a field that fires the rule is never overwritten)."""
    data = dict(fires)
    for extra in extras:
        for key, value in extra.items():
            if isinstance(value, list) and key in ("conditions", "family_history", "medications"):
                data[key] = [*data.get(key, []), *value]
            elif key not in data:
                data[key] = value
    return data


@pytest.mark.parametrize("case", EXCLUDE_CASES, ids=str)
def test_it_never_turns_an_exclusion_into_eligible_or_review_whatever_else_is_answered(case):
    for names in EXTRA_SETS:
        result = run(case.substance, case.jurisdiction, combine(case.fires, [EXTRAS[n] for n in names]))
        assert result.outcome == "excluded", (case.rule, names)
        assert case.rule in fired(result), (case.rule, names)


def test_it_checks_every_exclude_rule_against_extra_answers():
    assert {case.rule for case in EXCLUDE_CASES} == {i for i, rule in RULES.items() if rule.severity == "exclude"}
    assert len(EXTRA_SETS) == len(EXTRAS) + len(EXTRAS) * (len(EXTRAS) - 1) // 2 + 1


@pytest.mark.parametrize("case", CASES, ids=str)
def test_it_only_adds_reasons_when_more_conditions_or_medicines_are_listed(case):
    base = fired(run(case.substance, case.jurisdiction, case.fires))
    more = {k: v for k, v in EXTRAS.items() if set(v) <= {"conditions", "family_history", "medications"}}
    for extra in more.values():
        assert base <= fired(run(case.substance, case.jurisdiction, combine(case.fires, [extra])))


def test_it_has_no_parameter_that_could_clear_a_reason():
    params = set(inspect.signature(screen).parameters)
    assert params == {"answers", "substance", "jurisdiction", "rules", "drugs"}
    words = ("override", "clear", "skip", "ignore", "waive", "force", "allow", "exempt")
    names = [*params, *Answers.model_fields, *SuicidalIdeation.model_fields, *Medication.model_fields]
    assert not [name for name in names if any(word in name for word in words)]


@pytest.mark.parametrize(
    "text",
    [
        '{"age": 35, "override": true}',
        '{"age": 35, "cleared": ["D1"]}',
        '{"age": 35, "suicidal_ideation": {"intent": true, "cleared": true}}',
        '{"age": 35, "medications": [{"name": "lithium", "exempt": true}]}',
    ],
)
def test_it_rejects_extra_keys_that_might_try_to_clear_a_reason(text):
    with pytest.raises(ScreeningInputError, match="Extra inputs are not permitted"):
        parse_answers(text)


def test_it_cannot_change_answers_or_a_result_after_screening():
    answers = answers_for("psilocybin", {"age": 19})
    result = screen(answers, substance="psilocybin", jurisdiction=OR)
    with pytest.raises(ValidationError):
        answers.age = 30  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.outcome = "eligible"  # type: ignore[misc]
    assert result.outcome == "excluded"


# --- the documentation follows the data -------------------------------------------------------------


def test_it_documents_every_condition_class_and_rule_as_generated_from_the_data():
    from tests import screening_docs

    text = screening_docs.DOC.read_text(encoding="utf-8")
    found = screening_docs.sections(text)
    assert set(found) == {"conditions", "classes", "rules"}
    for name, table in found.items():
        assert table == screening_docs.expected(name), f"run: uv run python -m tests.screening_docs ({name})"
    for code in [c.code for c in default_rules().conditions] + [c.code for c in default_drugs().classes]:
        assert f"| `{code}` |" in text
    for rule_id in RULES:
        assert f"\n| {rule_id} | {RULES[rule_id].title} |" in text


def test_it_shows_the_real_output_of_the_documented_example():
    from tests import screening_docs

    text = screening_docs.DOC.read_text(encoding="utf-8")
    shown = json.loads(text.split("the JSON output (formatted here) is:\n\n```json\n")[1].split("```")[0])
    issue = {
        "age": 34,
        "conditions": ["bipolar_i"],
        "family_history": ["schizophrenia"],
        "medications": ["lithium carbonate", "Zoloft"],
        "phq9_item9": 0,
    }
    result = screen(Answers.model_validate(issue), substance="psilocybin", jurisdiction=OR)
    assert shown == result.as_dict()
    assert json.dumps(issue) in text
