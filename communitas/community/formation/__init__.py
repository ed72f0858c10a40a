"""Form circles: assign a retreat's or cohort's applicants and facilitators to circles. Pure.

``parse_problem(data)`` validates the JSON shape into a ``Problem``; ``form_groups(problem)`` runs
cheap pre-checks, then OR-Tools CP-SAT, and returns a ``FormationResult`` (assignments, facilitators,
a report on every rule, an explanation per applicant, or the conflicts that make the rules
impossible). ``evaluate`` reports on any assignment (a coordinator's hand edits, the greedy
baseline). docs/group-formation.md gives the schema, each rule's exact meaning and the formulation.

The modules: ``schema`` (the problem, parsing, validation), ``results``, ``index`` (the problem by
position), ``prechecks``, ``model`` (CP-SAT), ``baseline`` (the greedy start), ``report`` (the rule
report and explanations), ``diagnosis`` (which rules clash) and ``solve`` (``form_groups``).
"""

from typing import TYPE_CHECKING, Any

from communitas.community.formation.baseline import POLISH_MOVES, greedy
from communitas.community.formation.index import MEDICAL, Need
from communitas.community.formation.report import evaluate
from communitas.community.formation.results import Conflict, FormationResult, RuleOutcome
from communitas.community.formation.schema import (
    WEIGHT_DEFAULTS,
    Applicant,
    Circle,
    Facilitator,
    FormationInputError,
    Problem,
    Rules,
    facilitator_bounds,
    parse_problem,
    validate,
)

if TYPE_CHECKING:
    from communitas.community.formation.model import INFINITY, MAX_SIZE_INDICATORS
    from communitas.community.formation.solve import MIN_DIAGNOSIS_S, default_workers, form_groups

# OR-Tools takes seconds to import: the solver modules load on first use, not with the web app.
_LAZY = {
    "INFINITY": "model",
    "MAX_SIZE_INDICATORS": "model",
    "MIN_DIAGNOSIS_S": "solve",
    "default_workers": "solve",
    "form_groups": "solve",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"communitas.community.formation.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "INFINITY",
    "MAX_SIZE_INDICATORS",
    "MEDICAL",
    "MIN_DIAGNOSIS_S",
    "POLISH_MOVES",
    "WEIGHT_DEFAULTS",
    "Applicant",
    "Circle",
    "Conflict",
    "Facilitator",
    "FormationInputError",
    "FormationResult",
    "Need",
    "Problem",
    "RuleOutcome",
    "Rules",
    "default_workers",
    "evaluate",
    "facilitator_bounds",
    "form_groups",
    "greedy",
    "parse_problem",
    "validate",
]
