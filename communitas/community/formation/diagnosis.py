"""Infeasibility: which hard rules clash, found as a small core of CP-SAT assumptions."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence

from ortools.sat.python import cp_model

from communitas.community.formation.index import MEDICAL, _Ix, _need_text
from communitas.community.formation.model import _Model
from communitas.community.formation.results import Conflict


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


def _names(items: Sequence[str], limit: int = 6, conjunction: bool = False) -> str:
    """ "p1, p2 and 3 more"; with ``conjunction``, "p1, p2 and p3" when all fit."""
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if conjunction and len(items) > 1:
        return ", ".join(items[:-1]) + " and " + items[-1]
    return ", ".join(items)
