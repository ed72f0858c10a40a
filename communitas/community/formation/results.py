"""What ``form_groups`` and ``evaluate`` answer: the result, each rule's outcome, each conflict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field


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
