"""Geometry of the program insights charts. Pure: plain data in, coordinates and labels out; the
partials in ``insights/templates/insights/charts/`` draw the SVG (no inline style: CSP-safe).

Every chart is a frozen dataclass with ``width``, ``height``, ``title``, ``description`` (one
sentence, the SVG's aria-label and <desc>) and ``empty``; every mark carries a ``label`` with its
exact numbers for a hover <title>. Coordinates are rounded to 1 decimal. ``None`` is a suppressed
small cell: drawn as a dashed outline with the word "suppressed", never with a number, and it
never stretches an axis (so no suppressed value can be read off the scale).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeGuard

from django.utils.formats import number_format
from django.utils.translation import gettext as _

WIDTH = 640
PALETTE = 7  # insights.css defines .cat-0 .. .cat-6 (Okabe-Ito)
SUPPRESSED_W = 28  # px given to a suppressed stacked segment of unknown size


# Numbers and scales -------------------------------------------------------------------------


def _r(value: float) -> float:
    return round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: float, decimals: int = 2, *, trim: bool = True) -> str:
    """Localised number with ``decimals`` places; trailing zeros dropped when ``trim``."""
    if trim:
        decimals = next(d for d in range(decimals + 1) if round(value, d) == round(value, decimals))
    return number_format(round(value, decimals) + 0.0, decimal_pos=decimals)


def _count(value: int | float) -> str:
    return number_format(int(value))


def _pct(part: float, whole: float) -> str:
    share = 100 * part / whole
    if 0 < share < 0.5:
        return "<1%"
    if 99.5 <= share < 100:
        return ">99%"
    return f"{_num(share, 0)}%"


CHAR_W = 6.8  # average width of a 12px label character, for fitting names into their column


def _fits(space: float) -> int:
    """How many characters of a name fit in ``space`` pixels (with a margin)."""
    return max(int((space - 12) / CHAR_W), 4)


def _clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _nice_step(span: float, count: int, integer: bool) -> float:
    """A step of 1, 2 or 5 x 10^k giving about ``count`` intervals (d3's tickIncrement rule)."""
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    error = raw / step
    step *= 10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else 2 if error >= math.sqrt(2) else 1
    return max(step, 1.0) if integer else step


def nice_ticks(values: Iterable[float | None], *, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering every finite value (at least two ticks, never a zero span)."""
    finite = [float(v) for v in values if _finite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = (low, high + pad) if integer and low == 0 else (low - pad, high + pad)
    step = _nice_step(high - low, max(count, 1), integer)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) + 0.0 for i in range(round((last - first) / step) + 1)]


def _tick_text(ticks: list[float], *, percent: bool = False) -> list[str]:
    scale = 100 if percent else 1
    step = abs(ticks[1] - ticks[0]) * scale if len(ticks) > 1 else 1
    places = next((d for d in range(7) if abs(round(step, d) - step) < 1e-9 * max(step, 1)), 6)
    return [_num(t * scale, places, trim=False) + ("%" if percent else "") for t in ticks]


@dataclass(frozen=True)
class Scale:
    """Linear map of the domain [low, high] onto pixels [start, end] (end < start on a y axis)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return _r(self.start + (value - self.low) / span * (self.end - self.start))

    def clamp(self, value: float) -> float:
        return min(max(value, self.low), self.high)


def _axis(ticks: list[float], scale: Scale, key: str, *, percent: bool = False) -> list[dict]:
    return [{key: scale(t), "label": text} for t, text in zip(ticks, _tick_text(ticks, percent=percent), strict=True)]


def _spaced(ticks: list[dict], key: str, gap: float) -> list[dict]:
    kept: list[dict] = []
    for tick in ticks:
        if not kept or abs(tick[key] - kept[-1][key]) >= gap:
            kept.append(tick)
    return kept


def _plot(left: int, top: int, right: int, height: int) -> dict:
    """The plotting area: x, y, w, h plus right, bottom and cx (the centre, for axis titles)."""
    w, h = WIDTH - left - right, height - top
    return {"x": left, "y": top, "w": w, "h": h, "right": left + w, "bottom": top + h, "cx": left + w // 2}


def _fill_class(index: int) -> str:
    return f"cat-{index % PALETTE}"


# 1. Funnel ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FunnelChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    track: dict  # x, w, name_x: the full bar length (a suppressed stage is outlined across it)
    bars: list[dict]  # x, y, w, h, cy, name, text, text_x, label, suppressed


def funnel_chart(stages: list[dict], *, title: str | None = None) -> FunnelChart:
    """Stages in order, ``{"code", "label", "count": int | None}``; bars proportional to count,
    the text at each bar's end shows the count and its share of the first stage."""
    left, right, top, row, bar = 150, 110, 8, 30, 20
    track_w = WIDTH - left - right
    counts = [s.get("count") for s in stages]
    known = [max(c, 0) for c in counts if _finite(c)]
    peak = max(known, default=0) or 1
    first = counts[0] if counts and _finite(counts[0]) and counts[0] > 0 else None
    bars: list[dict] = []
    for i, stage in enumerate(stages):
        y, count = top + i * row + (row - bar) / 2, counts[i]
        name = str(stage.get("label", stage.get("code", "")))
        if _finite(count):
            w = track_w * max(count, 0) / peak
            text = _count(count) + (f" ({_pct(count, first)})" if first else "")
        else:
            w, text = track_w, _("suppressed")
        bars.append(
            {
                "x": left,
                "y": _r(y),
                "w": _r(w),
                "h": bar,
                "cy": _r(y + bar / 2),
                "name": _clip(name, _fits(left)),
                "text": text,
                "text_x": _r(left + (w if _finite(count) else 0) + 6),
                "label": f"{name}: {text}",
                "suppressed": not _finite(count),
            }
        )
    return FunnelChart(
        width=WIDTH,
        height=top * 2 + row * max(len(stages), 1),
        title=title or _("Participants at each stage"),
        description=_("Participants at each stage: %(stages)s.") % {"stages": "; ".join(b["label"] for b in bars)}
        if bars
        else _("No data to show."),
        empty=not bars,
        track={"x": left, "w": track_w, "name_x": left - 8},
        bars=bars,
    )


# 2. Change from baseline --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChangeChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    plot: dict  # x, y, w, h, right, bottom, cx
    points: list[dict]  # x, y, y_low, y_high, has_ci, cap_x1, cap_x2, label, suppressed (y: then the text baseline)
    segments: list[dict]  # x1, y1, x2, y2: joins neighbouring shown means
    x_ticks: list[dict]  # x, label, n_label
    y_ticks: list[dict]  # y, label
    zero_y: float
    y_label: str
    direction: str  # "↓ Lower is better" or "↑ Higher is better"


def _change_label(point: dict, unit: str) -> str:
    values = {"timepoint": point.get("label", point.get("timepoint", "")), "unit": unit}
    if not _finite(point.get("mean")):
        return _("%(timepoint)s: suppressed (too few responses)") % values
    values.update(mean=_num(point["mean"]), n=_count(point["n"]) if _finite(point.get("n")) else "?")
    if _finite(point.get("ci_low")) and _finite(point.get("ci_high")):
        values.update(low=_num(point["ci_low"]), high=_num(point["ci_high"]))
        text = _("%(timepoint)s: mean change %(mean)s %(unit)s (95%% CI %(low)s to %(high)s), n = %(n)s")
        return (text % values).replace("  ", " ")
    return (_("%(timepoint)s: mean change %(mean)s %(unit)s, n = %(n)s") % values).replace("  ", " ")


def change_chart(points: list[dict], *, higher_is_better: bool, unit: str, title: str | None = None) -> ChangeChart:
    """Mean change from baseline per time point (``{"timepoint", "label", "n", "mean", "ci_low",
    "ci_high"}``, ``mean`` None when suppressed): dots with 95% CI bars, a zero line, time points
    evenly spaced. A suppressed point's n and CI are neither drawn nor used for the axis."""
    left, right, top, bottom, height = 52, 16, 28, 40, 260
    plot = _plot(left, top, right, height - bottom)
    shown = [p for p in points if _finite(p.get("mean"))]
    ticks = nice_ticks([0.0, *[p.get(k) for p in shown for k in ("mean", "ci_low", "ci_high")]])
    sy = Scale(ticks[0], ticks[-1], top + plot["h"], top)
    step = plot["w"] / max(len(points), 1)
    marks, x_ticks = [], []
    for i, point in enumerate(points):
        x, ok = _r(left + step * (i + 0.5)), _finite(point.get("mean"))
        has_ci = ok and _finite(point.get("ci_low")) and _finite(point.get("ci_high"))
        marks.append(
            {
                "x": x,
                "y": sy(point["mean"]) if ok else _r(top + plot["h"] - 6),
                "y_low": sy(point["ci_low"]) if has_ci else None,
                "y_high": sy(point["ci_high"]) if has_ci else None,
                "has_ci": has_ci,
                "cap_x1": _r(x - 5),
                "cap_x2": _r(x + 5),
                "label": _change_label(point, unit),
                "suppressed": not ok,
            }
        )
        n_ok = ok and _finite(point.get("n"))
        name = _clip(point.get("label", point.get("timepoint", "")), max(int(step / 6.5), 4))
        x_ticks.append({"x": x, "label": name, "n_label": f"n = {_count(point['n'])}" if n_ok else ""})
    pairs = pairwise(marks)
    segments = [
        {"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"]}
        for a, b in pairs
        if not (a["suppressed"] or b["suppressed"])
    ]
    direction = _("Higher is better") if higher_is_better else _("Lower is better")
    return ChangeChart(
        width=WIDTH,
        height=height,
        title=title or _("Mean change from baseline"),
        description=_(
            "Mean change from baseline with 95%% confidence intervals at %(count)d time points; %(direction)s."
        )
        % {"count": len(points), "direction": direction.lower()}
        if points
        else _("No data to show."),
        empty=not points,
        plot=plot,
        points=marks,
        segments=segments,
        x_ticks=x_ticks,
        y_ticks=_axis(ticks, sy, "y"),
        zero_y=sy(0.0),
        y_label=_("Change from baseline (%(unit)s)") % {"unit": unit} if unit else _("Change from baseline"),
        direction=("↑ " if higher_is_better else "↓ ") + direction,
    )


# 3. 100% stacked bars -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StackedChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    plot: dict  # x, w, right, name_x
    legend: list[dict]  # x, y, swatch_y, text_x, css, name, suppressed (12x12 swatch)
    rows: list[dict]  # name, y, h, cy, label, note, segments: x, w, css, label, text, text_x, suppressed


def _stack_widths(counts: list[int | None], total: float | None, width: float) -> tuple[list[float], float]:
    """Pixel width of each segment and the denominator of the percentages (0 when none)."""
    known = sum(c for c in counts if c is not None)
    hidden = sum(c is None for c in counts)
    if total is not None:
        rest = (total - known) / hidden if hidden else 0
        return [width * (rest if c is None else c) / total for c in counts], total
    if not known:
        return [width / hidden if c is None else 0.0 for c in counts] if hidden else [0.0] * len(counts), 0
    share = width - SUPPRESSED_W * hidden
    return [SUPPRESSED_W if c is None else share * c / known for c in counts], known


def _cell(value: object) -> int | None:
    """A stacked count: None stays suppressed, anything else not a non-negative number counts 0."""
    return None if value is None else int(max(value, 0)) if _finite(value) else 0


def _stack_row(row: dict, categories: list[tuple[str, str]], width: float, left: float) -> dict:
    raw = row.get("counts") or {}
    counts = [_cell(raw.get(code, 0)) for code, _name in categories]
    known = sum(c for c in counts if c is not None)
    total = row.get("total") if _finite(row.get("total")) and row["total"] >= known and row["total"] > 0 else None
    widths, denominator = _stack_widths(counts, total, width)
    name, x, segments = str(row.get("label", "")), float(left), []
    for i, ((_code, category), count, w) in enumerate(zip(categories, counts, widths, strict=True)):
        pct = _pct(count, denominator) if count is not None and denominator else ""
        text = _("suppressed") if count is None else _count(count) + (f" ({pct})" if pct else "")
        if w > 0:
            segments.append(
                {
                    "x": _r(x),
                    "w": _r(w),
                    "css": "suppressed" if count is None else _fill_class(i),
                    "label": f"{name}, {category}: {text}",
                    "text": pct if w >= 36 else "",
                    "text_x": _r(x + w / 2),
                    "suppressed": count is None,
                }
            )
        x += w
    return {
        "name": _clip(name, _fits(150)),
        "label": name,
        "segments": segments,
        "note": "" if segments else _("no responses"),
        "partial": None in counts and total is None and bool(denominator),
    }


def _legend(entries: list[tuple[str, str]], top: float) -> tuple[list[dict], float]:
    """Swatch + name per entry, wrapping at the chart width; returns items and the bottom y."""
    items, x, y = [], 8.0, top
    for css, name in entries:
        w = 22 + 6.5 * len(name)
        if x + w > WIDTH and x > 8:
            x, y = 8.0, y + 18
        items.append(
            {
                "x": _r(x),
                "y": _r(y),
                "swatch_y": _r(y - 10),
                "text_x": _r(x + 16),
                "css": css,
                "name": name,
                "suppressed": css == "suppressed",
            }
        )
        x += w + 12
    return items, y


def stacked_chart(rows: list[dict], categories: list[tuple[str, str]], *, title: str | None = None) -> StackedChart:
    """100% stacked horizontal bars, one per row (``{"label", "counts": {code: int | None}}``,
    optional ``"total"``), segments in the order of ``categories`` (``(code, label)``).

    Percentages are of the row's ``total`` when given (suppressed cells then share the remainder)
    and otherwise of its non-suppressed counts; each suppressed cell of unknown size then gets a
    fixed narrow dashed segment, and the row is marked with "*" (the description says why).
    """
    left, right, bar, row_h = 150, 16, 20, 30
    width = WIDTH - left - right
    built = [_stack_row(r, categories, width, left) for r in rows]
    suppressed = any(s["suppressed"] for r in built for s in r["segments"])
    entries = [(_fill_class(i), str(name)) for i, (_code, name) in enumerate(categories)]
    legend, legend_y = _legend(entries + ([("suppressed", _("suppressed"))] if suppressed else []), 16)
    top = legend_y + 14
    for i, r in enumerate(built):
        y = top + i * row_h + (row_h - bar) / 2
        r.update(y=_r(y), h=bar, cy=_r(y + bar / 2))
        if r["partial"]:
            r["name"] = r["name"] + " *"
    description = (
        _("Share of each row in %(categories)s, as 100%% stacked bars for %(count)d rows.")
        % {"categories": ", ".join(name for _css, name in entries), "count": len(rows)}
        if rows and categories
        else _("No data to show.")
    )
    if any(r["partial"] for r in built):
        description = description[:-1] + "; " + _("* percentages of the counts that are not suppressed.")
    return StackedChart(
        width=WIDTH,
        height=int(top + row_h * max(len(rows), 1) + 8),
        title=title or _("Share by category"),
        description=description,
        empty=not (rows and categories),
        plot={"x": left, "w": width, "right": left + width, "name_x": left - 8},
        legend=legend,
        rows=built if categories else [],
    )


# 4. Histogram -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HistogramChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    plot: dict  # x, y, w, h, right, bottom, cx
    bars: list[dict]  # x, y, w, h, label, suppressed (a suppressed bin is outlined full height)
    x_ticks: list[dict]  # x, label
    y_ticks: list[dict]  # y, label
    baseline_y: float
    x_label: str
    y_label: str
    note: str  # explains the dashed bins when there are any


def histogram_chart(bins: list[dict], *, x_label: str, title: str | None = None) -> HistogramChart:
    """Vertical bars, one per bin ``{"low", "high", "count": int | None}``; bar height is the count."""
    left, right, top, bottom, height = 48, 16, 24, 44, 240
    plot = _plot(left, top, right, height - bottom)
    good = [b for b in bins if _finite(b.get("low")) and _finite(b.get("high"))]
    edges = sorted({float(v) for b in good for v in (b["low"], b["high"])})
    lo, hi = (edges[0], edges[-1]) if edges else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    sx = Scale(lo, hi, left, left + plot["w"])
    counts = [b["count"] for b in good if _finite(b.get("count"))]
    ticks = nice_ticks([0, *counts, 1 if not any(counts) else 0], integer=True)
    sy = Scale(ticks[0], ticks[-1], top + plot["h"], top)
    bars: list[dict] = []
    for b in good:
        low, high = sorted((float(b["low"]), float(b["high"])))
        x, count, ok = sx(low), b.get("count"), _finite(b.get("count"))
        text = _count(count) if _finite(count) else _("suppressed")
        y0, y1 = (sy(0), sy(count)) if _finite(count) else (float(top + plot["h"]), float(top))
        bars.append(
            {
                "x": _r(x + 0.5),
                "y": min(y0, y1),
                "w": _r(max(sx(high) - x - 1, 1)),
                "h": _r(abs(y0 - y1)),
                "label": _("%(low)s to %(high)s: %(count)s") % {"low": _num(low), "high": _num(high), "count": text},
                "suppressed": not ok,
            }
        )
    edge_ticks = [{"x": sx(e), "label": _num(e)} for e in edges]
    return HistogramChart(
        width=WIDTH,
        height=height,
        title=title or _("Distribution of %(x_label)s") % {"x_label": x_label},
        description=_("Histogram of %(x_label)s in %(count)d bins from %(low)s to %(high)s.")
        % {"x_label": x_label, "count": len(bars), "low": _num(lo), "high": _num(hi)}
        if bars
        else _("No data to show."),
        empty=not bars,
        plot=plot,
        bars=bars,
        x_ticks=_spaced(edge_ticks, "x", 36),
        y_ticks=_axis(ticks, sy, "y"),
        baseline_y=sy(0),
        x_label=x_label,
        y_label=_("Count"),
        note=_("Dashed outline: count suppressed (too small to show).") if any(b["suppressed"] for b in bars) else "",
    )


# 5. Scatter ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ScatterChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    plot: dict  # x, y, w, h, right, bottom, cx
    points: list[dict]  # x, y, label
    line: dict | None  # x1, y1, x2, y2, label
    x_ticks: list[dict]  # x, label
    y_ticks: list[dict]  # y, label
    x_label: str
    y_label: str


def _fit_segment(line: tuple[float, float], xs: tuple[float, float], ys: tuple[float, float]) -> tuple | None:
    """The part of y = a + b·x over x in ``xs`` that lies inside ``ys`` (None when outside)."""
    a, b = line
    x0, x1 = xs
    if b:
        bounds = sorted(((ys[0] - a) / b, (ys[1] - a) / b))
        x0, x1 = max(x0, bounds[0]), min(x1, bounds[1])
    elif not ys[0] <= a <= ys[1]:
        return None
    return (x0, a + b * x0, x1, a + b * x1) if x0 <= x1 else None


def _equation(a: float, b: float) -> str:
    sign = "\u2212" if b < 0 else "+"
    return _("Fitted line: y = %(a)s %(sign)s %(b)s \u00d7 x") % {"a": _num(a), "sign": sign, "b": _num(abs(b))}


def scatter_chart(
    points: list[dict],
    *,
    x_label: str,
    y_label: str,
    line: tuple[float, float] | None = None,
    title: str | None = None,
) -> ScatterChart:
    """Dots at ``{"x", "y"}`` (other keys ignored) and an optional fitted line ``(intercept, slope)``
    drawn across the dots' x-range (clipped to the plot). Non-finite points are left out."""
    left, right, top, bottom, height = 52, 16, 26, 44, 320
    plot = _plot(left, top, right, height - bottom)
    data = [(float(p["x"]), float(p["y"])) for p in points if _finite(p.get("x")) and _finite(p.get("y"))]
    xt, yt = nice_ticks(x for x, _y in data), nice_ticks(y for _x, y in data)
    sx = Scale(xt[0], xt[-1], left, left + plot["w"])
    sy = Scale(yt[0], yt[-1], top + plot["h"], top)
    marks = [{"x": sx(x), "y": sy(y), "label": f"x = {_num(x)}, y = {_num(y)}"} for x, y in data]
    fit: dict | None = None
    if line is not None and data and all(_finite(v) for v in line):
        xs = min(x for x, _y in data), max(x for x, _y in data)
        segment = _fit_segment(
            (float(line[0]), float(line[1])), xs if xs[0] < xs[1] else (xt[0], xt[-1]), (yt[0], yt[-1])
        )
        if segment:
            x0, y0, x1, y1 = segment
            fit = {"x1": sx(x0), "y1": sy(y0), "x2": sx(x1), "y2": sy(y1), "label": _equation(*line)}
    description = _("Scatter plot of %(y)s against %(x)s for %(count)d points.") % {
        "y": y_label,
        "x": x_label,
        "count": len(marks),
    }
    return ScatterChart(
        width=WIDTH,
        height=height,
        title=title or _("%(y)s against %(x)s") % {"y": y_label, "x": x_label},
        description=(description[:-1] + "; " + fit["label"] + "." if fit else description)
        if marks
        else _("No data to show."),
        empty=not marks,
        plot=plot,
        points=marks,
        line=fit,
        x_ticks=_axis(xt, sx, "x"),
        y_ticks=_axis(yt, sy, "y"),
        x_label=x_label,
        y_label=y_label,
    )


# 6. Forest plot -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ForestChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    plot: dict  # x, w, right: the axis span; name_x: names end there; text_x: estimate texts start there
    panels: list[dict]  # name, name_y, top, bottom, zero_x, axis_y, ticks: x, label,
    #                     rows: y, name, text, label, x, x_low, x_high, has_ci, suppressed


def _p_text(p: object) -> str:
    if not _finite(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {_num(p, 3, trim=False)}"


def _forest_texts(effect: dict) -> tuple[str, str]:
    """The row's right-hand text "estimate [low, high]" and its hover detail."""
    est, low, high = effect.get("estimate"), effect.get("ci_low"), effect.get("ci_high")
    if not _finite(est):
        return _("not estimable"), _("not estimable")
    if not (_finite(low) and _finite(high)):
        return _num(est, 2, trim=False), _num(est, 2, trim=False)
    values = {"estimate": _num(est, 2, trim=False), "low": _num(low, 2, trim=False), "high": _num(high, 2, trim=False)}
    return _("%(estimate)s [%(low)s, %(high)s]") % values, _("%(estimate)s (95%% CI %(low)s to %(high)s)") % values


FOREST_LEFT = 180


def _forest_row(effect: dict, scale: Scale, y: float) -> dict:
    name, est = str(effect.get("name", "")), effect.get("estimate")
    ok = _finite(est)
    has_ci = ok and _finite(effect.get("ci_low")) and _finite(effect.get("ci_high"))
    text, detail = _forest_texts(effect)
    p = _p_text(effect.get("p")) if ok else ""
    return {
        "y": _r(y),
        "name": _clip(name, _fits(FOREST_LEFT)),
        "text": text,
        "label": f"{name}: {detail}" + (f", {p}" if p else ""),
        "x": scale(est) if _finite(est) else None,
        "x_low": scale(effect["ci_low"]) if has_ci else None,
        "x_high": scale(effect["ci_high"]) if has_ci else None,
        "has_ci": has_ci,
        "suppressed": not ok,
    }


def forest_chart(effects: list[dict], *, title: str | None = None) -> ForestChart:
    """One row per effect ``{"name", "estimate", "ci_low", "ci_high", "p"}``, in input order: the
    estimate as a point, its CI as a horizontal line, a vertical line at zero, names on the left and
    "estimate [low, high]" on the right.

    Effects on different scales: give them a ``"scale"`` key (e.g. "points", "d"); each scale then
    gets its own panel with its own axis, titled with the scale's name, panels in order of first
    appearance. Without the key every effect shares one axis that always includes zero.
    """
    left, right, row_h, axis_h, head_h = FOREST_LEFT, 150, 24, 28, 22
    plot = {
        "x": left,
        "w": WIDTH - left - right,
        "right": WIDTH - right,
        "name_x": left - 8,
        "text_x": WIDTH - right + 12,
    }
    groups: dict[str, list[dict]] = {}
    for effect in effects:
        groups.setdefault(str(effect.get("scale") or ""), []).append(effect)
    panels: list[dict] = []
    y = 6.0
    for name, members in groups.items():
        values = [e.get(k) for e in members if _finite(e.get("estimate")) for k in ("estimate", "ci_low", "ci_high")]
        ticks = nice_ticks([0.0, *values])
        scale = Scale(ticks[0], ticks[-1], left, left + plot["w"])
        name_y, top = y + 14, y + (head_h if name else 0)
        rows = [_forest_row(e, scale, top + row_h * (i + 0.5)) for i, e in enumerate(members)]
        bottom = top + row_h * len(members)
        panels.append(
            {
                "name": name,
                "name_y": _r(name_y),
                "top": _r(top),
                "bottom": _r(bottom),
                "zero_x": scale(0.0),
                "axis_y": _r(bottom + 16),
                "ticks": _spaced(_axis(ticks, scale, "x"), "x", 36),
                "rows": rows,
            }
        )
        y = bottom + axis_h
    return ForestChart(
        width=WIDTH,
        height=math.ceil(y) if panels else 60,
        title=title or _("Estimates with confidence intervals (95%)"),
        description=_("Estimates with 95%% confidence intervals for %(count)d effects: %(effects)s.")
        % {"count": len(effects), "effects": "; ".join(r["label"] for p in panels for r in p["rows"])}
        if effects
        else _("No data to show."),
        empty=not effects,
        plot=plot,
        panels=panels,
    )


# 7. Horizontal bars -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BarChart:
    width: int
    height: int
    title: str
    description: str
    empty: bool
    percent: bool  # values are shares 0-1 shown as %
    plot: dict  # x, y, w, h, right, bottom, cx
    bars: list[dict]  # x, y, w, h, cy, name, text, text_x, note, label, suppressed
    ticks: list[dict]  # x, label (along the bottom axis at plot.y + plot.h)
    zero_x: float
    x_label: str


def _bar_value(value: float, percent: bool) -> str:
    return f"{_num(value * 100, 1)}%" if percent else _num(value)


def bar_chart(
    rows: list[dict],
    *,
    x_label: str,
    max_value: float | None = None,
    percent: bool | None = None,
    title: str | None = None,
) -> BarChart:
    """Horizontal bars ``{"label", "value": float | None, "note": str}`` from zero (negative values
    go left). The axis runs to ``max_value`` when given (or further if a value exceeds it).
    ``percent`` shows values as %; by default it does when ``max_value`` is 1 and every value is 0-1."""
    left, right, top, row_h, bar = 160, 170, 8, 26, 16
    values = [float(r["value"]) for r in rows if _finite(r.get("value"))]
    if percent is None:
        percent = max_value == 1 and all(0 <= v <= 1 for v in values)
    ticks = nice_ticks([0.0, *values, *([max_value] if _finite(max_value) else [])])
    plot = _plot(left, top, right, top + row_h * max(len(rows), 1))
    sx = Scale(ticks[0], ticks[-1], left, left + plot["w"])
    zero = sx(0.0)
    bars: list[dict] = []
    for i, row in enumerate(rows):
        y, ok = top + i * row_h + (row_h - bar) / 2, _finite(row.get("value"))
        value = float(row["value"]) if ok else 0.0
        x0, x1 = sorted((zero, sx(value))) if ok else (left, left + plot["w"])
        name, note = str(row.get("label", "")), str(row.get("note") or "")
        text = _bar_value(value, percent) if ok else _("suppressed")
        bars.append(
            {
                "x": _r(x0),
                "y": _r(y),
                "w": _r(x1 - x0),
                "h": bar,
                "cy": _r(y + bar / 2),
                "name": _clip(name, _fits(left)),
                "text": text,
                "text_x": _r((max(x1, zero) if ok else left) + 6),
                "note": _clip(note, 22),
                "label": f"{name}: {text}" + (f" ({note})" if note else ""),
                "suppressed": not ok,
            }
        )
    return BarChart(
        width=WIDTH,
        height=int(top + plot["h"] + 44),
        title=title or x_label,
        description=_("Horizontal bars of %(x_label)s for %(count)d rows.") % {"x_label": x_label, "count": len(rows)}
        if rows
        else _("No data to show."),
        empty=not rows,
        percent=percent,
        plot=plot,
        bars=bars,
        ticks=_spaced(_axis(ticks, sx, "x", percent=percent), "x", 40),
        zero_x=zero,
        x_label=x_label,
    )
