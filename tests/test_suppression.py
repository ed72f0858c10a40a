"""Small-cell suppression (``insights.suppression``): counts from 1 to k-1 are hidden, and so is
whatever would let a reader work them out again from totals and the cells still shown. Each
test checks the second part by solving the table's sums for its hidden cells."""

import copy
import itertools

import numpy as np
import pytest

from communitas.insights import suppression as s

K = 11


def solvable(sums, hidden):
    """Hidden cells a reader can solve exactly from ``sums`` (total = sum of parts) once every
    other cell is known: those whose indicator lies in the row space of the sums restricted to
    the hidden cells (the usual audit of complementary suppression)."""
    hidden = sorted(hidden)
    if not hidden:
        return set()
    rows = []
    for total, parts in sums:
        row = np.zeros(len(hidden))
        for cell, sign in ((total, -1), *((p, 1) for p in parts)):
            if cell in hidden:
                row[hidden.index(cell)] += sign
        rows.append(row)
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for n, cell in enumerate(hidden):
        unit = np.zeros(len(hidden))
        unit[n] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(cell)
    return found


def assert_not_recoverable(values, shown, sums):
    """No hidden published cell and no small unprinted cell (absent from ``shown``) can be solved
    from the shown ones."""
    hidden = {c for c in values if shown.get(c) is None}
    protect = {c for c in hidden if c in shown or 0 < values[c] < K}
    assert solvable(sums, hidden) & protect == set(), (shown, solvable(sums, hidden) & protect)


def test_the_audit_catches_a_lone_hidden_cell():
    sums = [("total", ("a", "b", "c"))]
    assert solvable(sums, {"a"}) == {"a"}  # total - b - c
    assert solvable(sums, {"a", "b"}) == set()
    assert solvable([*sums, ("ab", ("a", "b"))], {"a", "c"}) == {"a", "c"}  # a subtotal gives both away


# -- the threshold and single counts -------------------------------------------------------------


def test_the_threshold_is_11_unless_the_deployment_sets_one(settings):
    if hasattr(settings, "COMMUNITAS_SMALL_CELL_THRESHOLD"):
        del settings.COMMUNITAS_SMALL_CELL_THRESHOLD
    assert s.threshold() == 11
    settings.COMMUNITAS_SMALL_CELL_THRESHOLD = 5
    assert s.threshold() == 5
    assert s.suppress_count(4) is None and s.suppress_count(5) == 5


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, None), (10, None), (11, 11), (250, 250), (None, None)])
def test_it_hides_counts_from_1_to_k_minus_1(n, shown):
    assert s.suppress_count(n, K) == shown


# -- distributions -------------------------------------------------------------------------------


def test_one_small_cell_takes_the_next_smallest_non_zero_cell_with_it():
    counts = {"a": 3, "b": 0, "c": 20, "d": 30}
    before = copy.deepcopy(counts)
    shown = s.suppress_distribution(counts, K)
    assert shown == {"a": None, "b": 0, "c": None, "d": 30}
    assert counts == before  # not mutated
    total = sum(counts.values())
    assert total - sum(v for v in shown.values() if v is not None) == 23  # only a + c, not a
    solutions = [(a, c) for a, c in itertools.product(range(total + 1), repeat=2) if a + c == 23]
    assert len({a for a, _c in solutions}) > 1 and len({c for _a, c in solutions}) > 1


def test_two_small_cells_protect_each_other():
    assert s.suppress_distribution({"a": 3, "b": 4, "c": 30}, K) == {"a": None, "b": None, "c": 30}


def test_nothing_is_hidden_when_every_cell_is_0_or_at_least_k():
    assert s.suppress_distribution({"a": 0, "b": 11, "c": 40}, K) == {"a": 0, "b": 11, "c": 40}


@pytest.mark.parametrize(
    "counts",
    [
        {"a": 1, "b": 50},
        {"a": 1, "b": 2, "c": 0, "d": 11},
        {"a": 12, "b": 13, "c": 14, "d": 10},
        {"a": 5, "b": 0, "c": 0},
    ],
)
def test_no_hidden_cell_follows_from_the_total(counts):
    shown = s.suppress_distribution(counts, K)
    values = {**counts, "total": sum(counts.values())}
    assert_not_recoverable(values, {**shown, "total": s.suppress_count(values["total"], K)}, [("total", tuple(counts))])


# -- the funnel ----------------------------------------------------------------------------------


def funnel(counts):
    codes = ["enrolled", "screened", "cleared", "ready", "administered", "baseline", "followup"]
    stages = [
        {"code": c, "label": c, "count": n, "of": codes[i - 1] if i else None}
        for i, (c, n) in enumerate(zip(codes, counts, strict=False))
    ]
    stages.append({"code": "completed", "label": "completed", "count": counts[-1], "of": "administered"})
    return stages


def test_the_funnel_hides_small_stages_and_small_drops():
    stages = funnel([40, 38, 30, 28, 12, 11, 4, 0])
    out = s.suppress_funnel(stages, K)
    assert [st["count"] for st in out] == [40, None, None, 28, 12, None, None, 0]
    assert [st["suppressed"] for st in out] == [False, True, True, False, False, True, True, False]
    assert stages[1]["count"] == 38  # not mutated
    shown = [st for st in out if st["count"] is not None]
    by_code = {st["code"]: st for st in out}
    for st in shown:  # nested shown stages differ by 0 or at least k
        ancestor = st["of"]
        while ancestor is not None:
            if by_code[ancestor]["count"] is not None:
                gap = by_code[ancestor]["count"] - st["count"]
                assert gap == 0 or gap >= K
            ancestor = by_code[ancestor]["of"]


def test_a_hidden_stage_lies_strictly_between_shown_ones():
    out = s.suppress_funnel(funnel([40, 38, 30, 28, 12, 11, 4, 0]), K)
    # screened and cleared are hidden between enrolled (40) and ready (28): 12 possible values each
    assert out[0]["count"] - out[3]["count"] >= K


# -- progress and attrition ----------------------------------------------------------------------

PROGRESS_SUMS = [("scheduled", s.STATES), ("scheduled", ("due", "not_due"))]


def progress_row(**cells):
    return {"instrument": "phq9", "timepoint": "baseline", "wave": 0, **cells}


@pytest.mark.parametrize(
    "cells",
    [
        {"scheduled": 30, "due": 25, "completed": 20, "overdue": 3, "open": 2, "upcoming": 5},
        {"scheduled": 25, "due": 25, "completed": 20, "overdue": 5, "open": 0, "upcoming": 0},
        {"scheduled": 60, "due": 40, "completed": 30, "overdue": 10, "open": 12, "upcoming": 8},
        {"scheduled": 40, "due": 0, "completed": 2, "overdue": 0, "open": 20, "upcoming": 18},
        {"scheduled": 8, "due": 8, "completed": 8, "overdue": 0, "open": 0, "upcoming": 0},
    ],
)
def test_progress_cells_cannot_be_recovered_from_the_totals(cells):
    (out,) = s.suppress_progress([progress_row(**cells)], K)
    values = {**cells, "not_due": cells["scheduled"] - cells["due"]}
    assert_not_recoverable(values, {c: out[c] for c in cells}, PROGRESS_SUMS)
    assert out["suppressed"] == any(out[c] is None for c in cells)


def test_progress_complements_with_another_state_before_the_total():
    cells = {"scheduled": 30, "due": 25, "completed": 20, "overdue": 3, "open": 0, "upcoming": 7}
    (out,) = s.suppress_progress([progress_row(**cells)], K)
    assert (out["scheduled"], out["completed"], out["overdue"], out["open"], out["upcoming"]) == (30, 20, None, 0, None)


def test_progress_and_attrition_shown_together_still_hide_the_missed():
    """Attrition's observed is progress's completed and its missed is progress's overdue: the
    pair together must not give a hidden cell away."""
    cells = {"scheduled": 25, "due": 25, "completed": 20, "overdue": 5, "open": 0, "upcoming": 0}
    (progress,) = s.suppress_progress([progress_row(**cells)], K)
    attrition_row = {
        "timepoint": "baseline",
        "wave": 0,
        "expected": 25,
        "observed": 20,
        "retained": 0.8,
        "of_baseline": 1.0,
    }
    (attrition,) = s.suppress_attrition([attrition_row], K)
    assert progress["completed"] == attrition["observed"] == 20
    assert progress["overdue"] is None and progress["scheduled"] is None and attrition["expected"] is None
    assert attrition["retained"] is None and attrition["suppressed"]
    values = {**cells, "not_due": 0, "expected": 25}
    shown = {c: progress[c] for c in cells} | {"expected": attrition["expected"]}
    sums = [*PROGRESS_SUMS, ("expected", ("completed", "overdue"))]
    assert_not_recoverable(values, shown, sums)


def attrition_row(timepoint, expected, observed, base):
    return {
        "timepoint": timepoint,
        "wave": 0,
        "expected": expected,
        "observed": observed,
        "retained": observed / expected if expected else None,
        "of_baseline": observed / base if base else None,
    }


def test_attrition_hides_small_counts_and_the_ratios_that_would_reveal_them():
    rows = [
        attrition_row("baseline", 40, 36, 36),
        attrition_row("month_1", 40, 25, 36),
        attrition_row("month_3", 12, 8, 36),
    ]
    out = s.suppress_attrition(rows, K)
    baseline, month_1, month_3 = out
    assert (baseline["expected"], baseline["observed"], baseline["retained"]) == (None, 36, None)  # 4 missed
    assert baseline["of_baseline"] == 1.0
    assert (month_1["expected"], month_1["observed"]) == (40, 25) and month_1["retained"] == pytest.approx(25 / 40)
    assert (month_3["expected"], month_3["observed"], month_3["retained"], month_3["of_baseline"]) == (
        None,
        None,
        None,
        None,
    )
    assert [r["suppressed"] for r in out] == [True, False, True]
    for row, new in zip(rows, out, strict=True):
        values = {"expected": row["expected"], "observed": row["observed"], "missed": row["expected"] - row["observed"]}
        assert_not_recoverable(
            values,
            {"expected": new["expected"], "observed": new["observed"]},
            [("expected", ("observed", "missed"))],
        )


def test_a_hidden_baseline_hides_every_of_baseline_ratio():
    rows = [attrition_row("baseline", 9, 9, 9), attrition_row("month_1", 30, 25, 9)]
    out = s.suppress_attrition(rows, K)
    assert out[0]["observed"] is None and out[1]["observed"] == 25 and out[1]["of_baseline"] is None


# -- change --------------------------------------------------------------------------------------


def point(timepoint, n):
    stats = dict.fromkeys(s.CHANGE_STATS, 1.5) if n else dict.fromkeys(s.CHANGE_STATS)
    return {"timepoint": timepoint, "wave": 3, "n": n, **stats}


def test_mean_change_is_hidden_below_k_pairs():
    result = {
        "instrument": "phq9",
        "label": "PHQ-9",
        "higher_is_better": False,
        "points": [point("month_1", 25), point("month_3", 6), point("month_6", 0)],
    }
    before = copy.deepcopy(result)
    out = s.suppress_change(result, K)
    month_1, month_3, month_6 = out["points"]
    assert month_1["n"] == 25 and month_1["mean"] == 1.5 and not month_1["suppressed"]
    assert month_3["n"] is None and all(month_3[c] is None for c in s.CHANGE_STATS) and month_3["suppressed"]
    assert month_6["n"] == 0 and not month_6["suppressed"]
    assert out["suppressed"] and result == before


def rc_summary(counts, clinical):
    return {
        "instrument": "phq9",
        "available": True,
        "n": sum(counts.values()),
        "counts": counts,
        "clinical": clinical,
        "method": "jacobson_truax",
        "threshold": 5.61,
        "source": "x",
    }


RC_SUMS = [
    ("n", ("rc.reliably_improved", "rc.no_reliable_change", "rc.reliably_deteriorated")),
    ("n", ("cl.recovered", "cl.improved", "rc.no_reliable_change", "rc.reliably_deteriorated")),
    ("rc.reliably_improved", ("cl.recovered", "cl.improved")),
]


@pytest.mark.parametrize(
    ("counts", "clinical"),
    [
        ((20, 15, 2), (3, 17, 15, 2)),
        ((25, 14, 12), (12, 13, 14, 12)),
        ((30, 3, 0), (28, 2, 3, 0)),
        ((4, 40, 13), (1, 3, 40, 13)),
    ],
)
def test_reliable_and_clinical_change_are_protected_together(counts, clinical):
    summary = rc_summary(
        dict(zip(("reliably_improved", "no_reliable_change", "reliably_deteriorated"), counts, strict=True)),
        dict(zip(("recovered", "improved", "unchanged", "deteriorated"), clinical, strict=True)),
    )
    out = s.suppress_reliable_change(summary, K)
    values = {
        "n": summary["n"],
        **{f"rc.{c}": n for c, n in summary["counts"].items()},
        "cl.recovered": clinical[0],
        "cl.improved": clinical[1],
    }
    shown = {
        "n": out["n"],
        **{f"rc.{c}": n for c, n in out["counts"].items()},
        "cl.recovered": out["clinical"]["recovered"],
        "cl.improved": out["clinical"]["improved"],
    }
    assert_not_recoverable(values, shown, RC_SUMS)
    # the clinical cells that are the reliable-change cells are hidden together
    assert (out["clinical"]["unchanged"] is None) == (out["counts"]["no_reliable_change"] is None)
    assert (out["clinical"]["deteriorated"] is None) == (out["counts"]["reliably_deteriorated"] is None)
    assert out["suppressed"] == any(v is None for v in shown.values())


def test_reliable_change_without_a_cut_off_and_unavailable_instruments():
    summary = rc_summary({"reliably_improved": 20, "no_reliable_change": 15, "reliably_deteriorated": 2}, None)
    out = s.suppress_reliable_change(summary, K)
    assert out["counts"] == {"reliably_improved": 20, "no_reliable_change": None, "reliably_deteriorated": None}
    assert out["clinical"] is None and out["n"] == 37
    unavailable = {"instrument": "ucla3", "available": False, "n": 0, "reason": "no data"}
    assert s.suppress_reliable_change(unavailable, K) == {**unavailable, "suppressed": False}


# -- attendance ----------------------------------------------------------------------------------


def circle(name, members, sessions=4, expected=None, attended=None):
    expected = members * sessions if expected is None else expected
    attended = expected // 2 if attended is None else attended
    return {
        "circle": name,
        "members": members,
        "sessions_held": sessions,
        "expected": expected,
        "attended": attended,
        "attendance_rate": attended / expected if expected else None,
    }


def attendance(circles, bins, none, participants):
    return {
        "circles": circles,
        "engagement_bins": [{"low": n / 5, "high": (n + 1) / 5, "count": c} for n, c in enumerate(bins)],
        "no_sessions_offered": none,
        "participants": participants,
    }


def test_small_circles_merge_with_the_smallest_large_one():
    result = attendance(
        [circle("Circle A", 15), circle("Circle B", 3), circle("Circle C", 20), circle("Circle D", 0)],
        [0, 0, 0, 38, 0],
        0,
        38,
    )
    before = copy.deepcopy(result)
    out = s.suppress_attendance(result, K)
    names = [str(c["circle"]) for c in out["circles"]]
    assert names == ["Circle C", "Circle D", "Other circles (suppressed)"]
    other = out["circles"][-1]
    assert (other["circles"], other["members"], other["sessions_held"]) == (2, 18, 8)
    assert other["attendance_rate"] == pytest.approx((30 + 6) / (60 + 12)) and other["suppressed"]
    assert "Circle B" not in str(out) and out["suppressed"] and result == before
    # members: 20 + 18 shown; A (15) and B (3) are two unknowns adding to 18, never one alone
    assert 38 - sum(c["members"] for c in out["circles"][:-1]) == other["members"]


def test_without_a_large_circle_the_merged_row_shows_nothing():
    out = s.suppress_attendance(attendance([circle("Cedar", 4), circle("Oak", 6)], [0, 0, 0, 0, 10], 0, 10), K)
    (other,) = out["circles"]
    assert other["members"] is None and other["attendance_rate"] is None and other["sessions_held"] is None
    assert out["participants"] is None and all(b["count"] is None for b in out["engagement_bins"] if b["count"])


def test_a_large_circle_with_few_absences_hides_its_attended_count():
    out = s.suppress_attendance(
        attendance([circle("Cedar", 25, expected=100, attended=95)], [0, 0, 0, 0, 25], 0, 25), K
    )
    (cedar,) = out["circles"]
    assert cedar["expected"] == 100 and cedar["attended"] is None and cedar["attendance_rate"] is None
    assert cedar["suppressed"] and cedar["members"] == 25


def test_engagement_bins_cannot_be_recovered_from_the_participants():
    result = attendance([circle("Cedar", 40)], [1, 0, 5, 12, 20], 2, 40)
    out = s.suppress_attendance(result, K)
    assert [b["count"] for b in out["engagement_bins"]] == [None, 0, None, 12, 20]
    assert out["no_sessions_offered"] is None and out["participants"] == 40
    values = {f"bin{n}": b["count"] for n, b in enumerate(result["engagement_bins"])} | {"none": 2, "participants": 40}
    shown = {f"bin{n}": b["count"] for n, b in enumerate(out["engagement_bins"])} | {
        "none": out["no_sessions_offered"],
        "participants": 40,
    }
    assert_not_recoverable(values, shown, [("participants", (*(f"bin{n}" for n in range(5)), "none"))])
    single = attendance([circle("Cedar", 40)], [0, 0, 3, 15, 20], 2, 40)
    counts = [b["count"] for b in s.suppress_attendance(single, K)["engagement_bins"]]
    assert counts == [0, 0, None, 15, 20]  # 3 and 2 hide each other


def test_the_default_threshold_applies_when_none_is_given(settings):
    settings.COMMUNITAS_SMALL_CELL_THRESHOLD = 3
    assert s.suppress_distribution({"a": 2, "b": 3, "c": 9}) == {"a": None, "b": None, "c": 9}
    assert s.suppress_funnel(funnel([9, 9, 8, 8, 8, 8, 8, 8]))[2]["count"] is None
