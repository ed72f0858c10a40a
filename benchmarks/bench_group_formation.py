"""Form circles for synthetic retreats with CP-SAT and check the result independently.

    uv run python benchmarks/bench_group_formation.py [--time-limit S] [--workers N] [--seed N]
        [--problem-seed N] [--only big|small|conflicting]

Two problems, generated with a fixed seed: 600 applicants / 40 circles / 60 facilitators and
60 applicants / 5 circles. Applicants mostly speak English, about 15% Spanish (a third of those
Spanish only), a few Portuguese, French or Farsi; about 8% need medical oversight; about 10% are
veterans and 12% LGBTQ+ (each with affinity circles); gender and age band are recorded; some ask to
be together (couples, friends) or never together; everyone gives their available evenings.

Prints a table and then JSON: status, objective, proven bound, gap, wall time, whether every hard
constraint holds (checked here, not by the module's own report) and the greedy baseline's objective
against CP-SAT's as a ratio (greedy / CP-SAT, when CP-SAT's is above zero; a greedy that breaks a
hard rule has no objective). A third problem, "conflicting", balances gender as well as keeping
nonbinary applicants from being isolated, two rules that cannot both be met: its optimum is above
zero, so the bound has to be proven rather than read off.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter

from communitas.community.formation import evaluate, form_groups, greedy, parse_problem

SLOTS = ["mon-eve", "tue-eve", "wed-eve", "thu-eve", "sat-am"]
AGE_BANDS = [("18-29", 18), ("30-39", 27), ("40-49", 24), ("50-64", 22), ("65+", 9)]
VETERAN_AGE_BANDS = [("18-29", 5), ("30-39", 15), ("40-49", 20), ("50-64", 35), ("65+", 25)]
GENDERS = [("woman", 52), ("man", 42), ("nonbinary", 6)]
RULES = {
    "facilitators_per_circle": 1,
    "no_isolation": ["gender"],
    "balance": ["age_band"],
    "weights": {"together": 10, "no_isolation": 5, "balance": 1, "schedule": 2},
}


def _pick(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]


def _languages(rng: random.Random) -> list[str]:
    roll = rng.random()
    if roll < 0.05:
        return ["es"]
    if roll < 0.15:
        return ["es", "en"]
    if roll < 0.17:
        return [rng.choice(["pt", "fr", "fa"]), "en"]
    if roll < 0.18:
        return ["pt"]
    return ["en"]


def _facilitators(rng: random.Random, count: int) -> list[dict]:
    found = []
    for i in range(count):
        languages = ["en"] + (["es"] if rng.random() < 0.25 else [])
        languages += [lang for lang, share in (("pt", 0.05), ("fr", 0.05), ("fa", 0.04)) if rng.random() < share]
        found.append({"id": f"f{i + 1}", "languages": languages, "medical": rng.random() < 0.2, "max_circles": 1})
    found[0]["languages"] = ["en", "es", "pt"]  # someone covers each language, and Spanish medical care exists
    found[1].update(languages=["en", "es"], medical=True)
    found[2]["languages"] = ["en", "fa", "fr"]
    return found


def _applicants(rng: random.Random, count: int) -> list[dict]:
    people = []
    for i in range(count):
        affinity = [tag for tag, share in (("veteran", 0.10), ("lgbtq", 0.12)) if rng.random() < share]
        people.append(
            {
                "id": f"p{i + 1}",
                "languages": _languages(rng),
                "needs_medical": rng.random() < 0.08,
                "affinity": affinity,
                "attributes": {
                    "gender": _pick(rng, GENDERS),
                    "age_band": _pick(rng, VETERAN_AGE_BANDS if "veteran" in affinity else AGE_BANDS),
                },
                "availability": sorted(rng.sample(SLOTS, rng.randint(2, 5))),
                "together": [],
                "never": [],
            }
        )
    ids = list(range(count))
    rng.shuffle(ids)
    pairs = count // 20
    for a, b in zip(ids[: 2 * pairs : 2], ids[1 : 2 * pairs : 2], strict=True):
        people[a]["together"].append(people[b]["id"])  # couples and friends (asked by one of them)
        people[b]["availability"] = people[a]["availability"]  # they come on the same evenings
        people[b]["affinity"] = people[a]["affinity"]
    for a, b in zip(ids[2 * pairs : 3 * pairs], ids[3 * pairs : 4 * pairs], strict=True):
        people[a]["never"].append(people[b]["id"])  # exes, a boss and an employee
    return people


def _circles(count: int, affinity_circles: dict[str, int], min_size: int, max_size: int) -> list[dict]:
    circles, tags = [], [tag for tag, n in affinity_circles.items() for _ in range(n)]
    for i in range(count):
        circle = {"id": f"c{i + 1}", "min_size": min_size, "max_size": max_size, "slots": [SLOTS[i % len(SLOTS)]]}
        circle["affinity"] = tags[i] if i < len(tags) else None
        circles.append(circle)
    return circles


def problem(applicants: int, circles: int, facilitators: int, *, seed: int = 2026, conflicting: bool = False) -> dict:
    """``conflicting``: gender is balanced as well as never isolated, so the 6% nonbinary applicants
    (a share under one per circle) cannot be both: the optimum is above zero and must be proven."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design
    average = applicants // circles
    affinity = {"veteran": 3, "lgbtq": 2} if circles >= 20 else {}
    return {
        "circles": _circles(circles, affinity, average - 3, average + 3),
        "facilitators": _facilitators(rng, facilitators),
        "applicants": _applicants(rng, applicants),
        "rules": {**RULES, "balance": ["age_band", "gender"]} if conflicting else RULES,
    }


def check(data: dict, assignments: dict[str, str], leads: dict[str, list[str]]) -> list[str]:
    """Every hard rule, recomputed from the raw input."""
    circles = {c["id"]: c for c in data["circles"]}
    facilitators = {f["id"]: f for f in data["facilitators"]}
    members: dict[str, list[dict]] = {cid: [] for cid in circles}
    broken = []
    for person in data["applicants"]:
        cid = assignments.get(person["id"])
        if cid is None:
            broken.append(f"{person['id']} unplaced")
            continue
        members[cid].append(person)
        circle, team = circles[cid], [facilitators[f] for f in leads.get(cid, [])]
        if circle.get("affinity") and circle["affinity"] not in person["affinity"]:
            broken.append(f"{person['id']} affinity")
        if not any(set(person["languages"]) & set(f["languages"]) for f in team):
            broken.append(f"{person['id']} language")
        if person["needs_medical"] and not any(f["medical"] for f in team):
            broken.append(f"{person['id']} medical")
        broken += [f"{person['id']} never {o}" for o in person["never"] if assignments.get(o) == cid]
    for cid, circle in circles.items():
        if not circle["min_size"] <= len(members[cid]) <= circle["max_size"]:
            broken.append(f"{cid} size {len(members[cid])}")
        if len(leads.get(cid, [])) != data["rules"]["facilitators_per_circle"]:
            broken.append(f"{cid} facilitators")
    load = Counter(f for fs in leads.values() for f in fs)
    broken += [f"{f} overloaded" for f, n in load.items() if n > facilitators[f]["max_circles"]]
    return broken


def run(name: str, data: dict, *, time_limit: float, workers: int, seed: int) -> dict:
    parsed = parse_problem(data)
    baseline_assignments, baseline_leads = greedy(parsed)
    baseline_broken = check(data, baseline_assignments, {c: list(fs) for c, fs in baseline_leads.items()})
    baseline = sum(r.penalty for r in evaluate(parsed, baseline_assignments, baseline_leads) if r.kind == "soft")
    polished = sum(r.penalty for r in evaluate(parsed, *greedy(parsed, polish=60_000)) if r.kind == "soft")
    result = form_groups(parsed, time_limit_s=time_limit, workers=workers, seed=seed)
    broken = check(data, dict(result.assignments), {c: list(fs) for c, fs in result.facilitators.items()})
    report = {
        "problem": name,
        "applicants": len(data["applicants"]),
        "circles": len(data["circles"]),
        "facilitators": len(data["facilitators"]),
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": None if result.gap is None else round(result.gap, 4),
        "wall_time_s": round(result.wall_time_s, 2),
        "hard_constraints_ok": result.status in ("optimal", "feasible") and not broken,
        "greedy_objective": None if baseline_broken else baseline,
        "greedy_hard_violations": len(baseline_broken),
        "greedy_with_local_search_objective": None if baseline_broken else polished,
        "greedy_to_cpsat_ratio": None,
        "penalties": {r.rule: r.penalty for r in result.rule_report if r.kind == "soft"},
    }
    if not baseline_broken and result.objective:
        report["greedy_to_cpsat_ratio"] = round(baseline / result.objective, 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per problem (default 120)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the solver's random seed")
    parser.add_argument("--problem-seed", type=int, default=2026, help="the generator's seed")
    parser.add_argument("--only", choices=["big", "small", "conflicting"])
    args = parser.parse_args()
    cases = {
        "big": ("600/40/60", problem(600, 40, 60, seed=args.problem_seed)),
        "small": ("60/5", problem(60, 5, 8, seed=args.problem_seed)),
        "conflicting": ("600/40/60 conflicting", problem(600, 40, 60, seed=args.problem_seed, conflicting=True)),
    }
    reports = [
        run(name, data, time_limit=args.time_limit, workers=args.workers, seed=args.seed)
        for key, (name, data) in cases.items()
        if args.only in (None, key)
    ]
    header = ("problem", "status", "objective", "bound", "gap", "time s", "hard ok", "greedy")
    print("{:<22} {:<9} {:>9} {:>6} {:>7} {:>7} {:>7} {:>7}".format(*header))
    for r in reports:
        print(
            f"{r['problem']:<22} {r['status']:<9} {r['objective']!s:>9} {r['bound']!s:>6} {r['gap']!s:>7} "
            f"{r['wall_time_s']:>7} {r['hard_constraints_ok']!s:>7} {r['greedy_objective']!s:>7}"
        )
    print(json.dumps(reports, indent=2))


if __name__ == "__main__":
    main()
