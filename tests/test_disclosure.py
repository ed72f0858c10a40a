"""Small-cell suppression for reported tables (interop.disclosure): no shown number lies in 1..k-1
and no hidden small cell can be worked out from what is shown, checked independently by integer
programming over many random tables."""

import random

import numpy as np
import pytest
from scipy import optimize

from communitas.interop.disclosure import suppress_list, suppress_table


def _integer_range(table, hidden_cells, cell):
    """Smallest and largest whole value ``cell`` can take given every shown number and the row,
    column and grand totals, each hidden count at least 1 (zeros are shown)."""
    rows = [r for r in table if r != "*"]
    cols = [c for c in table[rows[0]] if c != "*"]
    names = sorted(hidden_cells)
    index = {name: i for i, name in enumerate(names)}

    def term(r, c):
        return (index[(r, c)], None) if (r, c) in index else (None, table[r][c])

    equations = []
    for r in [*rows, "*"]:
        equations.append([term(r, "*"), *[term(r, c) for c in cols]])
    for c in cols:
        equations.append([term("*", c), *[term(r, c) for r in rows]])
    a_rows, b = [], []
    for total, *parts in equations:
        row = np.zeros(len(names))
        known = 0.0
        for sign, (i, value) in ((-1, total), *((1, p) for p in parts)):
            if i is None:
                known += sign * value
            else:
                row[i] += sign
        if row.any():
            a_rows.append(row)
            b.append(-known)
    objective = np.zeros(len(names))
    objective[index[cell]] = 1
    constraints = optimize.LinearConstraint(np.array(a_rows), b, b)
    bounds = optimize.Bounds(np.ones(len(names)), np.full(len(names), np.inf))
    integrality = np.ones(len(names))
    low = optimize.milp(objective, constraints=constraints, bounds=bounds, integrality=integrality)
    high = optimize.milp(-objective, constraints=constraints, bounds=bounds, integrality=integrality)
    return low.fun, (None if high.status != 0 else -high.fun)


def _random_table(rng):
    n_rows, n_cols = rng.randint(2, 5), rng.randint(2, 5)
    return {
        f"r{i}": {f"c{j}": rng.choice([0, 0, 1, 2, 3, 4, 6, 9, 12, 15, 25, 40]) for j in range(n_cols)}
        for i in range(n_rows)
    }


@pytest.mark.parametrize("seed", range(120))
def test_no_small_number_is_shown_or_can_be_recomputed_from_the_totals(seed):
    rng = random.Random(seed)
    counts = _random_table(rng)
    k = rng.choice([3, 5, 11])
    shown = suppress_table(counts, k=k)
    rows, cols = list(counts), list(next(iter(counts.values())))
    full = {r: {**counts[r], "*": sum(counts[r].values())} for r in rows}
    full["*"] = {c: sum(counts[r][c] for r in rows) for c in cols}
    full["*"]["*"] = sum(full[r]["*"] for r in rows)
    hidden = {(r, c) for r in shown for c in shown[r] if shown[r][c] is None}
    assert all(full[r][c] > 0 for r, c in hidden)  # zeros are never hidden, so "hidden" means >= 1
    for r in shown:
        for c in shown[r]:
            value = shown[r][c]
            assert value is None or value == 0 or value >= k, (r, c, value)
            assert value is None or value == full[r][c]  # what is shown is true
    truth = {r: dict(v) for r, v in full.items()}
    for r, c in hidden:
        truth_value = full[r][c]
        if 0 < truth_value < k:
            visible = {rr: {cc: (None if (rr, cc) in hidden else truth[rr][cc]) for cc in truth[rr]} for rr in truth}
            low, high = _integer_range(visible, hidden, (r, c))
            assert high is None or high > low, f"cell {(r, c)}={truth_value} is pinned to {low}"


def test_a_single_small_category_takes_a_complement_with_it():
    shown, total = suppress_list({"a": 3, "b": 40, "c": 25, "d": 0}, k=11)
    assert shown == {"a": None, "b": 40, "c": None, "d": 0} and total == 68


def test_zeros_and_large_counts_stay_visible_and_a_small_total_is_hidden():
    shown = suppress_table({"x": {"m": 0, "n": 0}, "y": {"m": 20, "n": 30}}, k=11)
    assert shown["x"] == {"m": 0, "n": 0, "*": 0} and shown["y"] == {"m": 20, "n": 30, "*": 50}
    shown = suppress_table({"x": {"m": 2, "n": 1}, "y": {"m": 20, "n": 30}}, k=11)
    assert shown["x"]["*"] is None and shown["x"]["m"] is None and shown["x"]["n"] is None


def test_a_threshold_below_two_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        suppress_table({"x": {"m": 1}}, k=1)
