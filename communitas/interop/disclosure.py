"""Disclosure control for reported tables: small-cell suppression with complementary suppression
that is checked by linear algebra, not by eye.

A table is a set of named cells with non-negative counts and the sums a reader can see (a row
total, a column total, a grand total: each ``(total, parts)`` with the total itself a cell). The
rules (research/regulatory.md §1.8: Oregon asks that no client can be identified "taking into
consideration how the data could be used in combination with other data sources", names no
threshold and the notes ask for a configurable k and complementary suppression):

1. primary: every count from 1 to k-1 is hidden; 0 and counts of k or more may be shown;
2. complementary: no hidden sensitive cell (1..k-1) may be *determined* by the shown cells and
   the sums. "Determined" is checked exactly, as a disclosure audit does: the smallest and largest
   value the cell can take given every shown number, every sum, whole counts and "a hidden count
   is at least 1" (two linear programs) must differ by at least 1. This catches chains and
   combinations of sums, not only a sum with a single unknown. While some sensitive cell is
   determined, the smallest shown non-zero cell in a sum containing it is hidden too (the cheapest
   complement), falling back to the sum's total.

Zeros stay visible (a structural zero tells nothing about a person) and are never used as
complements, so a reader may know that every hidden count is at least 1; the audit assumes so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import optimize

Sum = tuple[str, tuple[str, ...]]


def _determined(
    hidden: list[str], values: Mapping[str, int], sums: Sequence[Sum], check: set[str] | None = None
) -> set[str]:
    """Hidden cells (of ``check``, default all) whose value a reader can pin down from the shown
    cells and the sums. The reader is given everything: the equations, that counts are whole and
    that a hidden non-zero count is at least 1 (zeros are shown). For each cell, the smallest and
    largest value it can take subject to that (two linear programs) differ by less than 1 exactly
    when it is determined."""
    if not hidden:
        return set()
    index = {cell: i for i, cell in enumerate(hidden)}
    rows, rhs = [], []
    for total, parts in sums:
        row = np.zeros(len(hidden))
        known = 0.0
        for cell, sign in ((total, -1.0), *((p, 1.0) for p in parts)):
            if cell in index:
                row[index[cell]] += sign
            else:
                known += sign * values[cell]
        if row.any():
            rows.append(row)
            rhs.append(-known)
    if not rows:
        return set()
    bounds = [(1.0, None) for _cell in hidden]  # zeros are never hidden (see protect)
    found = set()
    for cell in sorted(check if check is not None else hidden):
        if cell not in index:
            continue
        objective = np.zeros(len(hidden))
        objective[index[cell]] = 1.0
        low = optimize.linprog(objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds, method="highs")
        high = optimize.linprog(-objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds, method="highs")
        if high.status == 3:  # unbounded above: cannot be pinned down
            continue
        if low.status == 0 and high.status == 0 and (-high.fun) - low.fun < 1 - 1e-9:
            found.add(cell)
    return found


def protect(values: Mapping[str, int], sums: Sequence[Sum], *, k: int) -> set[str]:
    """The cells to hide so that no sensitive cell is shown or can be computed (see above)."""
    if k < 2:
        raise ValueError("the threshold k must be at least 2")
    sensitive = {c for c, n in values.items() if 0 < n < k}
    hidden = set(sensitive)
    while True:
        leaked = sorted(_determined(sorted(hidden), values, sums, check=sensitive))
        if not leaked:
            return hidden
        cell = leaked[0]
        containing = [(total, parts) for total, parts in sums if cell == total or cell in parts]
        candidates = [c for total, parts in containing for c in (*parts, total) if c not in hidden and values[c] > 0]
        if not candidates:  # every cell around it is hidden already: widen to the whole table
            candidates = [c for c in values if c not in hidden and values[c] > 0]
        if not candidates:  # nothing left to hide: hide everything rather than leak
            return set(values)
        hidden.add(min(candidates, key=lambda c: (values[c], c)))


def table_sums(row_keys: Sequence[str], col_keys: Sequence[str], *, prefix: str = "") -> tuple[list[str], list[Sum]]:
    """Cell names and sums of a 2-D table with row totals, column totals and a grand total.
    Cells are ``f"{prefix}{row}|{col}"``, totals ``...|*``, ``*|...`` and ``*|*``."""
    cells = [f"{prefix}{r}|{c}" for r in row_keys for c in col_keys]
    sums: list[Sum] = []
    for r in row_keys:
        sums.append((f"{prefix}{r}|*", tuple(f"{prefix}{r}|{c}" for c in col_keys)))
    for c in col_keys:
        sums.append((f"{prefix}*|{c}", tuple(f"{prefix}{r}|{c}" for r in row_keys)))
    sums.append((f"{prefix}*|*", tuple(f"{prefix}{r}|*" for r in row_keys)))
    return cells, sums


def suppress_table(counts: Mapping[str, Mapping[str, int]], *, k: int) -> dict[str, dict[str, int | None]]:
    """A 2-D table ``{row: {col: n}}`` with its row, column and grand totals (under the key ``"*"``),
    each hidden cell ``None``."""
    rows = list(counts)
    cols = list(dict.fromkeys(c for r in rows for c in counts[r]))
    values: dict[str, int] = {}
    for r in rows:
        for c in cols:
            values[f"{r}|{c}"] = int(counts[r].get(c, 0))
        values[f"{r}|*"] = sum(values[f"{r}|{c}"] for c in cols)
    for c in cols:
        values[f"*|{c}"] = sum(values[f"{r}|{c}"] for r in rows)
    values["*|*"] = sum(values[f"{r}|*"] for r in rows)
    _cells, sums = table_sums(rows, cols)
    hidden = protect(values, sums, k=k)
    out: dict[str, dict[str, int | None]] = {}
    for r in [*rows, "*"]:
        out[r] = {c: (None if f"{r}|{c}" in hidden else values[f"{r}|{c}"]) for c in [*cols, "*"]}
    return out


def suppress_list(
    counts: Mapping[str, int], *, k: int, with_total: bool = True
) -> tuple[dict[str, int | None], int | None]:
    """A one-way table: categories and (when shown) their total. Returns the categories and the
    total, hidden ones as None."""
    values = {f"c:{key}": int(n) for key, n in counts.items()}
    if not with_total:
        hidden = protect(values, [], k=k)
        return {key: (None if f"c:{key}" in hidden else n) for key, n in counts.items()}, None
    values["total"] = sum(counts.values())
    hidden = protect(values, [("total", tuple(f"c:{key}" for key in counts))], k=k)
    shown = {key: (None if f"c:{key}" in hidden else int(n)) for key, n in counts.items()}
    return shown, None if "total" in hidden else values["total"]
