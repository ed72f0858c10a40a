"""How an assignment meets every rule (``evaluate``, the rule report) and why each applicant is where."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from communitas.community.formation.index import MEDICAL, _Ix, _need_text, _qualifies, _quote
from communitas.community.formation.results import RuleOutcome
from communitas.community.formation.schema import Problem, _known

# ---------------------------------------------------------------- evaluation: the rule report


def evaluate(
    problem: Problem, assignments: Mapping[str, str], facilitators: Mapping[str, Sequence[str]]
) -> tuple[RuleOutcome, ...]:
    """How well an assignment meets every rule; the soft penalties sum to the solver's objective."""
    ix = _Ix(problem)
    for aid, cid in assignments.items():
        _known(aid, set(ix.a_of), "assignments", "applicant")
        _known(cid, set(ix.c_of), f"assignments.{aid}", "circle")
    for cid, fids in facilitators.items():
        _known(cid, set(ix.c_of), "facilitators", "circle")
        for fid in fids:
            _known(fid, set(ix.f_of), f"facilitators.{cid}", "facilitator")
    where = {ix.a_of[a]: ix.c_of[c] for a, c in assignments.items()}
    leads = {ix.c_of[c]: [ix.f_of[f] for f in fs] for c, fs in facilitators.items()}
    return _report(ix, where, leads)


def _report(ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]]) -> tuple[RuleOutcome, ...]:
    members: list[list[int]] = [[] for _ in ix.C]
    for a, c in sorted(where.items()):
        members[c].append(a)
    hard = [_placement(ix, where), _sizes(ix, members), _affinity_report(ix, where)]
    hard += [_need_report(ix, where, leads, kind) for kind in ("language", "medical")]
    hard += [
        _never_report(ix, where),
        _facilitator_report(ix, members, leads),
        _capacity_report(ix, leads),
        _lock_report(ix, where, leads),
    ]
    soft = [
        _together_report(ix, where),
        _isolation_report(ix, members),
        _balance_report(ix, members),
        _schedule_report(ix, where),
    ]
    if ix.rules.allow_unassigned:
        unplaced = [ix.A[a].id for a in range(len(ix.A)) if a not in where]
        soft.append(
            _soft(
                ix,
                "unassigned",
                len(ix.A) - len(unplaced),
                len(ix.A),
                len(unplaced),
                [f"{a} is not placed" for a in unplaced],
            )
        )
    return tuple(hard + soft)


def _hard(rule: str, met: int, total: int, details: list[str]) -> RuleOutcome:
    return RuleOutcome(rule, "hard", met, total, details=tuple(details))


def _soft(ix: _Ix, rule: str, met: int, total: int, units: int, details: list[str]) -> RuleOutcome:
    weight = ix.weights[rule]
    return RuleOutcome(rule, "soft", met, total, weight=weight, penalty=weight * units, details=tuple(details))


def _placement(ix: _Ix, where: Mapping[int, int]) -> RuleOutcome:
    missing = [f"{ix.A[a].id} is not placed" for a in range(len(ix.A)) if a not in where]
    rule = _hard("placement", len(ix.A) - len(missing), len(ix.A), missing)
    return replace(rule, details=()) if ix.rules.allow_unassigned else rule


def _sizes(ix: _Ix, members: list[list[int]]) -> RuleOutcome:
    bad = []
    for c, circle in enumerate(ix.C):
        n = len(members[c])
        if n > circle.max_size or (n < circle.min_size and (n or not ix.rules.allow_empty_circles)):
            bad.append(f"{circle.id} has {n} (min {circle.min_size}, max {circle.max_size})")
    return _hard("circle_size", len(ix.C) - len(bad), len(ix.C), bad)


def _affinity_report(ix: _Ix, where: Mapping[int, int]) -> RuleOutcome:
    bad = [
        f"{ix.A[a].id} is in {ix.C[c].id} ({ix.C[c].affinity!r}) without listing it"
        for a, c in where.items()
        if c not in ix.affine[a]
    ]
    return _hard("affinity", len(where) - len(bad), len(where), bad)


def _need_report(ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]], kind: str) -> RuleOutcome:
    total, bad = 0, []
    for a, c in where.items():
        for need in ix.needs[a]:
            if need[0] == kind:
                total += 1
                if not any(_qualifies(ix.F[f], need) for f in leads.get(c, [])):
                    bad.append(f"{ix.A[a].id} in {ix.C[c].id} has no {_need_text(need)[2:]}")
    return _hard(kind, total - len(bad), total, bad)


def _never_report(ix: _Ix, where: Mapping[int, int]) -> RuleOutcome:
    bad = [
        f"{ix.A[a].id} and {ix.A[b].id} share {ix.C[where[a]].id}"
        for a, b in ix.never
        if a in where and where[a] == where.get(b)
    ]
    return _hard("never", len(ix.never) - len(bad), len(ix.never), bad)


def _facilitator_report(ix: _Ix, members: list[list[int]], leads: Mapping[int, list[int]]) -> RuleOutcome:
    bad = []
    for c, (lo, hi) in enumerate(ix.fbounds):
        n, opened = len(leads.get(c, [])), bool(members[c]) or not ix.rules.allow_empty_circles
        if (opened and not lo <= n <= hi) or (not opened and n):
            bad.append(
                f"{ix.C[c].id} has {n} facilitator(s) (needs {lo}-{hi})"
                if lo != hi
                else f"{ix.C[c].id} has {n} facilitator(s) (needs {lo})"
            )
    return _hard("facilitators_per_circle", len(ix.C) - len(bad), len(ix.C), bad)


def _capacity_report(ix: _Ix, leads: Mapping[int, list[int]]) -> RuleOutcome:
    load = Counter(f for fs in leads.values() for f in fs)
    bad = [
        f"{ix.F[f].id} leads {load[f]} circles (max {ix.F[f].max_circles})"
        for f in range(len(ix.F))
        if load[f] > ix.F[f].max_circles
    ]
    return _hard("facilitator_capacity", len(ix.F) - len(bad), len(ix.F), bad)


def _lock_report(ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]]) -> RuleOutcome:
    bad = [f"{ix.A[a].id} is not in {ix.C[c].id}" for a, c in ix.lock.items() if where.get(a) != c]
    bad += [
        f"{ix.F[f].id} does not lead {ix.C[c].id}"
        for f, cs in ix.flocks.items()
        for c in cs
        if f not in leads.get(c, [])
    ]
    total = len(ix.lock) + sum(len(cs) for cs in ix.flocks.values())
    return _hard("locks", total - len(bad), total, bad)


def _together_report(ix: _Ix, where: Mapping[int, int]) -> RuleOutcome:
    split = []
    for a, b in ix.together:
        if where.get(a) != where.get(b):
            places = "/".join(ix.C[where[x]].id if x in where else "unplaced" for x in (a, b))
            split.append(f"{ix.A[a].id} and {ix.A[b].id} are apart ({places})")
    return _soft(ix, "together", len(ix.together) - len(split), len(ix.together), len(split), split)


def _isolation_report(ix: _Ix, members: list[list[int]]) -> RuleOutcome:
    cells, isolated, details = 0, 0, []
    for attribute in ix.rules.no_isolation:
        for value, holders in ix.values(attribute).items():
            if len(holders) < 2:
                details.append(
                    f"{ix.A[holders[0]].id} is the only applicant with {attribute} {value!r}: "
                    "unavoidable, not penalised"
                )
                continue
            held = set(holders)
            for c, circle in enumerate(ix.C):
                n = len(held.intersection(members[c]))
                cells += n > 0
                if n == 1:
                    isolated += 1
                    details.append(f"{circle.id}: one member with {attribute} {value!r}")
    return _soft(ix, "no_isolation", cells - isolated, cells, isolated, details)


def _balance_report(ix: _Ix, members: list[list[int]]) -> RuleOutcome:
    cells, off, deviation, details, total = 0, 0, 0, [], len(ix.A)
    for attribute in ix.rules.balance:
        for value, holders in ix.values(attribute).items():
            held = set(holders)
            for c, circle in enumerate(ix.C):
                size, n = len(members[c]), len(held.intersection(members[c]))
                low, high = len(holders) * size // total, -(-len(holders) * size // total)
                cells += 1
                if not low <= n <= high:
                    off, deviation = off + 1, deviation + max(low - n, n - high)
                    expected = str(low) if low == high else f"{low} or {high}"
                    details.append(f"{circle.id}: {n} with {attribute} {value!r} (proportional share {expected})")
    return _soft(ix, "balance", cells - off, cells, deviation, details)


def _schedule_report(ix: _Ix, where: Mapping[int, int]) -> RuleOutcome:
    total, missing, details = 0, 0, []
    for a, c in where.items():
        if ix.A[a].availability is not None and ix.C[c].slots:
            total += 1
            missed = sorted(ix.C[c].slots - (ix.A[a].availability or frozenset()))
            if missed:
                missing += len(missed)
                details.append(f"{ix.A[a].id} cannot attend {', '.join(missed)} ({ix.C[c].id})")
    return _soft(ix, "schedule", total - len(details), total, missing, details)


# ---------------------------------------------------------------- explanations


def _explain(ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]]) -> dict[str, tuple[str, ...]]:
    partners: dict[int, list[int]] = defaultdict(list)
    enemies: dict[int, list[int]] = defaultdict(list)
    for pairs, index in ((ix.together, partners), (ix.never, enemies)):
        for a, b in pairs:
            index[a].append(b)
            index[b].append(a)
    return {ix.A[a].id: tuple(_reasons(ix, a, where, leads, partners[a], enemies[a])) for a in range(len(ix.A))}


def _reasons(
    ix: _Ix, a: int, where: Mapping[int, int], leads: Mapping[int, list[int]], partners: list[int], enemies: list[int]
) -> list[str]:
    if a not in where:
        return [_unplaced_reason(ix, a)]
    c, applicant = where[a], ix.A[a]
    circle = ix.C[c]
    reasons = [f"locked to {circle.id} by the coordinator"] if a in ix.lock else []
    for need in ix.needs[a]:
        fits = [f for f in leads.get(c, []) if _qualifies(ix.F[f], need)]
        if need == MEDICAL and fits:
            reasons.append(f"medical oversight: {ix.F[fits[0]].id} is a medical facilitator")
        elif fits:
            spoken = sorted(ix.F[fits[0]].languages.intersection(need[1:]))
            reasons.append(f"language: facilitator {ix.F[fits[0]].id} speaks {_quote(spoken)}")
    if circle.affinity is not None:
        reasons.append(f"affinity circle {circle.affinity!r}, which {applicant.id} lists")
    for b in partners:
        where_b = ix.C[where[b]].id if b in where else "unplaced"
        reasons.append(
            f"together with {ix.A[b].id} as requested"
            if where.get(b) == c
            else f"apart from {ix.A[b].id} (requested together; {ix.A[b].id} is in {where_b})"
        )
    reasons += [f"kept apart from {ix.A[b].id} (never together)" for b in enemies]
    if applicant.availability is not None and circle.slots:
        missed = sorted(circle.slots - applicant.availability)
        reasons.append(
            f"schedule: cannot attend {', '.join(missed)}"
            if missed
            else f"schedule: available for {', '.join(sorted(circle.slots))}"
        )
    return reasons


def _unplaced_reason(ix: _Ix, a: int) -> str:
    for need in ix.needs[a]:
        if not ix.qualified[need]:
            missing = "is medical" if need == MEDICAL else f"speaks {_quote(need[1:])}"
            return f"not placed: no facilitator {missing}"
    if not ix.affine[a]:
        return "not placed: every circle is an affinity circle they do not list"
    return "not placed: no circle could take them without breaking a hard rule, or only at a higher cost"
