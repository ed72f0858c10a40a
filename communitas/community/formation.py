"""Form circles: assign a retreat's or cohort's applicants and facilitators to circles. Pure.

``parse_problem(data)`` validates the JSON shape into a ``Problem``; ``form_groups(problem)`` runs
cheap pre-checks, then OR-Tools CP-SAT, and returns a ``FormationResult`` (assignments, facilitators,
a report on every rule, an explanation per applicant, or the conflicts that make the rules
impossible). ``evaluate`` reports on any assignment (a coordinator's hand edits, the greedy
baseline). docs/group-formation.md gives the schema, each rule's exact meaning and the formulation.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise

from ortools.sat.python import cp_model

WEIGHT_DEFAULTS: Mapping[str, int] = {
    "together": 10,
    "no_isolation": 5,
    "balance": 1,
    "schedule": 2,
    "unassigned": 1000,
}
Need = tuple[str, ...]  # ("medical",) or ("language", "en", "es")
MEDICAL: Need = ("medical",)
INFINITY = 10**12
POLISH_MOVES = 60_000  # local search on the greedy start: a fixed amount of work, so runs repeat exactly
MIN_DIAGNOSIS_S = 5.0  # naming the clashing rules after a proof of infeasibility gets at least this long
MAX_SIZE_INDICATORS = 64  # balance targets use one literal per possible circle size up to this range


class FormationInputError(ValueError):
    """Malformed input: a missing or duplicate id, an unknown reference, a wrong type or size."""


# ---------------------------------------------------------------- the problem


@dataclass(frozen=True)
class Circle:
    id: str
    min_size: int
    max_size: int
    affinity: str | None = None
    slots: frozenset[str] = frozenset()
    min_facilitators: int | None = None  # default: rules.facilitators_per_circle
    max_facilitators: int | None = None


@dataclass(frozen=True)
class Facilitator:
    id: str
    languages: frozenset[str] = frozenset()
    medical: bool = False
    max_circles: int = 1


@dataclass(frozen=True)
class Applicant:
    id: str
    languages: frozenset[str] = frozenset()  # empty: no language requirement
    needs_medical: bool = False
    affinity: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    together: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    availability: frozenset[str] | None = None  # None: unknown, never penalised


@dataclass(frozen=True)
class Rules:
    facilitators_per_circle: int = 1
    no_isolation: tuple[str, ...] = ()
    balance: tuple[str, ...] = ()
    weights: Mapping[str, int] = field(default_factory=lambda: dict(WEIGHT_DEFAULTS))
    allow_unassigned: bool = False
    allow_empty_circles: bool = False


@dataclass(frozen=True)
class Problem:
    circles: tuple[Circle, ...]
    facilitators: tuple[Facilitator, ...]
    applicants: tuple[Applicant, ...]
    rules: Rules = field(default_factory=Rules)
    locks: Mapping[str, str] = field(default_factory=dict)  # applicant id -> circle id
    facilitator_locks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # facilitator -> circles

    def with_locks(
        self, applicants: Mapping[str, str] | None = None, facilitators: Mapping[str, Sequence[str]] | None = None
    ) -> Problem:
        """The same problem with more locks (a coordinator keeps some placements and re-runs)."""
        merged = {f: tuple(cs) for f, cs in self.facilitator_locks.items()}
        for f, cs in (facilitators or {}).items():
            merged[f] = tuple(dict.fromkeys([*merged.get(f, ()), *cs]))
        problem = replace(self, locks={**self.locks, **(applicants or {})}, facilitator_locks=merged)
        validate(problem)
        return problem


# ---------------------------------------------------------------- parsing


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _obj(value: object, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise FormationInputError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise FormationInputError(f"{where}: expected a list, got {_kind(value)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FormationInputError(f"{where}: expected a non-empty string, got {_kind(value)}")
    return value


def _texts(value: object, where: str) -> tuple[str, ...]:
    return tuple(_text(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where)))


def _int(value: object, where: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormationInputError(f"{where}: expected a whole number, got {_kind(value)}")
    if value < low:
        raise FormationInputError(f"{where}: {value} is below {low}")
    return value


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise FormationInputError(f"{where}: expected true or false, got {_kind(value)}")
    return value


def _optional_int(item: Mapping, key: str, where: str) -> int | None:
    return None if item.get(key) is None else _int(item[key], f"{where}.{key}")


def _circle(item: object, where: str) -> Circle:
    item = _obj(item, where)
    cid = _text(item.get("id"), f"{where}.id")
    where = f"circle {cid!r}"
    if "max_size" not in item:
        raise FormationInputError(f"{where}: max_size is required")
    affinity = item.get("affinity")
    return Circle(
        id=cid,
        min_size=_int(item.get("min_size", 0), f"{where}.min_size"),
        max_size=_int(item["max_size"], f"{where}.max_size", low=1),
        affinity=None if affinity is None else _text(affinity, f"{where}.affinity"),
        slots=frozenset(_texts(item.get("slots", []), f"{where}.slots")),
        min_facilitators=_optional_int(item, "min_facilitators", where),
        max_facilitators=_optional_int(item, "max_facilitators", where),
    )


def _facilitator(item: object, where: str) -> Facilitator:
    item = _obj(item, where)
    fid = _text(item.get("id"), f"{where}.id")
    where = f"facilitator {fid!r}"
    return Facilitator(
        id=fid,
        languages=frozenset(_texts(item.get("languages", []), f"{where}.languages")),
        medical=_flag(item.get("medical", False), f"{where}.medical"),
        max_circles=_int(item.get("max_circles", 1), f"{where}.max_circles"),
    )


def _attributes(value: object, where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, raw in _obj(value, where).items():
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise FormationInputError(f"{where}.{key}: expected a string, got {_kind(raw)}")
        found[str(key)] = str(raw)
    return found


def _applicant(item: object, where: str) -> tuple[Applicant, str | None]:
    item = _obj(item, where)
    aid = _text(item.get("id"), f"{where}.id")
    where = f"applicant {aid!r}"
    slots = item.get("availability", item.get("slots"))
    lock = item.get("lock")
    applicant = Applicant(
        id=aid,
        languages=frozenset(_texts(item.get("languages", []), f"{where}.languages")),
        needs_medical=_flag(item.get("needs_medical", False), f"{where}.needs_medical"),
        affinity=frozenset(_texts(item.get("affinity", []) or [], f"{where}.affinity")),
        attributes=_attributes(item.get("attributes", {}), f"{where}.attributes"),
        together=_texts(item.get("together", []), f"{where}.together"),
        never=_texts(item.get("never", []), f"{where}.never"),
        availability=None if slots is None else frozenset(_texts(slots, f"{where}.availability")),
    )
    return applicant, None if lock is None else _text(lock, f"{where}.lock")


def _rules(value: object) -> Rules:
    item = _obj(value, "rules")
    weights = dict(WEIGHT_DEFAULTS)
    for key, raw in _obj(item.get("weights", {}), "rules.weights").items():
        if key not in WEIGHT_DEFAULTS:
            raise FormationInputError(f"rules.weights: unknown weight {key!r} (known: {', '.join(WEIGHT_DEFAULTS)})")
        weights[key] = _int(raw, f"rules.weights.{key}")
    return Rules(
        facilitators_per_circle=_int(item.get("facilitators_per_circle", 1), "rules.facilitators_per_circle"),
        no_isolation=_texts(item.get("no_isolation", []), "rules.no_isolation"),
        balance=_texts(item.get("balance", []), "rules.balance"),
        weights=weights,
        allow_unassigned=_flag(item.get("allow_unassigned", False), "rules.allow_unassigned"),
        allow_empty_circles=_flag(item.get("allow_empty_circles", False), "rules.allow_empty_circles"),
    )


def _locks(data: Mapping, own: dict[str, str]) -> dict[str, str]:
    locks = dict(own)
    for aid, cid in _obj(data.get("locks", {}), "locks").items():
        cid = _text(cid, f"locks.{aid}")
        if locks.get(aid, cid) != cid:
            raise FormationInputError(
                f"applicant {aid!r} is locked to {locks[aid]!r} by 'lock' and to {cid!r} by 'locks'"
            )
        locks[aid] = cid
    return locks


def _facilitator_locks(value: object) -> dict[str, tuple[str, ...]]:
    found = {}
    for fid, raw in _obj(value, "facilitator_locks").items():
        found[fid] = (
            (_text(raw, f"facilitator_locks.{fid}"),)
            if isinstance(raw, str)
            else _texts(raw, f"facilitator_locks.{fid}")
        )
    return found


def parse_problem(data: Mapping | str | bytes) -> Problem:
    """A validated ``Problem`` from a dict or JSON text; malformed input raises FormationInputError."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise FormationInputError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    data = _obj(data, "input")
    for key in ("circles", "applicants"):
        if key not in data:
            raise FormationInputError(f"input: {key!r} is required")
    parsed = [_applicant(item, f"applicants[{i}]") for i, item in enumerate(_list(data["applicants"], "applicants"))]
    problem = Problem(
        circles=tuple(_circle(item, f"circles[{i}]") for i, item in enumerate(_list(data["circles"], "circles"))),
        facilitators=tuple(
            _facilitator(item, f"facilitators[{i}]")
            for i, item in enumerate(_list(data.get("facilitators", []), "facilitators"))
        ),
        applicants=tuple(applicant for applicant, _ in parsed),
        rules=_rules(data.get("rules", {})),
        locks=_locks(data, {applicant.id: lock for applicant, lock in parsed if lock}),
        facilitator_locks=_facilitator_locks(data.get("facilitator_locks", {})),
    )
    validate(problem)
    return problem


def _unique(ids: Iterable[str], what: str) -> set[str]:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise FormationInputError(f"duplicate {what} id {item!r}")
        seen.add(item)
    return seen


def validate(problem: Problem) -> None:
    """Cross-references and bounds: unique ids, known ids, min <= max."""
    if not problem.circles:
        raise FormationInputError("circles: give at least one circle")
    circles = _unique((c.id for c in problem.circles), "circle")
    facilitators = _unique((f.id for f in problem.facilitators), "facilitator")
    applicants = _unique((a.id for a in problem.applicants), "applicant")
    unknown = set(problem.rules.weights) - set(WEIGHT_DEFAULTS)
    if unknown:
        raise FormationInputError(
            f"rules.weights: unknown weight {sorted(unknown)[0]!r} (known: {', '.join(WEIGHT_DEFAULTS)})"
        )
    for c in problem.circles:
        lo, hi = facilitator_bounds(c, problem.rules)
        if c.min_size > c.max_size:
            raise FormationInputError(f"circle {c.id!r}: min_size {c.min_size} exceeds max_size {c.max_size}")
        if lo > hi:
            raise FormationInputError(f"circle {c.id!r}: min_facilitators {lo} exceeds max_facilitators {hi}")
    for a in problem.applicants:
        for key, others in (("together", a.together), ("never", a.never)):
            for other in others:
                if other not in applicants:
                    raise FormationInputError(f"applicant {a.id!r}.{key}: unknown applicant {other!r}")
                if other == a.id:
                    raise FormationInputError(f"applicant {a.id!r}.{key}: lists themselves")
    for aid, cid in problem.locks.items():
        _known(aid, applicants, "locks", "applicant")
        _known(cid, circles, f"locks.{aid}", "circle")
    for fid, cids in problem.facilitator_locks.items():
        _known(fid, facilitators, "facilitator_locks", "facilitator")
        for cid in cids:
            _known(cid, circles, f"facilitator_locks.{fid}", "circle")


def _known(item: str, ids: set[str], where: str, what: str) -> None:
    if item not in ids:
        raise FormationInputError(f"{where}: unknown {what} {item!r}")


def facilitator_bounds(circle: Circle, rules: Rules) -> tuple[int, int]:
    """How many facilitators an open circle takes: exactly facilitators_per_circle unless it says otherwise."""
    lo = rules.facilitators_per_circle if circle.min_facilitators is None else circle.min_facilitators
    hi = circle.max_facilitators if circle.max_facilitators is not None else max(lo, rules.facilitators_per_circle)
    return lo, hi


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Conflict:
    rule: str
    message: str
    subjects: tuple[str, ...] = ()
    parts: tuple[Conflict, ...] = ()

    def as_dict(self) -> dict:
        data: dict = {"rule": self.rule, "message": self.message, "subjects": list(self.subjects)}
        if self.parts:
            data["parts"] = [part.as_dict() for part in self.parts]
        return data


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    kind: str  # hard | soft
    met: int
    total: int
    weight: int | None = None
    penalty: int = 0
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        data = asdict(self)
        data["details"] = list(self.details)
        if self.kind == "hard":
            del data["weight"], data["penalty"]
        return data


@dataclass(frozen=True)
class FormationResult:
    status: str  # optimal | feasible | infeasible | unknown
    objective: int | None
    bound: int | None
    wall_time_s: float
    assignments: Mapping[str, str] = field(default_factory=dict)
    facilitators: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unassigned: tuple[str, ...] = ()
    rule_report: tuple[RuleOutcome, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    explanations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return (self.objective - self.bound) / max(1, abs(self.objective))

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": None if self.gap is None else round(self.gap, 6),
            "wall_time_s": round(self.wall_time_s, 3),
            "assignments": dict(self.assignments),
            "facilitators": {c: list(fs) for c, fs in self.facilitators.items()},
            "unassigned": list(self.unassigned),
            "rule_report": [outcome.as_dict() for outcome in self.rule_report],
            "conflicts": [conflict.as_dict() for conflict in self.conflicts],
            "explanations": {a: list(reasons) for a, reasons in self.explanations.items()},
        }


# ---------------------------------------------------------------- indexes


class _Ix:
    """The problem by position: who may go where, who needs what, who qualifies."""

    def __init__(self, problem: Problem):
        self.p, self.rules = problem, problem.rules
        self.weights: Mapping[str, int] = {**WEIGHT_DEFAULTS, **problem.rules.weights}
        self.A, self.C, self.F = problem.applicants, problem.circles, problem.facilitators
        self.a_of = a_of = {a.id: i for i, a in enumerate(self.A)}
        self.c_of = c_of = {c.id: i for i, c in enumerate(self.C)}
        self.f_of = f_of = {f.id: i for i, f in enumerate(self.F)}
        self.lock = {a_of[a]: c_of[c] for a, c in problem.locks.items()}
        self.flocks = {f_of[f]: sorted({c_of[c] for c in cs}) for f, cs in problem.facilitator_locks.items()}
        self.fbounds = [facilitator_bounds(c, self.rules) for c in self.C]
        self.affine = [[c for c, circle in enumerate(self.C) if _affine(a, circle)] for a in self.A]
        self.allowed = [[self.lock[a]] if a in self.lock else self.affine[a] for a in range(len(self.A))]
        self.needs = [_needs(a) for a in self.A]
        self.holders_of: dict[Need, list[int]] = defaultdict(list)
        for a, needs in enumerate(self.needs):
            for need in needs:
                self.holders_of[need].append(a)
        self.qualified = {
            need: [f for f, fac in enumerate(self.F) if _qualifies(fac, need)] for need in self.holders_of
        }
        self.never = sorted({tuple(sorted((a, a_of[o]))) for a, ap in enumerate(self.A) for o in ap.never})
        self.together = sorted({tuple(sorted((a, a_of[o]))) for a, ap in enumerate(self.A) for o in ap.together})
        self.cost = [{c: _missed(ap, self.C[c]) for c in self.allowed[a]} for a, ap in enumerate(self.A)]

    def values(self, attribute: str) -> dict[str, list[int]]:
        """Attribute value -> the applicants holding it, values in first-seen order."""
        found: dict[str, list[int]] = {}
        for a, applicant in enumerate(self.A):
            if attribute in applicant.attributes:
                found.setdefault(applicant.attributes[attribute], []).append(a)
        return found


def _affine(applicant: Applicant, circle: Circle) -> bool:
    return circle.affinity is None or circle.affinity in applicant.affinity


def _needs(applicant: Applicant) -> list[Need]:
    needs: list[Need] = [("language", *sorted(applicant.languages))] if applicant.languages else []
    return [*needs, MEDICAL] if applicant.needs_medical else needs


def _qualifies(facilitator: Facilitator, need: Need) -> bool:
    return facilitator.medical if need == MEDICAL else bool(facilitator.languages.intersection(need[1:]))


def _missed(applicant: Applicant, circle: Circle) -> int:
    return 0 if applicant.availability is None else len(circle.slots - applicant.availability)


def _quote(languages: Sequence[str]) -> str:
    return " or ".join(repr(lang) for lang in languages)


def _need_text(need: Need) -> str:
    return "a medical facilitator" if need == MEDICAL else f"a facilitator speaking {_quote(need[1:])}"


def _names(items: Sequence[str], limit: int = 6, conjunction: bool = False) -> str:
    """ "p1, p2 and 3 more"; with ``conjunction``, "p1, p2 and p3" when all fit."""
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if conjunction and len(items) > 1:
        return ", ".join(items[:-1]) + " and " + items[-1]
    return ", ".join(items)


# ---------------------------------------------------------------- pre-checks


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _prechecks(ix: _Ix) -> list[Conflict]:
    """Cheap necessary conditions, each with its own message; the solver is not run if one fails."""
    checks = (_check_needs, _check_sizes, _check_affinity, _check_facilitator_supply, _check_locks)
    return [conflict for check in checks for conflict in check(ix)]


def _check_needs(ix: _Ix) -> Iterator[Conflict]:
    if ix.rules.allow_unassigned:
        return  # whoever cannot be served is left unplaced (and reported)
    found = False
    for need, holders in ix.holders_of.items():
        qualified, ids = ix.qualified[need], tuple(ix.A[a].id for a in holders)
        if need == MEDICAL and not qualified:
            found = True
            yield Conflict(
                "medical",
                f"{_plural(len(ids), 'applicant')} {'needs' if len(ids) == 1 else 'need'} medical oversight "
                "but no facilitator is medical",
                ids,
            )
        elif not qualified:
            found = True
            langs = need[1:]
            only, tail = ("only ", "speaks it") if len(langs) == 1 else ("", "speaks any of them")
            for a in ids:
                yield Conflict("language", f"{a} speaks {only}{_quote(langs)} and no facilitator {tail}", (a,))
        elif conflict := _check_capacity(ix, need, ids, qualified):
            found = True
            yield conflict
    if not found and all(hi <= 1 for _, hi in ix.fbounds):
        yield from _check_joint_needs(ix)


def _check_capacity(ix: _Ix, need: Need, ids: tuple[str, ...], qualified: list[int]) -> Conflict | None:
    circles = min(len(ix.C), sum(ix.F[f].max_circles for f in qualified))
    room = sum(sorted((c.max_size for c in ix.C), reverse=True)[:circles])
    if len(ids) <= room:
        return None
    who = ", ".join(ix.F[f].id for f in qualified)
    return Conflict(
        need[0],
        f"{len(ids)} applicants need {_need_text(need)}; those who qualify ({who}) can lead at most "
        f"{_plural(circles, 'circle')}, with room for {room}",
        ids,
    )


def _check_joint_needs(ix: _Ix) -> Iterator[Conflict]:
    """With one facilitator per circle, someone who needs Spanish and medical care needs both in one person."""
    for a, needs in enumerate(ix.needs):
        if len(needs) > 1 and not any(all(_qualifies(f, n) for n in needs) for f in ix.F):
            text = " and ".join(_need_text(n) for n in needs)
            yield Conflict(
                "medical",
                f"{ix.A[a].id} needs {text} in one person (circles have one facilitator) and nobody is both",
                (ix.A[a].id,),
            )


def _check_sizes(ix: _Ix) -> Iterator[Conflict]:
    n, circles = len(ix.A), tuple(c.id for c in ix.C)
    total_min, total_max = sum(c.min_size for c in ix.C), sum(c.max_size for c in ix.C)
    if not ix.rules.allow_empty_circles and total_min > n:
        yield Conflict("min_size", f"total min_size {total_min} exceeds {_plural(n, 'applicant')}", circles)
    if not ix.rules.allow_unassigned and total_max < n:
        yield Conflict(
            "max_size", f"total max_size {total_max} is less than the {n} applicants, who must all be placed", circles
        )
    kinds = _quote(sorted({c.affinity or "" for c in ix.C}))
    for a in range(n):
        if not ix.affine[a] and not ix.rules.allow_unassigned:
            aid = ix.A[a].id
            yield Conflict(
                "affinity",
                f"{aid} fits no circle: every circle is an affinity circle ({kinds}) and {aid} lists none",
                (aid,),
            )


def _check_affinity(ix: _Ix) -> Iterator[Conflict]:
    by_affinity: dict[str, list[int]] = defaultdict(list)
    for c, circle in enumerate(ix.C):
        if circle.affinity is not None and not ix.rules.allow_empty_circles:
            by_affinity[circle.affinity].append(c)
    for affinity, circles in by_affinity.items():
        eligible = sum(1 for a in range(len(ix.A)) if any(c in ix.allowed[a] for c in circles))
        short = [c for c in circles if ix.C[c].min_size > eligible]
        for c in short:
            yield Conflict(
                "affinity",
                f"circle {ix.C[c].id} requires affinity {affinity!r} but only {_plural(eligible, 'applicant')} "
                f"{'lists' if eligible == 1 else 'list'} it and min_size is {ix.C[c].min_size}",
                (ix.C[c].id,),
            )
        need, ids = sum(ix.C[c].min_size for c in circles), tuple(ix.C[c].id for c in circles)
        if not short and need > eligible:
            yield Conflict(
                "affinity",
                f"circles {', '.join(ids)} require affinity {affinity!r}: together min_size {need} but only "
                f"{_plural(eligible, 'applicant')} {'lists' if eligible == 1 else 'list'} it",
                ids,
            )


def _check_facilitator_supply(ix: _Ix) -> Iterator[Conflict]:
    need, supply = sum(lo for lo, _ in ix.fbounds), sum(f.max_circles for f in ix.F)
    if not ix.rules.allow_empty_circles and need > supply:
        yield Conflict(
            "facilitators",
            f"{_plural(len(ix.C), 'circle')} need {_plural(need, 'facilitator')} but "
            f"{_plural(len(ix.F), 'facilitator')} can lead at most {_plural(supply, 'circle')}",
        )
    for c, (lo, _) in enumerate(ix.fbounds):
        if lo > len(ix.F):
            yield Conflict(
                "facilitators",
                f"circle {ix.C[c].id} needs {lo} facilitators but there are only {len(ix.F)}",
                (ix.C[c].id,),
            )


def _check_locks(ix: _Ix) -> Iterator[Conflict]:
    members, leads = defaultdict(list), defaultdict(list)
    for a, c in ix.lock.items():
        members[c].append(a)
        aid, circle = ix.A[a].id, ix.C[c]
        if c not in ix.affine[a]:
            text = (
                f"{aid} is locked to {circle.id}, an affinity circle for {circle.affinity!r} that {aid} does not list"
            )
            yield Conflict("lock", text, (aid, circle.id))
    for a, b in ix.never:
        if a in ix.lock and ix.lock[a] == ix.lock.get(b):
            ids = (ix.A[a].id, ix.A[b].id, ix.C[ix.lock[a]].id)
            yield Conflict("lock", "locks put {} and {} (never together) in {}".format(*ids), ids)
    for f, cs in ix.flocks.items():
        if len(cs) > ix.F[f].max_circles:
            text = f"{ix.F[f].id} is locked to {len(cs)} circles but leads at most {ix.F[f].max_circles}"
            yield Conflict("lock", text, (ix.F[f].id,))
        for c in cs:
            leads[c].append(f)
    for c, circle in enumerate(ix.C):
        if len(members[c]) > circle.max_size:
            text = f"{len(members[c])} applicants are locked to {circle.id} but its max_size is {circle.max_size}"
            yield Conflict("lock", text, (circle.id,))
        if len(leads[c]) > ix.fbounds[c][1]:
            text = f"{len(leads[c])} facilitators are locked to {circle.id} but it takes at most {ix.fbounds[c][1]}"
            yield Conflict("lock", text, (circle.id,))
        elif leads[c] and len(leads[c]) == ix.fbounds[c][1]:
            yield from _check_locked_needs(ix, c, members[c], leads[c])


def _check_locked_needs(ix: _Ix, c: int, members: list[int], leads: list[int]) -> Iterator[Conflict]:
    """A locked applicant in a circle whose facilitators are all locked, none of them the one they need."""
    who = ", ".join(ix.F[f].id for f in leads)
    for a in members:
        for need in ix.needs[a]:
            if not any(_qualifies(ix.F[f], need) for f in leads):
                text = f"{ix.A[a].id} is locked to {ix.C[c].id}, whose locked facilitators ({who}) are not "
                text += _need_text(need)
                yield Conflict("lock", text, (ix.A[a].id, ix.C[c].id))


# ---------------------------------------------------------------- the CP-SAT model


class _Model:
    """x[a][c]: applicant a in circle c (only where affinity allows); y[f][c]: facilitator f leads c;
    open[c]. Soft rules add split/iso/deviation variables over per-(circle, value) counts. With
    ``diagnose``, every hard rule is guarded by an assumption literal and the objective is left out."""

    def __init__(self, ix: _Ix, *, diagnose: bool = False):
        self.ix, self.diagnose = ix, diagnose
        self.m = m = cp_model.CpModel()
        self.guards: dict[tuple, cp_model.IntVar] = {}
        allowed = ix.affine if diagnose else ix.allowed
        self.x = [{c: m.new_bool_var(f"x{a}_{c}") for c in allowed[a]} for a in range(len(ix.A))]
        self.xc: list[dict[int, cp_model.IntVar]] = [{} for _ in ix.C]
        for a, row in enumerate(self.x):
            for c, var in row.items():
                self.xc[c][a] = var
        self.y = [[m.new_bool_var(f"y{f}_{c}") for c in range(len(ix.C))] for f in range(len(ix.F))]
        self.open = [m.new_bool_var(f"open{c}") for c in range(len(ix.C))]
        top = [len(ix.A) if diagnose else circle.max_size for circle in ix.C]  # diagnose: max_size is a guard
        self.size = [m.new_int_var(0, top[c], f"size{c}") for c in range(len(ix.C))]
        self._counts: dict[tuple[str, str, int], cp_model.IntVar] = {}
        self._sizes_at: dict[int, dict[int, cp_model.IntVar]] = {}
        self._levels: dict[tuple[str, str, int], list[cp_model.IntVar]] = {}
        self._devs: dict[tuple[str, str, int], cp_model.IntVar] = {}
        self.penalties: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
        # auxiliary variables as functions of an assignment (_Sol.value), to complete a hint
        self.derived: list[tuple[cp_model.IntVar, tuple]] = [(self.size[c], ("size", c)) for c in range(len(ix.C))]
        self.derived += [(self.open[c], ("open", c)) for c in range(len(ix.C))]
        self._placement()
        self._sizes()
        self._facilitators()
        self._coverage()
        self._never()
        if not diagnose:
            self._objective()
            self._symmetry()

    def _guard(self, *key: object) -> list[cp_model.IntVar]:
        if not self.diagnose:
            return []
        if key not in self.guards:
            self.guards[key] = self.m.new_bool_var(repr(key))
        return [self.guards[key]]

    def _placement(self) -> None:
        for a, row in enumerate(self.x):
            lits = list(row.values())
            if self.diagnose or (self.ix.rules.allow_unassigned and a not in self.ix.lock):
                self.m.add_at_most_one(lits)
            else:
                self.m.add_exactly_one(lits)
            if self.diagnose and not self.ix.rules.allow_unassigned:
                self.m.add_bool_or(lits).only_enforce_if(self._guard("placement", a))
            if self.diagnose and self.ix.lock.get(a) in row:
                self.m.add(row[self.ix.lock[a]] == 1).only_enforce_if(self._guard("lock", a))

    def _sizes(self) -> None:
        for c, circle in enumerate(self.ix.C):
            size, is_open = self.size[c], self.open[c]
            self.m.add(size == sum(self.xc[c].values()))
            self.m.add(size <= circle.max_size * is_open).only_enforce_if(self._guard("max_size", c))
            self.m.add(size >= circle.min_size * is_open).only_enforce_if(self._guard("min_size", c))
            if self.ix.rules.allow_empty_circles:
                self.m.add(size >= is_open)
            else:
                self.m.add(is_open == 1)

    def _facilitators(self) -> None:
        ix = self.ix
        for c, (lo, hi) in enumerate(ix.fbounds):
            leading = sum(self.y[f][c] for f in range(len(ix.F)))
            guard = self._guard("facilitators", c)
            self.m.add(leading >= lo * self.open[c]).only_enforce_if(guard)
            self.m.add(leading <= hi * self.open[c]).only_enforce_if(guard)
        for f, facilitator in enumerate(ix.F):
            self.m.add(sum(self.y[f]) <= facilitator.max_circles).only_enforce_if(
                self._guard("facilitator_capacity", f)
            )
        for f, cs in ix.flocks.items():
            for c in cs:
                self.m.add(self.y[f][c] == 1).only_enforce_if(self._guard("facilitator_lock", f))

    def _coverage(self) -> None:
        ix = self.ix
        for need, holders in ix.holders_of.items():
            qualified = ix.qualified[need]
            for c in range(len(ix.C)):
                inside = [a for a in holders if c in self.x[a]]
                if not inside or (not self.diagnose and len(qualified) == len(ix.F) and ix.fbounds[c][0] >= 1):
                    continue
                covered = self.m.new_bool_var(f"cov{c}_{need}")
                self.derived.append((covered, ("covered", c, frozenset(qualified))))
                self.m.add_bool_or([self.y[f][c] for f in qualified]).only_enforce_if(covered)
                for a in inside:
                    self.m.add_bool_or([self.x[a][c].Not(), covered]).only_enforce_if(self._guard(need[0], a))

    def _never(self) -> None:
        for a, b in self.ix.never:
            for c in self.x[a].keys() & self.x[b].keys():
                self.m.add_bool_or([self.x[a][c].Not(), self.x[b][c].Not()]).only_enforce_if(self._guard("never", a, b))

    def count(self, attribute: str, value: str, c: int, holders: list[int]) -> cp_model.IntVar:
        """How many holders of attribute=value circle c gets (one shared expression per cell)."""
        key = (attribute, value, c)
        if key not in self._counts:
            inside = [self.x[h][c] for h in holders if c in self.x[h]]
            var = self.m.new_int_var(0, min(len(inside), self.ix.C[c].max_size), f"n{c}_{attribute}_{value}")
            self.m.add(var == sum(inside))
            self._counts[key] = var
            self.derived.append((var, ("count", c, frozenset(holders))))
        return self._counts[key]

    def _objective(self) -> None:
        w = self.ix.weights
        if w["together"]:
            self._together()
        if w["no_isolation"]:
            self._isolation()
        if w["balance"]:
            self._balance()
        if w["schedule"]:
            self.penalties["schedule"] = [
                cost * self.x[a][c] for a, row in enumerate(self.ix.cost) for c, cost in row.items() if cost
            ]
        if self.ix.rules.allow_unassigned and w["unassigned"]:
            self.penalties["unassigned"] = [1 - sum(row.values()) for row in self.x]
        self._joint_bounds()
        self.m.minimize(sum(w[rule] * cp_model.LinearExpr.sum(terms) for rule, terms in self.penalties.items()))

    def _together(self) -> None:
        for a, b in self.ix.together:
            split = self.m.new_bool_var(f"split{a}_{b}")
            self.derived.append((split, ("split", a, b)))
            for u, v in ((a, b), (b, a)):
                for c, var in self.x[u].items():
                    partner = [self.x[v][c]] if c in self.x[v] else []
                    self.m.add_bool_or([var.Not(), *partner, split])
            self.penalties["together"].append(split)

    def _isolation(self) -> None:
        for attribute in self.ix.rules.no_isolation:
            for value, holders in self.ix.values(attribute).items():
                if len(holders) < 2:
                    continue  # a single holder is isolated wherever they go: reported, not penalised
                for c in range(len(self.ix.C)):
                    levels = self.levels(attribute, value, c, holders)
                    if len(levels) > 1:
                        self.penalties["no_isolation"].append(levels[1])  # isolated: exactly one in the circle

    def levels(self, attribute: str, value: str, c: int, holders: list[int]) -> list[cp_model.IntVar]:
        """[n == 0, n == 1, ...] for the cell's count n: makes isolation exact and the LP tight."""
        key = (attribute, value, c)
        if key not in self._levels:
            n = self.count(attribute, value, c, holders)
            top = min(sum(1 for h in holders if c in self.x[h]), self.ix.C[c].max_size)
            literals = [self.m.new_bool_var(f"n{c}_{attribute}_{value}={j}") for j in range(top + 1)]
            self.m.add_exactly_one(literals)
            self.m.add(n == sum(j * is_j for j, is_j in enumerate(literals)))
            self._levels[key] = literals
            self.derived += [(is_j, ("count_is", c, frozenset(holders), j)) for j, is_j in enumerate(literals)]
        return self._levels[key]

    def _balance(self) -> None:
        total = len(self.ix.A)
        for attribute in self.ix.rules.balance:
            for value, holders in self.ix.values(attribute).items():
                share = len(holders)
                for c, circle in enumerate(self.ix.C):
                    n, dev = self.count(attribute, value, c, holders), self.m.new_int_var(0, circle.max_size, "")
                    sizes = self._size_indicators(c)
                    if sizes is None:  # a huge size range: the same targets with integer slack (weaker LP)
                        self.m.add(total * dev >= total * n - share * self.size[c] - (total - 1))
                        self.m.add(total * dev >= share * self.size[c] - total * n - (total - 1))
                    else:  # the exact floor and ceiling of the proportional share for each possible size
                        ceilings = [-(-share * k // total) for k in sizes]
                        floors = [share * k // total for k in sizes]
                        self.m.add(dev + cp_model.LinearExpr.weighted_sum(list(sizes.values()), ceilings) >= n)
                        self.m.add(dev + n >= cp_model.LinearExpr.weighted_sum(list(sizes.values()), floors))
                    if attribute in self.ix.rules.no_isolation and share >= 2:
                        self._deviation_hull(dev, c, share, self.levels(attribute, value, c, holders))
                    self.penalties["balance"].append(dev)
                    self._devs[(attribute, value, c)] = dev
                    self.derived.append((dev, ("deviation", c, frozenset(holders))))

    def _deviation_hull(self, dev: cp_model.IntVar, c: int, share: int, levels: list[cp_model.IntVar]) -> None:
        """dev >= g(n) with g the deviation outside the widest band any size allows, per level: a valid
        cut that lets the LP see what isolation and balance on one attribute cost together."""
        floor, ceiling = self._band(c, share)
        self.m.add(dev >= sum(max(0, j - ceiling, floor - j) * is_j for j, is_j in enumerate(levels)))

    def _band(self, c: int, share: int) -> tuple[int, int]:
        """The widest [floor, ceiling] of a value's proportional share over the sizes circle c may take."""
        total, circle = len(self.ix.A), self.ix.C[c]
        low = 0 if self.ix.rules.allow_empty_circles else circle.min_size
        return share * low // total, -(-share * circle.max_size // total)

    def _joint_bounds(self) -> None:
        """For an attribute both balanced and kept from isolation, the least its cells can cost together
        (a small dynamic programme over circles) as a cut: the LP alone cannot see it."""
        w = self.ix.weights
        if self.ix.rules.allow_unassigned or not (w["balance"] and w["no_isolation"]):
            return
        for attribute in set(self.ix.rules.balance) & set(self.ix.rules.no_isolation):
            for value, holders in self.ix.values(attribute).items():
                if len(holders) < 2:
                    continue
                costs = [self._cell_costs(attribute, value, c, len(holders)) for c in range(len(self.ix.C))]
                least = _least_total(costs, len(holders))
                if least > 0:
                    cells = [w["balance"] * self._devs[(attribute, value, c)] for c in range(len(self.ix.C))]
                    cells += [
                        w["no_isolation"] * levels[1]
                        for key, levels in self._levels.items()
                        if key[:2] == (attribute, value) and len(levels) > 1
                    ]
                    self.m.add(sum(cells) >= least)

    def _cell_costs(self, attribute: str, value: str, c: int, share: int) -> list[int]:
        """The least penalty of cell (c, attribute=value) holding j holders, j = 0, 1, ..."""
        w, (floor, ceiling) = self.ix.weights, self._band(c, share)
        top = len(self._levels.get((attribute, value, c), [0])) - 1
        return [w["balance"] * max(0, j - ceiling, floor - j) + w["no_isolation"] * (j == 1) for j in range(top + 1)]

    def _size_indicators(self, c: int) -> dict[int, cp_model.IntVar] | None:
        """size == k literals for each size circle c can take (the exact-rounding balance targets need them)."""
        circle = self.ix.C[c]
        low = 0 if self.ix.rules.allow_empty_circles else circle.min_size
        if circle.max_size - low > MAX_SIZE_INDICATORS:
            return None
        if c not in self._sizes_at:
            literals = {k: self.m.new_bool_var(f"size{c}={k}") for k in range(low, circle.max_size + 1)}
            self.m.add_exactly_one(literals.values())
            self.m.add(self.size[c] == sum(k * is_k for k, is_k in literals.items()))
            self._sizes_at[c] = literals
            self.derived += [(is_k, ("size_is", c, k)) for k, is_k in literals.items()]
        return self._sizes_at[c]

    def symmetric_classes(self) -> list[list[int]]:
        """Circles that differ in nothing (sizes, affinity, slots, facilitator bounds, no locks)."""
        ix = self.ix
        pinned = set(ix.lock.values()) | {c for cs in ix.flocks.values() for c in cs}
        classes: dict[tuple, list[int]] = defaultdict(list)
        for c, circle in enumerate(ix.C):
            if c not in pinned:
                classes[(circle.min_size, circle.max_size, circle.affinity, circle.slots, ix.fbounds[c])].append(c)
        return [members for members in classes.values() if len(members) > 1]

    def _symmetry(self) -> None:
        """Order identical circles by their facilitators (closed circles last): key(c1) <= key(c2) <= ..."""
        for members in self.symmetric_classes():
            keys = [self._key(c) for c in members]
            for first, second in pairwise(keys):
                self.m.add(first <= second)

    def _key(self, c: int) -> cp_model.LinearExprT:
        big = len(self.ix.F) * (len(self.ix.F) + 1) + 1
        return sum((f + 1) * self.y[f][c] for f in range(len(self.ix.F))) + big * (1 - self.open[c])

    def hint(self, where: Mapping[int, int], leads: Mapping[int, list[int]]) -> None:
        """Start the search from an assignment (every variable hinted, so a feasible one is used at once)."""
        where, leads = _canonical(self, where, leads)
        if self.ix.rules.allow_empty_circles:  # a circle nobody joins is closed and has no facilitator
            leads = {c: fs for c, fs in leads.items() if c in where.values()}
        for a, row in enumerate(self.x):
            for c, var in row.items():
                self.m.add_hint(var, where.get(a) == c)
        for f, leading in enumerate(self.y):
            for c, lit in enumerate(leading):
                self.m.add_hint(lit, f in leads.get(c, []))
        solution = _Sol(self.ix, where, leads)
        for var, what in self.derived:
            self.m.add_hint(var, solution.value(*what))


class _Sol:
    """An assignment by position, for hinting auxiliary variables."""

    def __init__(self, ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]]):
        self.ix, self.where, self.leads = ix, where, leads
        self.members: list[set[int]] = [set() for _ in ix.C]
        for a, c in where.items():
            self.members[c].add(a)

    def value(self, kind: str, *args) -> int:
        """The value an auxiliary variable takes in this assignment (kinds as _Model.derived names them)."""
        members = self.members[args[0]] if kind != "split" else set()
        if kind == "split":
            return int(self.where.get(args[0]) != self.where.get(args[1]))
        if kind == "open":
            return int(bool(members) or not self.ix.rules.allow_empty_circles)
        if kind == "covered":
            return int(bool(args[1].intersection(self.leads.get(args[0], ()))))
        if kind in ("size", "size_is"):
            return len(members) if kind == "size" else int(len(members) == args[1])
        n, share, total = len(args[1] & members), len(args[1]), len(self.ix.A)
        if kind == "count_is":
            return int(n == args[2])
        if kind == "deviation":
            return max(0, n + (-share * len(members) // total), share * len(members) // total - n)
        return n  # count


def _least_total(costs: list[list[int]], total: int) -> int:
    """min sum(costs[c][n_c]) subject to sum(n_c) == total (0 <= n_c < len(costs[c]))."""
    best = [0] + [INFINITY] * total
    for row in costs:
        best = [
            min((best[k - j] + cost for j, cost in enumerate(row[: k + 1])), default=INFINITY) for k in range(total + 1)
        ]
    return best[total]


def _canonical(model: _Model, where: Mapping[int, int], leads: Mapping[int, list[int]]) -> tuple[dict, dict]:
    """The same solution with identical circles permuted into the symmetry-breaking order."""
    big = len(model.ix.F) * (len(model.ix.F) + 1) + 1
    rename: dict[int, int] = {}
    for members in model.symmetric_classes():
        keys = {c: sum(f + 1 for f in leads.get(c, [])) if leads.get(c) else big for c in members}
        rename.update(zip(sorted(members, key=lambda c: keys[c]), members, strict=True))
    return {a: rename.get(c, c) for a, c in where.items()}, {rename.get(c, c): fs for c, fs in leads.items()}


# ---------------------------------------------------------------- greedy baseline (and the solver's hint)


def _greedy(ix: _Ix, polish: int = POLISH_MOVES) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Facilitators first (rare skills spread out), then applicants most-constrained first; then local
    search (at most ``polish`` tried moves and swaps that lower the penalty, facilitators fixed)."""
    leads = _greedy_facilitators(ix)
    return _greedy_applicants(ix, leads, polish), leads


def _greedy_facilitators(ix: _Ix) -> dict[int, list[int]]:
    leads: dict[int, list[int]] = {c: [] for c in range(len(ix.C))}
    load = [0] * len(ix.F)
    for f, cs in ix.flocks.items():
        for c in cs:
            leads[c].append(f)
            load[f] += 1
    average = max(1.0, len(ix.A) / max(1, len(ix.C)))
    demand = Counter({need: -(-len(holders) // int(average)) for need, holders in ix.holders_of.items()})
    for c in leads:
        demand.subtract({need for f in leads[c] for need in demand if _qualifies(ix.F[f], need)})
    for c in sorted(range(len(ix.C)), key=lambda c: (ix.C[c].affinity is not None, c)):  # open circles first
        while len(leads[c]) < ix.fbounds[c][0]:
            free = [f for f in range(len(ix.F)) if load[f] < ix.F[f].max_circles and f not in leads[c]]
            if not free:
                break
            f = max(free, key=lambda f: (sum(max(0, demand[n]) for n in demand if _qualifies(ix.F[f], n)), -f))
            covered = {
                n for n in demand if _qualifies(ix.F[f], n) and not any(_qualifies(ix.F[g], n) for g in leads[c])
            }
            demand.subtract(covered)
            leads[c].append(f)
            load[f] += 1
    return leads


def _greedy_applicants(ix: _Ix, leads: dict[int, list[int]], polish: int) -> dict[int, int]:
    opened = [len(leads[c]) >= ix.fbounds[c][0] for c in range(len(ix.C))]
    feasible = [[c for c in ix.allowed[a] if opened[c] and _covered(ix, a, leads[c])] for a in range(len(ix.A))]
    state = _Fill(ix, opened)
    special = [any(ix.C[c].affinity is not None for c in feasible[a]) for a in range(len(ix.A))]
    order = sorted(range(len(ix.A)), key=lambda a: (a not in ix.lock, not special[a], len(feasible[a]), a))
    for a in order:
        candidates = [c for c in feasible[a] if state.fits(a, c)]
        if candidates and a not in state.where:
            c = min(candidates, key=lambda c: state.cost(a, c))
            state.place(a, c)
            for b in sorted(state.partners[a] - state.where.keys()):  # bring unplaced partners along
                if c in feasible[b] and state.fits(b, c):
                    state.place(b, c)
    state.make_room(feasible)
    state.repair(feasible)
    state.improve(feasible, polish)
    return state.where


def _covered(ix: _Ix, a: int, leads: list[int]) -> bool:
    return all(any(_qualifies(ix.F[f], need) for f in leads) for need in ix.needs[a])


class _Fill:
    """The greedy's running state: members per circle and counts per (circle, attribute, value)."""

    def __init__(self, ix: _Ix, opened: list[bool]):
        self.ix, self.budget = ix, 0
        self.where: dict[int, int] = {}
        self.members: list[set[int]] = [set() for _ in ix.C]
        self.counts: Counter[tuple[int, str, str]] = Counter()
        self.totals = {
            k: {v: len(h) for v, h in ix.values(k).items()} for k in {*ix.rules.balance, *ix.rules.no_isolation}
        }
        self.partners: dict[int, set[int]] = defaultdict(set)
        self.enemies: dict[int, set[int]] = defaultdict(set)
        for pairs, index in ((ix.together, self.partners), (ix.never, self.enemies)):
            for a, b in pairs:
                index[a].add(b)
                index[b].add(a)
        n_open = max(1, sum(opened))
        self.target = [min(max(len(ix.A) / n_open, c.min_size), c.max_size) for c in ix.C]

    def fits(self, a: int, c: int) -> bool:
        return len(self.members[c]) < self.ix.C[c].max_size and not self.enemies[a] & self.members[c]

    def place(self, a: int, c: int) -> None:
        self.where[a] = c
        self.members[c].add(a)
        for k, v in self.ix.A[a].attributes.items():
            self.counts[(c, k, v)] += 1

    def remove(self, a: int) -> None:
        c = self.where.pop(a)
        self.members[c].discard(a)
        for k, v in self.ix.A[a].attributes.items():
            self.counts[(c, k, v)] -= 1

    def cost(self, a: int, c: int) -> float:
        ix, w, attrs = self.ix, self.ix.weights, self.ix.A[a].attributes
        score = w["schedule"] * ix.cost[a][c] - w["together"] * len(self.partners[a] & self.members[c])
        for k in ix.rules.no_isolation:
            if k in attrs and self.totals[k][attrs[k]] >= 2:
                n = self.counts[(c, k, attrs[k])]
                score -= w["no_isolation"] * (n == 1)  # join a lone holder; a first holder will be joined
        for k in ix.rules.balance:
            if k in attrs:
                ceiling = -(-self.totals[k][attrs[k]] * round(self.target[c]) // len(ix.A))
                score += w["balance"] * (self.counts[(c, k, attrs[k])] >= ceiling)
        return score + 3 * len(self.members[c]) / self.target[c]

    def make_room(self, feasible: list[list[int]]) -> None:
        """Place the unplaced by moving one unlocked member of a circle they fit into a circle with room."""
        for a in range(len(self.ix.A)):
            if a in self.where:
                continue
            for c in feasible[a]:
                if self.enemies[a] & self.members[c]:
                    continue
                movers = [
                    (b, d)
                    for b in self.members[c]
                    if b not in self.ix.lock
                    for d in feasible[b]
                    if d != c and self.fits(b, d)
                ]
                if movers:
                    b, d = min(movers, key=lambda move: self.cost(*move))
                    self.remove(b)
                    self.place(b, d)
                    self.place(a, c)
                    break

    def circle_cost(self, c: int) -> int:
        """Balance and isolation penalties of circle c as it stands (the model's exact definitions)."""
        ix, w, size, total = self.ix, self.ix.weights, len(self.members[c]), len(self.ix.A)
        cost = 0
        for k in ix.rules.balance:
            for v, t in self.totals[k].items():
                n = self.counts[(c, k, v)]
                cost += w["balance"] * max(0, t * size // total - n, n + (-t * size // total))
        for k in ix.rules.no_isolation:
            cost += w["no_isolation"] * sum(t >= 2 and self.counts[(c, k, v)] == 1 for v, t in self.totals[k].items())
        return cost

    def personal(self, a: int, c: int) -> int:
        """a's missed meetings and split together-requests with a in circle c."""
        splits = sum(self.where.get(b) != c for b in self.partners[a])
        return self.ix.weights["schedule"] * self.ix.cost[a].get(c, 0) + self.ix.weights["together"] * splits

    def _exchange(self, a: int, d: int, b: int | None = None) -> bool:
        """Move a to d (and b from d to a's circle); keep it if the penalty falls."""
        self.budget -= 1
        c, movers = self.where[a], [(a, d)] + ([(b, self.where[a])] if b is not None else [])
        before = self.circle_cost(c) + self.circle_cost(d) + sum(self.personal(x, self.where[x]) for x, _ in movers)
        old = [(x, self.where[x]) for x, _ in movers]
        for plan in (movers, old):
            for x, _ in plan:
                self.remove(x)
            for x, target in plan:
                self.place(x, target)
            if (
                plan is movers
                and self.circle_cost(c) + self.circle_cost(d) + sum(self.personal(x, t) for x, t in movers) < before
            ):
                return True
        return False

    def improve(self, feasible: list[list[int]], budget: int) -> None:
        """First-improvement local search: move one applicant, or swap two, while the penalty falls."""
        ix, self.budget, improved = self.ix, budget, True
        movable = [a for a in sorted(self.where) if a not in ix.lock]
        while improved and self.budget > 0:
            improved = False
            for a in movable:
                c = self.where[a]
                targets = [d for d in feasible[a] if d != c and not self.enemies[a] & self.members[d]]
                if len(self.members[c]) > ix.C[c].min_size and any(
                    len(self.members[d]) < ix.C[d].max_size and self._exchange(a, d) for d in targets
                ):
                    improved = True
                elif self.circle_cost(c) or self.personal(a, c):
                    improved |= any(
                        self._exchange(a, d, b)
                        for d in targets
                        for b in sorted(self.members[d])
                        if b not in ix.lock and c in feasible[b] and not self.enemies[b] & (self.members[c] - {a})
                    )
                if self.budget <= 0:
                    return

    def repair(self, feasible: list[list[int]]) -> None:
        """Move unlocked applicants from circles above min_size into circles below it."""
        for c, circle in enumerate(self.ix.C):
            while len(self.members[c]) < circle.min_size:
                movers = [
                    a for a, d in self.where.items()
                    if d != c and a not in self.ix.lock and c in feasible[a]
                    and len(self.members[d]) > self.ix.C[d].min_size and not self.enemies[a] & self.members[c]
                ]  # fmt: skip
                if not movers:
                    break
                a = min(movers, key=lambda a: self.cost(a, c))
                self.remove(a)
                self.place(a, c)


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


# ---------------------------------------------------------------- infeasibility: which rules clash


def _diagnose(ix: _Ix, time_limit_s: float, seed: int) -> list[Conflict]:
    """Guard every hard rule with an assumption literal; CP-SAT names a subset that cannot hold
    together, and a deletion filter shrinks it (while time lasts) to one where every rule matters."""
    model = _Model(ix, diagnose=True)
    literals = {lit.index: lit for lit in model.guards.values()}
    keys = {lit.index: key for key, lit in model.guards.items()}
    deadline = time.monotonic() + time_limit_s
    core = _core(model, [literals[i] for i in keys], deadline, seed)
    if not core:
        return [Conflict("unknown", "the rules cannot all hold, but the solver could not isolate which in time")]
    for index in list(core):
        if index in core and time.monotonic() < deadline:
            smaller = _core(model, [literals[i] for i in core if i != index], deadline, seed)
            core = smaller if smaller else core
    parts = _describe(ix, [keys[i] for i in sorted(core)])
    subjects = tuple(dict.fromkeys(s for part in parts for s in part.subjects))
    message = "these rules cannot all hold together: " + "; ".join(part.message for part in parts)
    return [Conflict("combination", message, subjects, tuple(parts))]


def _core(model: _Model, literals: list[cp_model.IntVar], deadline: float, seed: int) -> list[int] | None:
    """The guards of an infeasible subset (CP-SAT's sufficient assumptions), or None if feasible/unknown."""
    model.m.clear_assumptions()
    model.m.add_assumptions(literals)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, deadline - time.monotonic())
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    if solver.solve(model.m) != cp_model.INFEASIBLE:
        return None
    return list(solver.sufficient_assumptions_for_infeasibility())


def _unplaced_reason(ix: _Ix, a: int) -> str:
    for need in ix.needs[a]:
        if not ix.qualified[need]:
            missing = "is medical" if need == MEDICAL else f"speaks {_quote(need[1:])}"
            return f"not placed: no facilitator {missing}"
    if not ix.affine[a]:
        return "not placed: every circle is an affinity circle they do not list"
    return "not placed: no circle could take them without breaking a hard rule, or only at a higher cost"


def _describe(ix: _Ix, keys: list[tuple]) -> list[Conflict]:
    """One part per rule family; subjects sharing a predicate are named together."""
    by_family: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for key in keys:
        subject, one, many = _clause(ix, key)
        by_family[key[0]][(one, many)].append(subject)
    parts = []
    for family, predicates in by_family.items():
        noun = ("circle ", "circles ") if family in ("min_size", "max_size", "facilitators") else ("", "")
        texts = [
            f"{noun[len(subjects) > 1]}{_names(subjects, conjunction=True)} {many if len(subjects) > 1 else one}"
            for (one, many), subjects in predicates.items()
        ]
        subjects = [s for group in predicates.values() for s in group]
        if family == "never":
            texts = [f"{pair} must never share a circle" for pair in subjects]
        if family == "placement" and len(subjects) == len(ix.A) > 1:
            texts = [f"all {len(subjects)} applicants must be placed"]
        ids = tuple(dict.fromkeys(part for s in subjects for part in s.split(" and ")))
        message = "; ".join(texts[:8]) + (f"; and {len(texts) - 8} more" if len(texts) > 8 else "")
        parts.append(Conflict(family, message, ids))
    return parts


def _clause(ix: _Ix, key: tuple) -> tuple[str, str, str]:
    """(subject, predicate, plural predicate) for one guarded rule: ("p1", "needs ...", "need ...")."""
    A, C, F, family, i = ix.A, ix.C, ix.F, key[0], key[1]
    if family == "never":
        return f"{A[i].id} and {A[key[2]].id}", "must never share a circle", ""
    if family in ("min_size", "max_size", "facilitators"):
        lo, hi = ix.fbounds[i]
        one, many = {
            "min_size": (f"must hold at least {C[i].min_size} (min_size)", ""),
            "max_size": (f"holds at most {C[i].max_size} (max_size)", f"hold at most {C[i].max_size} each (max_size)"),
            "facilitators": (f"needs {lo if lo == hi else f'{lo}-{hi}'} facilitator(s)", ""),
        }[family]
        return C[i].id, one, many or one.replace("needs", "each need")
    if family == "facilitator_capacity":
        return F[i].id, f"leads at most {F[i].max_circles} circle(s)", f"lead at most {F[i].max_circles} circle(s) each"
    if family == "facilitator_lock":
        return F[i].id, f"is locked to {', '.join(C[c].id for c in ix.flocks[i])}", ""
    if family == "lock":
        return A[i].id, f"is locked to {C[ix.lock[i]].id}", f"are locked to {C[ix.lock[i]].id}"
    if family == "placement":
        return A[i].id, "must be placed", "must be placed"
    need = _need_text(ix.needs[i][0] if family == "language" else MEDICAL)
    return A[i].id, f"needs {need}", f"need {need}"


# ---------------------------------------------------------------- the entry point


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def greedy(problem: Problem, *, polish: int = 0) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """The greedy construction (with ``polish`` local-search steps) the solver starts from; also the
    benchmark's baseline. It may break a hard rule (``evaluate`` says which)."""
    ix = _Ix(problem)
    where, leads = _greedy(ix, polish)
    return _ids(ix, where, leads)


def _ids(
    ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]]
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    assignments = {ix.A[a].id: ix.C[c].id for a, c in sorted(where.items())}
    return assignments, {ix.C[c].id: tuple(ix.F[f].id for f in sorted(leads.get(c, []))) for c in range(len(ix.C))}


def form_groups(
    problem: Problem | Mapping | str,
    *,
    time_limit_s: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    gap_limit: float = 0.0,
    hint: Mapping[str, str] | None = None,
    hint_facilitators: Mapping[str, Sequence[str]] | None = None,
) -> FormationResult:
    """Assign applicants and facilitators to circles.

    ``workers`` defaults to the machine's cores (at most 8); ``workers=1`` with a fixed ``seed`` is
    reproducible when the solve finishes inside ``time_limit_s``. The search stops early once
    (objective - bound) / max(1, objective) <= ``gap_limit``. ``hint`` and ``hint_facilitators`` (a
    previous run's assignments) steer the search without binding it; locks bind.
    """
    started = time.monotonic()
    problem = problem if isinstance(problem, Problem) else parse_problem(problem)
    validate(problem)
    ix = _Ix(problem)
    conflicts = _prechecks(ix)
    if conflicts:
        return FormationResult("infeasible", None, None, time.monotonic() - started, conflicts=tuple(conflicts))
    model = _Model(ix)
    where, leads = _greedy(ix)
    model.hint(*_merge_hint(ix, where, leads, hint, hint_facilitators))
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.01, time_limit_s - (time.monotonic() - started))
    params.num_workers = workers or default_workers()
    params.random_seed = seed
    params.relative_gap_limit = gap_limit
    status = solver.solve(model.m)
    if status == cp_model.INFEASIBLE:
        budget = max(MIN_DIAGNOSIS_S, time_limit_s - (time.monotonic() - started))
        conflicts = _diagnose(ix, budget, seed)
        return FormationResult("infeasible", None, None, time.monotonic() - started, conflicts=tuple(conflicts))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return FormationResult("unknown", None, None, time.monotonic() - started)
    return _solved(ix, model, solver, status, started)


def _merge_hint(
    ix: _Ix,
    where: dict[int, int],
    leads: dict[int, list[int]],
    hint: Mapping[str, str] | None,
    hint_facilitators: Mapping[str, Sequence[str]] | None,
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """The greedy start overridden by a caller's hint (unknown ids in a hint are ignored)."""
    a_of, c_of, f_of = ix.a_of, ix.c_of, ix.f_of
    where = {**where, **{a_of[a]: c_of[c] for a, c in (hint or {}).items() if a in a_of and c in c_of}}
    for cid, fids in (hint_facilitators or {}).items():
        if cid in c_of:
            leads[c_of[cid]] = [f_of[f] for f in fids if f in f_of]
    return where, leads


def _solved(
    ix: _Ix, model: _Model, solver: cp_model.CpSolver, status: cp_model.CpSolverStatus, started: float
) -> FormationResult:
    where = {a: c for a, row in enumerate(model.x) for c, var in row.items() if solver.boolean_value(var)}
    leads = {c: [f for f in range(len(ix.F)) if solver.boolean_value(model.y[f][c])] for c in range(len(ix.C))}
    assignments, facilitators = _ids(ix, where, leads)
    return FormationResult(
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        objective=round(solver.objective_value),
        bound=math.ceil(solver.best_objective_bound - 1e-6),  # the objective is a whole number
        wall_time_s=time.monotonic() - started,
        assignments=assignments,
        facilitators=facilitators,
        unassigned=tuple(a.id for i, a in enumerate(ix.A) if i not in where),
        rule_report=_report(ix, where, leads),
        explanations=_explain(ix, where, leads),
    )
