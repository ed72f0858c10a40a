"""Forming circles (communitas.community.formation): every hard rule holds, as checked here from the
raw input rather than by the module's own report; each soft rule moves the answer; locks bind;
impossible inputs name the clash; malformed inputs are refused. Pure: no database."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from importlib import resources

import pytest

from communitas.community.formation import (
    FormationInputError,
    evaluate,
    form_groups,
    parse_problem,
)

FAST = {"time_limit_s": 20.0, "workers": 1, "seed": 0}


def person(pid: str, **fields) -> dict:
    return {"id": pid, "languages": ["en"], **fields}


def problem(applicants: list[dict], circles: int = 2, size: tuple[int, int] = (2, 6), **extra) -> dict:
    data = {
        "circles": [{"id": f"c{i + 1}", "min_size": size[0], "max_size": size[1]} for i in range(circles)],
        "facilitators": [{"id": f"f{i + 1}", "languages": ["en"]} for i in range(circles)],
        "applicants": applicants,
        "rules": {"facilitators_per_circle": 1},
    }
    data.update(extra)
    return data


def people(n: int, prefix: str = "p", **fields) -> list[dict]:
    return [person(f"{prefix}{i + 1}", **fields) for i in range(n)]


def broken_rules(data: dict, result) -> list[str]:
    """Every hard rule, recomputed from the raw input (not from result.rule_report)."""
    rules = data.get("rules", {})
    circles = {c["id"]: c for c in data["circles"]}
    facilitators = {f["id"]: f for f in data.get("facilitators", [])}
    locks = {**{a["id"]: a["lock"] for a in data["applicants"] if a.get("lock")}, **data.get("locks", {})}
    members: dict[str, list[str]] = {cid: [] for cid in circles}
    broken = []
    for a in data["applicants"]:
        cid = result.assignments.get(a["id"])
        if cid is None:
            broken += [] if rules.get("allow_unassigned") else [f"{a['id']} unplaced"]
            continue
        members[cid].append(a["id"])
        team = [facilitators[f] for f in result.facilitators[cid]]
        if a.get("languages") and not any(set(a["languages"]) & set(f.get("languages", [])) for f in team):
            broken.append(f"{a['id']} language")
        if a.get("needs_medical") and not any(f.get("medical") for f in team):
            broken.append(f"{a['id']} medical")
        if circles[cid].get("affinity") and circles[cid]["affinity"] not in a.get("affinity", []):
            broken.append(f"{a['id']} affinity")
        broken += [f"{a['id']} never {o}" for o in a.get("never", []) if result.assignments.get(o) == cid]
    for cid, circle in circles.items():
        n, leads = len(members[cid]), len(result.facilitators[cid])
        empty_ok = rules.get("allow_empty_circles") and n == 0
        if not (empty_ok or circle.get("min_size", 0) <= n <= circle["max_size"]):
            broken.append(f"{cid} size {n}")
        low = circle.get("min_facilitators", rules.get("facilitators_per_circle", 1))
        high = circle.get("max_facilitators", max(low, rules.get("facilitators_per_circle", 1)))
        if not (empty_ok and leads == 0) and not low <= leads <= high:
            broken.append(f"{cid} has {leads} facilitators")
    load = Counter(f for fs in result.facilitators.values() for f in fs)
    broken += [f"{f} overloaded" for f, n in load.items() if n > facilitators[f].get("max_circles", 1)]
    broken += [f"{a} not in {c}" for a, c in locks.items() if result.assignments.get(a) != c]
    for fid, cids in data.get("facilitator_locks", {}).items():
        broken += [f"{fid} not leading {c}" for c in ([cids] if isinstance(cids, str) else cids)
                   if fid not in result.facilitators[c]]  # fmt: skip
    return broken


def solve(data: dict, **options):
    result = form_groups(data, **{**FAST, **options})
    assert result.status == "optimal", (result.status, [c.message for c in result.conflicts])
    assert broken_rules(data, result) == []
    return result


def together(result, a: str, b: str) -> bool:
    return result.assignments[a] == result.assignments[b]


def example() -> dict:
    text = (resources.files("communitas.community") / "data" / "example_problem.json").read_text(encoding="utf-8")
    return json.loads(text)


# ---------------------------------------------------------------- hard rules


def test_it_forms_the_example_retreat_within_every_hard_rule():
    data = example()
    result = solve(data)
    assert set(result.assignments) == {a["id"] for a in data["applicants"]}
    assert result.objective == result.bound and result.gap == 0
    assert result.assignments["quinn"] == "thursday-circle"  # locked in the input
    assert result.facilitators["veterans-circle"] == ("dev",)  # facilitator lock


def test_it_keeps_circles_within_their_size_bounds():
    friends = [person(f"p{i}", together=[f"p{i + 1}"]) for i in range(1, 8)] + [person("p8")]
    result = solve(problem(friends, size=(3, 5), rules={"weights": {"together": 10}}))
    assert all(3 <= n <= 5 for n in Counter(result.assignments.values()).values())
    assert result.objective == 10  # the chain of seven friends breaks once


def test_it_puts_each_applicant_with_a_facilitator_who_speaks_one_of_their_languages():
    data = problem([person("ana", languages=["es"]), person("bo", languages=["fa", "es"]), *people(4)])
    data["facilitators"] = [{"id": "f1", "languages": ["en"]}, {"id": "f2", "languages": ["es", "en"]}]
    result = solve(data)
    assert result.assignments["ana"] == result.assignments["bo"]
    assert result.facilitators[result.assignments["ana"]] == ("f2",)
    assert "language: facilitator f2 speaks 'es'" in result.explanations["ana"]


def test_it_puts_whoever_needs_medical_oversight_with_a_medical_facilitator():
    data = problem([person("gus", needs_medical=True), person("tara", needs_medical=True), *people(6)])
    data["facilitators"].append({"id": "doc", "languages": ["en"], "medical": True})
    result = solve(data)
    circle = result.assignments["gus"]
    assert result.assignments["tara"] == circle and "doc" in result.facilitators[circle]
    assert "medical oversight: doc is a medical facilitator" in result.explanations["gus"]


def test_it_never_puts_a_never_pair_together_even_when_friends_pull_them_in():
    others = [person(f"q{i}") for i in range(3)]
    chain = [person("p1", together=["p2"]), person("p2", together=["p3"]), person("p3", never=["p1"]), *others]
    result = solve(problem(chain, rules={"weights": {"together": 10}}))  # "never" on one side only is enough
    assert not together(result, "p1", "p3")


def test_it_admits_only_listed_applicants_to_an_affinity_circle():
    veterans = [person(f"v{i}", affinity=["veteran"]) for i in range(3)]
    data = problem([*veterans, *people(5)], circles=3)
    data["circles"][2]["affinity"] = "veteran"
    data["circles"][2]["slots"] = ["sat-am"]
    for a in data["applicants"]:
        a["availability"] = ["sat-am"]  # everyone would rather come on Saturday
    data["circles"][0]["slots"] = data["circles"][1]["slots"] = ["tue-eve"]
    result = solve(data)
    assert {a for a, c in result.assignments.items() if c == "c3"} <= {"v0", "v1", "v2"}
    assert any(r.startswith("affinity circle 'veteran'") for r in result.explanations["v0"])


def test_it_gives_each_circle_its_facilitators_and_no_facilitator_too_many_circles():
    data = problem(people(9), circles=3, rules={"facilitators_per_circle": 2})
    data["facilitators"] = [
        {"id": "f1", "languages": ["en"], "max_circles": 2},
        {"id": "f2", "languages": ["en"], "max_circles": 2},
        {"id": "f3", "languages": ["en"], "max_circles": 2},
    ]
    result = solve(data)
    assert all(len(leads) == 2 for leads in result.facilitators.values())


def test_it_honours_per_circle_facilitator_bounds():
    data = problem(people(6), circles=2)
    data["circles"][0].update(min_facilitators=2, max_facilitators=3)
    data["facilitators"].append({"id": "f3", "languages": ["en"]})
    result = solve(data)
    assert len(result.facilitators["c1"]) >= 2 and len(result.facilitators["c2"]) == 1


# ---------------------------------------------------------------- soft rules move the answer


def _split_by_schedule(weight: int) -> dict:
    """p1 and p2 want to be together, but p2 can only come on Thursdays."""
    data = problem([person("p1", together=["p2"], availability=["tue-eve"]),
                    person("p2", availability=["thu-eve"]), *people(4, "q")])  # fmt: skip
    data["circles"][0]["slots"], data["circles"][1]["slots"] = ["tue-eve"], ["thu-eve"]
    data["rules"]["weights"] = {"together": weight, "schedule": 2}
    return data


def test_together_requests_pull_people_into_one_circle_when_weighted():
    assert together(solve(_split_by_schedule(10)), "p1", "p2")
    apart = solve(_split_by_schedule(0))
    assert not together(apart, "p1", "p2") and apart.objective == 0


def test_a_split_pair_is_reported_with_its_penalty():
    result = solve(_split_by_schedule(1))
    outcome = next(r for r in result.rule_report if r.rule == "together")
    assert (outcome.met, outcome.total, outcome.penalty) == (0, 1, 1)
    assert outcome.details == ("p1 and p2 are apart (c1/c2)",)
    assert "apart from p2 (requested together; p2 is in c2)" in result.explanations["p1"]


def _two_nonbinary(isolation_weight: int) -> dict:
    applicants = [person(f"p{i}", attributes={"gender": g}) for i, g in enumerate(["nonbinary"] * 2 + ["woman"] * 6)]
    applicants[0]["availability"], applicants[1]["availability"] = ["tue-eve"], ["thu-eve"]
    data = problem(applicants, size=(4, 4), rules={"no_isolation": ["gender"]})
    data["circles"][0]["slots"], data["circles"][1]["slots"] = ["tue-eve"], ["thu-eve"]
    data["rules"]["weights"] = {"no_isolation": isolation_weight, "schedule": 2}
    return data


def test_no_isolation_keeps_a_minority_member_from_being_alone():
    result = solve(_two_nonbinary(5))
    assert together(result, "p0", "p1") and result.objective == 2  # one missed evening beats isolation
    alone = solve(_two_nonbinary(0))
    assert not together(alone, "p0", "p1") and alone.objective == 0


def test_isolation_of_the_only_holder_of_a_value_is_reported_but_not_penalised():
    data = problem([person("p0", attributes={"gender": "nonbinary"}), *people(5)], rules={"no_isolation": ["gender"]})
    outcome = next(r for r in solve(data).rule_report if r.rule == "no_isolation")
    assert outcome.penalty == 0 and "unavoidable" in outcome.details[0]


def _ages(balance_weight: int) -> dict:
    bands = ["18-29"] * 4 + ["65+"] * 4
    applicants = [person(f"p{i}", attributes={"age_band": b}) for i, b in enumerate(bands)]
    for a in applicants:  # the young prefer Tuesday, the old Thursday
        a["availability"] = ["tue-eve"] if a["attributes"]["age_band"] == "18-29" else ["thu-eve"]
    data = problem(applicants, size=(4, 4), rules={"balance": ["age_band"]})
    data["circles"][0]["slots"], data["circles"][1]["slots"] = ["tue-eve"], ["thu-eve"]
    data["rules"]["weights"] = {"balance": balance_weight, "schedule": 1}
    return data


def test_balance_spreads_each_value_in_proportion():
    result = solve(_ages(5))
    by_circle = Counter((c, _band(a)) for a, c in result.assignments.items())
    assert all(by_circle[(c, b)] == 2 for c in ("c1", "c2") for b in ("18-29", "65+"))
    clustered = solve(_ages(0))
    assert clustered.objective == 0 and clustered.assignments["p0"] != clustered.assignments["p7"]


def _band(pid: str) -> str:
    return "18-29" if int(pid[1:]) < 4 else "65+"


def test_balance_targets_floor_and_ceiling_so_a_perfect_split_costs_nothing():
    applicants = [person(f"p{i}", attributes={"age_band": "65+" if i < 3 else "30-39"}) for i in range(8)]
    result = solve(problem(applicants, size=(4, 4), rules={"balance": ["age_band"]}))
    assert result.objective == 0  # 3 over two circles of 4: 1.5 each, so 1 and 2 are both on target
    outcome = next(r for r in result.rule_report if r.rule == "balance")
    assert outcome.met == outcome.total == 4


def test_schedule_puts_people_in_circles_they_can_attend():
    data = problem([person("p1", availability=["thu-eve"]), *people(5, "q", availability=["tue-eve", "thu-eve"])])
    data["circles"][0]["slots"], data["circles"][1]["slots"] = ["tue-eve"], ["thu-eve"]
    result = solve(data)
    assert result.assignments["p1"] == "c2" and "schedule: available for thu-eve" in result.explanations["p1"]


def test_the_rule_report_penalties_add_up_to_the_objective():
    data = example()
    result = solve(data)
    assert sum(r.penalty for r in result.rule_report if r.kind == "soft") == result.objective
    hard = [r for r in result.rule_report if r.kind == "hard"]
    assert {r.rule for r in hard} >= {"placement", "circle_size", "language", "medical", "never", "affinity", "locks"}
    assert all(r.met == r.total for r in hard)


# ---------------------------------------------------------------- locks and re-runs


def test_it_honours_locks_from_both_places_in_the_input():
    data = problem([person("p1", lock="c2"), *people(5)[1:]], locks={"p2": "c2"})
    result = solve(data)
    assert result.assignments["p1"] == result.assignments["p2"] == "c2"
    assert "locked to c2 by the coordinator" in result.explanations["p1"]


def test_a_re_run_keeps_what_the_coordinator_locked():
    data = example()
    first = solve(data)
    keep = {a: first.assignments[a] for a in ("amira", "carmen", "gus")}
    keep["bo"] = "thursday-circle" if first.assignments["bo"] != "thursday-circle" else "tuesday-circle"
    again = parse_problem(data).with_locks(keep, {"ana": [first.assignments["carmen"]]})
    second = form_groups(again, **FAST, hint=first.assignments, hint_facilitators=first.facilitators)
    assert second.status == "optimal"
    assert all(second.assignments[a] == c for a, c in keep.items())
    assert "ana" in second.facilitators[first.assignments["carmen"]]
    assert second.objective >= first.objective


def test_with_locks_refuses_unknown_ids():
    with pytest.raises(FormationInputError, match="unknown circle 'c9'"):
        parse_problem(problem(people(4))).with_locks({"p1": "c9"})


def test_it_is_reproducible_with_one_worker_and_a_seed():
    data = example()
    assert form_groups(data, **FAST).assignments == form_groups(data, **FAST).assignments


# ---------------------------------------------------------------- optional rules


def test_unassigned_applicants_are_reported_when_allowed():
    data = problem([person("p1", languages=["fa"]), *people(6)[1:]], rules={"allow_unassigned": True})
    result = solve(data)
    assert result.unassigned == ("p1",) and result.objective == 1000
    assert result.explanations["p1"] == ("not placed: no facilitator speaks 'fa'",)
    assert next(r for r in result.rule_report if r.rule == "unassigned").penalty == 1000


def test_empty_circles_may_stay_closed_when_allowed():
    data = problem(people(7), circles=3, size=(3, 4), rules={"allow_empty_circles": True})
    data["facilitators"] = data["facilitators"][:2]
    result = solve(data)
    sizes = Counter(result.assignments.values())
    assert len(sizes) == 2 and all(len(result.facilitators[c]) == 1 for c in sizes)


# ---------------------------------------------------------------- impossible inputs name the clash


def _messages(data: dict) -> list[str]:
    result = form_groups(data, **FAST)
    assert result.status == "infeasible" and result.assignments == {}
    return [c.message for c in result.conflicts]


def test_a_language_nobody_speaks_names_the_applicant_and_the_language():
    assert _messages(problem([person("p7", languages=["fa"]), *people(5)])) == [
        "p7 speaks only 'fa' and no facilitator speaks it"
    ]


INFEASIBLE = [
    ("sizes", problem(people(3)), "total min_size 4 exceeds 3 applicants"),
    ("room", problem(people(13)), "total max_size 12 is less than the 13 applicants"),
    ("medical", problem([person("p1", needs_medical=True), *people(5)[1:]]),
     "1 applicant needs medical oversight but no facilitator is medical"),
    ("never locks", problem([person("p1", lock="c1", never=["p2"]), person("p2", lock="c1"), *people(4)[2:]]),
     "locks put p1 and p2 (never together) in c1"),
    ("facilitators", problem(people(6), circles=3, facilitators=[{"id": "f1", "languages": ["en"]}]),
     "3 circles need 3 facilitators but 1 facilitator can lead at most 1 circle"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), [case[1:] for case in INFEASIBLE], ids=[c[0] for c in INFEASIBLE])
def test_a_cheap_check_names_an_impossible_input(data, message):
    assert any(m.startswith(message) for m in _messages(data)), _messages(data)


def test_an_affinity_circle_without_enough_members_is_named():
    data = problem([person("v1", affinity=["veteran"]), *people(7)], size=(3, 6))
    data["circles"][0]["affinity"] = "veteran"
    assert _messages(data) == ["circle c1 requires affinity 'veteran' but only 1 applicant lists it and min_size is 3"]


def test_a_deeper_clash_is_found_with_assumptions_and_named():
    trio = [person("p1", never=["p2", "p3"]), person("p2", never=["p3"]), person("p3")]
    result = form_groups(problem(trio, size=(1, 3)), **FAST)
    assert result.status == "infeasible"
    (clash,) = result.conflicts
    assert clash.rule == "combination" and set(clash.subjects) == {"p1", "p2", "p3"}
    assert [part.rule for part in clash.parts] == ["placement", "never"]
    assert "p1 and p2 must never share a circle" in clash.message


def test_a_clash_over_a_scarce_facilitator_names_the_rules_involved():
    spanish = [person(f"s{i}", languages=["es"]) for i in range(4)]
    medical = [person(f"m{i}", needs_medical=True) for i in range(3)]
    data = problem([*spanish, *medical, *people(5)])
    data["facilitators"] = [
        {"id": "f1", "languages": ["en"]},
        {"id": "ana", "languages": ["es", "en"], "medical": True},
    ]
    (clash,) = form_groups(data, **FAST).conflicts
    assert {part.rule for part in clash.parts} >= {"language", "medical", "max_size"}
    assert "s0, s1, s2 and s3 need a facilitator speaking 'es'" in clash.message


# ---------------------------------------------------------------- malformed input


def _mutated(change) -> dict:
    data = problem(people(6), rules={"weights": {"together": 10}})
    change(data)
    return data


MALFORMED = [
    ("circles not a list", lambda d: d.update(circles=5), "circles: expected a list"),
    ("not an object", lambda d: d["applicants"].__setitem__(0, "p1"), "applicants[0]: expected an object"),
    ("missing id", lambda d: d["applicants"][0].pop("id"), "applicants[0].id"),
    ("duplicate applicant", lambda d: d["applicants"][1].update(id="p1"), "duplicate applicant id 'p1'"),
    ("duplicate circle", lambda d: d["circles"][1].update(id="c1"), "duplicate circle id 'c1'"),
    ("unknown together", lambda d: d["applicants"][0].update(together=["p99"]), "unknown applicant 'p99'"),
    ("self never", lambda d: d["applicants"][0].update(never=["p1"]), "lists themselves"),
    ("unknown lock circle", lambda d: d.update(locks={"p1": "c9"}), "unknown circle 'c9'"),
    ("unknown lock person", lambda d: d.update(locks={"p99": "c1"}), "unknown applicant 'p99'"),
    ("unknown facilitator lock", lambda d: d.update(facilitator_locks={"f9": "c1"}), "unknown facilitator 'f9'"),
    ("two locks", lambda d: d["applicants"][0].update(lock="c1") or d.update(locks={"p1": "c2"}), "locked to"),
    ("negative size", lambda d: d["circles"][0].update(min_size=-1), "below 0"),
    ("min over max", lambda d: d["circles"][0].update(min_size=7), "min_size 7 exceeds max_size 6"),
    ("no max", lambda d: d["circles"][0].pop("max_size"), "max_size is required"),
    ("text size", lambda d: d["circles"][0].update(max_size="6"), "expected a whole number"),
    ("bool size", lambda d: d["circles"][0].update(max_size=True), "expected a whole number"),
    ("languages string", lambda d: d["applicants"][0].update(languages="en"), "expected a list"),
    ("medical string", lambda d: d["applicants"][0].update(needs_medical="yes"), "expected true or false"),
    ("attribute list", lambda d: d["applicants"][0].update(attributes={"gender": ["w"]}), "expected a string"),
    ("unknown weight", lambda d: d["rules"]["weights"].update(togetherness=3), "unknown weight 'togetherness'"),
    ("negative weight", lambda d: d["rules"]["weights"].update(balance=-1), "below 0"),
    ("no circles", lambda d: d.update(circles=[]), "at least one circle"),
    ("missing applicants", lambda d: d.pop("applicants"), "'applicants' is required"),
]


@pytest.mark.parametrize(("change", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_input_is_refused_with_a_clear_message(change, message):
    with pytest.raises(FormationInputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        form_groups(_mutated(change), **FAST)


def test_text_that_is_not_json_is_refused():
    with pytest.raises(FormationInputError, match="not JSON"):
        parse_problem("{circles: ")


def test_extra_fields_are_ignored():
    data = problem(people(4))
    data["venue"] = "the lodge"
    data["applicants"][0]["pronouns"] = "she/her"
    assert form_groups(data, **FAST).status == "optimal"


def test_evaluate_reports_a_hand_made_assignment_and_refuses_unknown_ids():
    data = problem([person("p1", never=["p2"]), *people(4)[1:]])
    outcomes = {r.rule: r for r in evaluate(parse_problem(data), {a["id"]: "c1" for a in data["applicants"]},
                                            {"c1": ["f1"], "c2": ["f2"]})}  # fmt: skip
    assert outcomes["never"].met == 0 and outcomes["circle_size"].details == ("c2 has 0 (min 2, max 6)",)
    with pytest.raises(FormationInputError, match="unknown circle 'c7'"):
        evaluate(parse_problem(data), {"p1": "c7"}, {})


# ---------------------------------------------------------------- proven optimal


def retreat(applicants: int, circles: int, facilitators: int, seed: int = 7) -> dict:
    """A realistic small retreat: mostly English, some Spanish, a few needing medical oversight."""
    rng = random.Random(seed)
    slots = ["tue-eve", "thu-eve", "sat-am"]
    people_ = []
    for i in range(applicants):
        roll = rng.random()
        languages = ["es"] if roll < 0.05 else ["es", "en"] if roll < 0.15 else ["en"]
        people_.append(person(f"p{i}", languages=languages, needs_medical=rng.random() < 0.08,
                              attributes={"gender": rng.choice(["woman"] * 5 + ["man"] * 4 + ["nonbinary"]),
                                          "age_band": rng.choice(["18-29", "30-39", "40-49", "50-64", "65+"])},
                              availability=sorted(rng.sample(slots, rng.randint(1, 3)))))  # fmt: skip
    for i in range(0, applicants // 10 * 2, 2):
        people_[i]["together"] = [people_[i + 1]["id"]]
    people_[-1]["never"] = [people_[-2]["id"]]
    size = applicants // circles
    data = problem(people_, circles=circles, size=(size - 3, size + 3))
    for i, circle in enumerate(data["circles"]):
        circle["slots"] = [slots[i % 3]]
    data["facilitators"] = [{"id": f"f{i}", "languages": ["en", "es"] if i % 3 == 0 else ["en"],
                             "medical": i % 4 == 1 or i == 0} for i in range(facilitators)]  # fmt: skip
    data["rules"] = {"facilitators_per_circle": 1, "no_isolation": ["gender"], "balance": ["age_band"],
                     "weights": {"together": 10, "no_isolation": 5, "balance": 1, "schedule": 2}}  # fmt: skip
    return data


def test_a_60_person_retreat_in_5_circles_is_solved_to_proven_optimality():
    data = retreat(60, 5, 8)
    result = solve(data, time_limit_s=20.0)
    assert result.status == "optimal" and result.bound == result.objective
    assert result.wall_time_s < 20


def test_balance_and_isolation_on_one_attribute_still_prove_their_optimum():
    """Balancing gender while keeping nonbinary members from being alone: the two rules clash, the
    optimum is above zero, and the bound must be proven (the joint lower bound does it)."""
    data = retreat(60, 5, 8)
    data["rules"]["balance"] = ["age_band", "gender"]
    result = solve(data, time_limit_s=20.0)
    assert result.objective > 0 and result.bound == result.objective


def test_the_input_is_not_modified():
    data = example()
    before = copy.deepcopy(data)
    form_groups(data, **FAST)
    assert data == before
