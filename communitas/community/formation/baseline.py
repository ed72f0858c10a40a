"""The greedy construction: the solver's starting hint and the benchmark's baseline."""

from __future__ import annotations

from collections import Counter, defaultdict

from communitas.community.formation.index import _ids, _Ix, _qualifies
from communitas.community.formation.schema import Problem

POLISH_MOVES = 60_000  # local search on the greedy start: a fixed amount of work, so runs repeat exactly


def greedy(problem: Problem, *, polish: int = 0) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """The greedy construction (with ``polish`` local-search steps) the solver starts from; also the
    benchmark's baseline. It may break a hard rule (``evaluate`` says which)."""
    ix = _Ix(problem)
    where, leads = _greedy(ix, polish)
    return _ids(ix, where, leads)


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
