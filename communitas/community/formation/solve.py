"""The entry point: ``form_groups`` runs the pre-checks, the greedy start and CP-SAT."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence

from ortools.sat.python import cp_model

from communitas.community.formation.baseline import _greedy
from communitas.community.formation.diagnosis import _diagnose
from communitas.community.formation.index import _ids, _Ix
from communitas.community.formation.model import _Model
from communitas.community.formation.prechecks import _prechecks
from communitas.community.formation.report import _explain, _report
from communitas.community.formation.results import FormationResult
from communitas.community.formation.schema import Problem, parse_problem, validate

MIN_DIAGNOSIS_S = 5.0  # naming the clashing rules after a proof of infeasibility gets at least this long


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


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
