"""The problem by position (``_Ix``), with the small predicates and phrases the other modules share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from communitas.community.formation.schema import (
    WEIGHT_DEFAULTS,
    Applicant,
    Circle,
    Facilitator,
    Problem,
    facilitator_bounds,
)

Need = tuple[str, ...]  # ("medical",) or ("language", "en", "es")
MEDICAL: Need = ("medical",)


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


def _ids(
    ix: _Ix, where: Mapping[int, int], leads: Mapping[int, list[int]]
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    assignments = {ix.A[a].id: ix.C[c].id for a, c in sorted(where.items())}
    return assignments, {ix.C[c].id: tuple(ix.F[f].id for f in sorted(leads.get(c, []))) for c in range(len(ix.C))}
