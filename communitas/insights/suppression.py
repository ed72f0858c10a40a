"""Small-cell suppression for what researchers see of a cohort (``insights.metrics`` outputs).

Why: Oregon publishes SB 303 client data de-identified "following OHA data standards", and no
numeric threshold was found; the research notes ask the software for a configurable k threshold
and complementary suppression (research/regulatory.md §1.8, "Small-cell suppression" [R14]).
The default k = 11 is the CMS cell size suppression policy's: no cell of 1 to 10 (people or
events) is displayed, nor any figure from which such a cell could be derived (CMS, "Cell Size
Suppression Policy", via ResDAC: https://resdac.org/articles/cms-cell-size-suppression-policy).
A deployment sets its own with ``settings.COMMUNITAS_SMALL_CELL_THRESHOLD``.

The rules:

- primary: a count from 1 to k-1 is hidden (``None``); 0 and counts of k or more are shown;
- complementary: where cells add up to a number the reader can see, a hidden cell must not be
  the only unknown in that sum, so the next smallest non-zero cell (or, where that would expose
  another table, the total) is hidden too. ``_protect`` checks this to a fixed point over all
  the sums a structure states, including cells it does not print (the people who dropped out
  between two funnel stages, the missed assessments of a wave);
- numbers computed from a hidden count (rates, ratios, means, SDs, CIs, effect sizes) are hidden.

Every function returns new structures (the input is not changed) and marks each row or
structure it changed with ``suppressed: True`` (``False`` otherwise). Scope: each structure is
protected against its own totals, and the pairs a dashboard shows together with shared cells
(progress and attrition; reliable and clinically significant change) choose their complements
consistently. It is not a linear-programming audit of every table a page could combine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.utils.translation import gettext_lazy as _

DEFAULT_THRESHOLD = 11  # CMS cell size suppression policy: cells of 1-10 are not shown
STATES = ("completed", "overdue", "open", "upcoming")
CHANGE_STATS = ("mean_baseline", "mean_followup", "mean", "sd", "ci_low", "ci_high", "d", "d_ci_low", "d_ci_high")

Sum = tuple[str, tuple[str, ...]]  # total = sum of parts


def threshold() -> int:
    """The k of this deployment (``COMMUNITAS_SMALL_CELL_THRESHOLD``, default 11)."""
    return int(getattr(settings, "COMMUNITAS_SMALL_CELL_THRESHOLD", DEFAULT_THRESHOLD))


def _k(k: int | None) -> int:
    return threshold() if k is None else k


def _small(n: int | None, k: int) -> bool:
    return n is not None and 0 < n < k


def suppress_count(n: int | None, k: int | None = None) -> int | None:
    """``n`` unless it is from 1 to k-1."""
    return None if _small(n, _k(k)) else n


def _recovered(values: Mapping[str, int], sums: Sequence[Sum], hidden: set[str], sensitive: set[str]) -> Sum | None:
    """The first sum through which a reader who knows every shown cell can work out a sensitive
    one (following chains of sums), or None."""
    known = set(values) - hidden
    changed = True
    while changed:
        changed = False
        for total, parts in sums:
            unknown = [v for v in (total, *parts) if v not in known]
            if len(unknown) == 1:
                known.add(unknown[0])
                changed = True
                if unknown[0] in sensitive:
                    return total, parts
    return None


def _protect(
    values: Mapping[str, int],
    sums: Sequence[Sum],
    *,
    k: int,
    published: Iterable[str] | None = None,
    avoid: Iterable[str] = (),
) -> set[str]:
    """Cells to hide among ``published`` (default: all) so that no cell from 1 to k-1, published
    or not, can be worked out from the shown ones through ``sums``. Complements are the smallest
    non-zero shown parts of the sum that gives a cell away, never one in ``avoid`` (cells another
    table shows); failing that, the sum's total."""
    shown = set(values) if published is None else set(published)
    avoided = set(avoid)
    sensitive = {v for v, n in values.items() if 0 < n < k}
    hidden = (set(values) - shown) | (sensitive & shown)
    while (leak := _recovered(values, sums, hidden, sensitive)) is not None:
        total, parts = leak
        open_parts = [p for p in parts if p in shown and p not in hidden]
        pool = [p for p in open_parts if values[p] > 0 and p not in avoided]
        if pool:
            hidden.add(min(pool, key=lambda p: (values[p], p)))
        elif total in shown and total not in hidden:
            hidden.add(total)
        elif open_parts:
            hidden.add(min(open_parts, key=lambda p: (values[p], p)))
        else:  # nothing left to hide in this sum: hide everything rather than leak
            return set(values)
    return hidden & shown


def suppress_distribution(counts: Mapping[str, int], k: int | None = None) -> dict[str, int | None]:
    """Counts that add up to a total the reader knows: primary suppression, then, if exactly one
    cell is hidden, the next smallest non-zero one too (so the total minus the shown cells gives
    only the sum of two hidden cells)."""
    values = {**counts, "__total__": sum(counts.values())}
    hidden = _protect(values, [("__total__", tuple(counts))], k=_k(k))
    return {key: None if key in hidden else n for key, n in counts.items()}


# -- the metrics' outputs ------------------------------------------------------------------------


def suppress_funnel(stages: list[dict], k: int | None = None) -> list[dict]:
    """Hide a stage's count when it is from 1 to k-1, or when the people between it and its
    nearest shown ancestor (through ``of``) number 1 to k-1: so any two shown nested stages
    differ by 0 or at least k, and a hidden stage lies strictly between shown ones."""
    k = _k(k)
    parent = {s["code"]: s.get("of") for s in stages}
    shown: dict[str, int] = {}
    out = []
    for stage in stages:
        n = stage["count"]
        anchor = parent[stage["code"]]
        while anchor is not None and anchor not in shown:
            anchor = parent.get(anchor)
        hide = _small(n, k) or (anchor is not None and _small(shown[anchor] - n, k))
        if not hide:
            shown[stage["code"]] = n
        out.append({**stage, "count": None if hide else n, "suppressed": hide})
    return out


def suppress_progress(rows: list[dict], k: int | None = None) -> list[dict]:
    """Per row: ``scheduled`` = completed + overdue + open + upcoming = due + (not due). The
    complement is never ``completed`` (attrition shows the same number as ``observed``); where no
    other cell serves, ``scheduled`` and ``due`` are hidden instead."""
    k = _k(k)
    out = []
    for row in rows:
        values = {c: row[c] for c in ("scheduled", "due", *STATES)}
        values["not_due"] = row["scheduled"] - row["due"]
        sums = [("scheduled", STATES), ("scheduled", ("due", "not_due"))]
        hidden = _protect(values, sums, k=k, published=set(values) - {"not_due"}, avoid={"completed"})
        if "scheduled" in hidden:
            hidden.add("due")
        new = {**row, **{c: None for c in hidden}, "suppressed": bool(hidden)}
        out.append(new)
    return out


def suppress_attrition(rows: list[dict], k: int | None = None) -> list[dict]:
    """Per wave: expected = observed + missed, where missed is progress's ``overdue`` (so it
    counts as shown, and the complement is ``expected``). ``retained`` goes with either count,
    ``of_baseline`` with this wave's or the baseline's ``observed``."""
    k = _k(k)
    protected = []
    for row in rows:
        values = {"expected": row["expected"], "observed": row["observed"]}
        values["missed"] = row["expected"] - row["observed"]
        sums = [("expected", ("observed", "missed"))]
        hidden = _protect(values, sums, k=k, avoid={"observed", "missed"}) - {"missed"}
        if "observed" in hidden:
            hidden.add("expected")  # missed is shown as progress's overdue
        protected.append(hidden)
    baseline_hidden = any("observed" in h for r, h in zip(rows, protected, strict=True) if r["timepoint"] == "baseline")
    out = []
    for row, hidden in zip(rows, protected, strict=True):
        new = {**row, **{c: None for c in hidden}}
        if hidden:
            new["retained"] = None
        if "observed" in hidden or baseline_hidden:
            new["of_baseline"] = None
        new["suppressed"] = any(
            new[c] is None and row[c] is not None for c in ("expected", "observed", "retained", "of_baseline")
        )
        out.append(new)
    return out


def suppress_change(result: dict, k: int | None = None) -> dict:
    """Hide ``n`` and every statistic of a timepoint whose ``n`` is from 1 to k-1."""
    k = _k(k)
    points = []
    for point in result["points"]:
        hide = _small(point["n"], k)
        points.append({**point, **({"n": None, **dict.fromkeys(CHANGE_STATS)} if hide else {}), "suppressed": hide})
    return {**result, "points": points, "suppressed": any(p["suppressed"] for p in points)}


def suppress_reliable_change(summary: dict, k: int | None = None) -> dict:
    """``n`` = improved + unchanged + deteriorated, and with a clinical cut-off also n = recovered
    + improved + unchanged + deteriorated, where clinical ``unchanged`` and ``deteriorated`` are
    the reliable-change cells themselves and recovered + improved = reliably improved: one
    system of sums, protected together."""
    if not summary.get("available"):
        return {**summary, "suppressed": False}
    k = _k(k)
    counts, clinical = summary["counts"], summary.get("clinical")
    values = {"n": summary["n"], **{f"rc.{c}": n for c, n in counts.items()}}
    sums: list[Sum] = [("n", tuple(f"rc.{c}" for c in counts))]
    if clinical is not None:
        values.update({"cl.recovered": clinical["recovered"], "cl.improved": clinical["improved"]})
        sums += [
            ("n", ("cl.recovered", "cl.improved", "rc.no_reliable_change", "rc.reliably_deteriorated")),
            ("rc.reliably_improved", ("cl.recovered", "cl.improved")),
        ]
    hidden = _protect(values, sums, k=k)
    new = {**summary, "n": None if "n" in hidden else summary["n"]}
    new["counts"] = {c: None if f"rc.{c}" in hidden else n for c, n in counts.items()}
    if clinical is not None:
        same = {"unchanged": "rc.no_reliable_change", "deteriorated": "rc.reliably_deteriorated"}
        new["clinical"] = {c: None if same.get(c, f"cl.{c}") in hidden else n for c, n in clinical.items()}
    new["suppressed"] = bool(hidden)
    return new


def suppress_attendance(result: dict, k: int | None = None) -> dict:
    """Circles with 1 to k-1 members are merged into one "Other circles (suppressed)" row with
    the smallest circle of k or more members (complementary: no merged circle can be read from
    the row); without such a circle the row's numbers are hidden. In each shown row, attended
    person-sessions follow the rules for expected = attended + absent. The engagement bins and
    ``no_sessions_offered`` add up to ``participants`` and are protected as one distribution."""
    k = _k(k)
    rows = result["circles"]
    small = [r for r in rows if _small(r["members"], k)]
    large = sorted((r for r in rows if r["members"] >= k), key=lambda r: r["members"])
    merged = small + large[:1] if small else []
    circles = [_attendance_row(r, k) for r in rows if not any(r is m for m in merged)]
    if merged:
        circles.append(_merged_row(merged, k, hide=not large))
    bins, bins_hidden = _protected_bins(result, k)
    hidden = bins_hidden or any(c["suppressed"] for c in circles)
    return {**result, "circles": circles, **bins, "suppressed": hidden}


def _attendance_row(row: dict, k: int) -> dict:
    values = {"expected": row["expected"], "attended": row["attended"], "absent": row["expected"] - row["attended"]}
    hidden = _protect(values, [("expected", ("attended", "absent"))], k=k, published={"expected", "attended"})
    new = {**row, **{c: None for c in hidden}}
    if hidden:
        new["attendance_rate"] = None
    return {**new, "suppressed": bool(hidden)}


def _merged_row(rows: list[dict], k: int, *, hide: bool) -> dict:
    if hide:
        numbers = dict.fromkeys(("members", "sessions_held", "expected", "attended", "attendance_rate"))
        return {"circle": _("Other circles (suppressed)"), "circles": len(rows), **numbers, "suppressed": True}
    expected, attended = sum(r["expected"] for r in rows), sum(r["attended"] for r in rows)
    row = {
        "circle": _("Other circles (suppressed)"),
        "circles": len(rows),
        "members": sum(r["members"] for r in rows),
        "sessions_held": sum(r["sessions_held"] for r in rows),
        "expected": expected,
        "attended": attended,
        "attendance_rate": attended / expected if expected else None,
    }
    return {**_attendance_row(row, k), "suppressed": True}


def _protected_bins(result: dict, k: int) -> tuple[dict, bool]:
    counts = {f"bin{n}": b["count"] for n, b in enumerate(result["engagement_bins"])}
    values = {**counts, "none": result["no_sessions_offered"], "participants": result["participants"]}
    hidden = _protect(values, [("participants", (*counts, "none"))], k=k)
    bins = [
        {**b, "count": None if f"bin{n}" in hidden else b["count"]} for n, b in enumerate(result["engagement_bins"])
    ]
    return {
        "engagement_bins": bins,
        "no_sessions_offered": None if "none" in hidden else result["no_sessions_offered"],
        "participants": None if "participants" in hidden else result["participants"],
    }, bool(hidden)
