"""Geometry of a score-over-time chart with band shading. Pure; the template draws the SVG."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 240, 44, 16, 12, 32


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bands: list[dict]  # x, y, w, h, code, label
    points: list[dict]  # x, y, label
    polyline: str
    y_ticks: list[dict]  # y, label
    x_ticks: list[dict]  # x, label
    plot: dict  # x, y, w, h


def score_chart(
    points: list[tuple[datetime.date, float]], *, low: float, high: float, bands: list[tuple[float, float, str, str]]
) -> Chart:
    """Points are (date, total); bands are (min, max, code, label) in score units."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (high - low) or 1

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - (value - low) / span), 1)

    dates = [d for d, _ in points]
    first, last = (min(dates), max(dates)) if dates else (datetime.date.today(), datetime.date.today())
    days = max((last - first).days, 1)

    def x(day: datetime.date) -> float:
        return round(LEFT + (plot_w * (day - first).days / days if len(points) > 1 else plot_w / 2), 1)

    band_rects = [
        {
            "x": LEFT,
            "y": y(min(b_high + 0.5, high)),
            "w": plot_w,
            "h": round(y(max(b_low - 0.5, low)) - y(min(b_high + 0.5, high)), 1),
            "code": code,
            "label": label,
        }
        for b_low, b_high, code, label in bands
    ]
    marks = [{"x": x(d), "y": y(v), "label": f"{d.isoformat()}: {v:g}"} for d, v in points]
    ticks = sorted({low, high, *[b[0] for b in bands if low < b[0] < high]})
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bands=band_rects,
        points=marks,
        polyline=" ".join(f"{m['x']},{m['y']}" for m in marks),
        y_ticks=[{"y": y(t), "label": f"{t:g}"} for t in ticks],
        x_ticks=_spaced(
            [{"x": m["x"], "label": d.strftime("%Y-%m-%d")} for m, (d, _v) in zip(marks, points, strict=True)]
        ),
        plot={"x": LEFT, "y": TOP, "w": plot_w, "h": plot_h},
    )


def _spaced(ticks: list[dict], gap: float = 72) -> list[dict]:
    """Keep date labels that do not overlap (the last one wins over its neighbour)."""
    kept: list[dict] = []
    for tick in ticks:
        if kept and tick["x"] - kept[-1]["x"] < gap:
            if tick is ticks[-1] and len(kept) > 1:
                kept[-1] = tick
            continue
        kept.append(tick)
    return kept
