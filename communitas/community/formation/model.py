"""The CP-SAT model: variables, hard rules, the weighted soft penalties, symmetry breaking and hints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from itertools import pairwise

from ortools.sat.python import cp_model

from communitas.community.formation.index import _Ix

INFINITY = 10**12
MAX_SIZE_INDICATORS = 64  # balance targets use one literal per possible circle size up to this range


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
