"""The problem: its dataclasses, ``parse_problem`` (JSON or a dict into a ``Problem``) and ``validate``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

WEIGHT_DEFAULTS: Mapping[str, int] = {
    "together": 10,
    "no_isolation": 5,
    "balance": 1,
    "schedule": 2,
    "unassigned": 1000,
}


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
