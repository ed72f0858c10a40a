"""The insights charts: pure geometry (communitas/insights/charts.py) drawn by CSP-safe SVG partials."""

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from communitas.insights import charts

CATEGORIES = [("improved", "Reliably improved"), ("same", "No reliable change"), ("worse", "Reliably deteriorated")]


def render(kind, chart):
    return render_to_string(f"insights/charts/_{kind}.html", {"chart": chart})


def svg(kind, chart):
    """Rendered partial parsed as XML (it must be well formed)."""
    return ET.fromstring(render(kind, chart))


def by_class(root, tag, css):
    return [el for el in root.iter(tag) if css in el.get("class", "").split()]


def stages(*counts):
    names = ["Enquired", "Screened", "Enrolled", "Completed", "Followed up"]
    return [{"code": n.lower(), "label": n, "count": c} for n, c in zip(names, counts, strict=False)]


def change_points():
    return [
        {"timepoint": "baseline", "label": "Baseline", "n": 40, "mean": 0.0, "ci_low": 0.0, "ci_high": 0.0},
        {"timepoint": "week4", "label": "Week 4", "n": 31, "mean": -3.2, "ci_low": -5.1, "ci_high": -1.3},
        {"timepoint": "week8", "label": "Week 8", "n": 3, "mean": None, "ci_low": -17.77, "ci_high": 13.31},
        {"timepoint": "week12", "label": "Week 12", "n": 25, "mean": -6.5, "ci_low": -8.0, "ci_high": -5.0},
    ]


def every_chart(label="Circle A"):
    return {
        "funnel": charts.funnel_chart([{"code": "a", "label": label, "count": 5}]),
        "change": charts.change_chart(
            [{"timepoint": "t", "label": label, "n": 9, "mean": 1.0, "ci_low": 0.0, "ci_high": 2.0}],
            higher_is_better=True,
            unit="points",
        ),
        "stacked": charts.stacked_chart(
            [{"label": label, "counts": {"improved": 3, "same": 2, "worse": 1}}], CATEGORIES
        ),
        "histogram": charts.histogram_chart([{"low": 0, "high": 5, "count": 4}], x_label=label),
        "scatter": charts.scatter_chart([{"x": 0.5, "y": 1.0}], x_label=label, y_label=label, line=None),
        "forest": charts.forest_chart([{"name": label, "estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5, "p": 0.01}]),
        "bars": charts.bar_chart([{"label": label, "value": 0.5, "note": label}], x_label=label, max_value=1),
    }


# Every chart --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["funnel", "change", "stacked", "histogram", "scatter", "forest", "bars"])
def test_it_draws_an_accessible_svg_without_inline_style(kind):
    chart = every_chart()[kind]
    html = render(kind, chart)
    root = ET.fromstring(html)
    assert root.tag == "svg" and root.get("role") == "img" and root.get("data-chart") == kind
    assert f"chart-{kind}" in root.get("class").split()
    assert root.get("aria-label") == chart.description and chart.description.endswith(".")
    assert root.find("title").text == chart.title and root.find("desc").text == chart.description
    assert root.get("viewBox") == f"0 0 {chart.width} {chart.height}"
    assert "style=" not in html and "<script" not in html
    assert len(list(root.iter("title"))) > 1, "marks carry a hover title"


@pytest.mark.parametrize("kind", ["funnel", "change", "stacked", "histogram", "scatter", "forest", "bars"])
def test_it_escapes_user_text(kind):
    html = render(kind, every_chart(label='<script>alert("x")</script>')[kind])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    ET.fromstring(html)


@pytest.mark.parametrize(
    ("kind", "chart"),
    [
        ("funnel", charts.funnel_chart([])),
        ("change", charts.change_chart([], higher_is_better=False, unit="points")),
        ("stacked", charts.stacked_chart([], CATEGORIES)),
        ("stacked", charts.stacked_chart([{"label": "PHQ-9", "counts": {}}], [])),
        ("histogram", charts.histogram_chart([], x_label="Score")),
        ("scatter", charts.scatter_chart([], x_label="x", y_label="y", line=(1.0, 2.0))),
        ("forest", charts.forest_chart([])),
        ("bars", charts.bar_chart([], x_label="Attendance")),
    ],
)
def test_it_draws_an_empty_chart_for_no_data(kind, chart):
    root = svg(kind, chart)
    assert chart.empty
    assert chart.description == "No data to show."
    assert [t.text for t in by_class(root, "text", "empty-text")] == ["No data to show."]
    assert not by_class(root, "rect", "bar") and not list(root.iter("circle"))


def test_it_keeps_coordinates_unlocalised_and_numbers_localised_in_spanish():
    with translation.override("es"):
        chart = charts.forest_chart(
            [{"name": "Seguimiento", "estimate": 0.45, "ci_low": 0.125, "ci_high": 0.78, "p": 0.5}]
        )
        html = render("forest", chart)
    root = ET.fromstring(html)
    assert "0,45 [0,12, 0,78]" in html or "0,45 [0,13, 0,78]" in html
    for el in root.iter():
        for attr in ("x", "y", "cx", "cy", "x1", "x2", "y1", "y2", "width", "height"):
            if el.get(attr) is not None:
                float(el.get(attr))  # "12,5" would fail


def test_it_rounds_coordinates_to_one_decimal():
    html = render(
        "scatter",
        charts.scatter_chart(
            [{"x": 1 / 3, "y": 2 / 7}, {"x": 0.9, "y": 0.1}], x_label="x", y_label="y", line=(0.1, 0.3)
        ),
    )
    numbers = re.findall(r' (?:cx|cy|x1|x2|y1|y2)="([-\d.]+)"', html)
    assert numbers and all(len(n.split(".")[1]) <= 1 for n in numbers if "." in n)


# Ticks -------------------------------------------------------------------------------------


def test_it_picks_round_ticks_covering_the_values():
    assert charts.nice_ticks([0, 9.2]) == [0, 2, 4, 6, 8, 10]
    assert charts.nice_ticks([-5.1, 0]) == [-6, -5, -4, -3, -2, -1, 0]
    assert charts.nice_ticks([0.013, 0.4]) == [0, 0.1, 0.2, 0.3, 0.4]
    assert charts.nice_ticks([0, 7], integer=True) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert charts.nice_ticks([0, 3], integer=True) == [0, 1, 2, 3]
    assert charts.nice_ticks([0, 0], integer=True) == [0, 1]


@pytest.mark.parametrize("values", [[], [3.0], [3.0, 3.0], [0.0, 0.0], [-2.0, -2.0], [None, math.nan, math.inf]])
def test_it_never_gives_a_zero_span(values):
    ticks = charts.nice_ticks(values)
    assert len(ticks) >= 2 and ticks[0] < ticks[-1]
    assert all(ticks[0] <= v <= ticks[-1] for v in values if v is not None and math.isfinite(v))


# 1. Funnel ---------------------------------------------------------------------------------


def test_it_draws_funnel_bars_proportional_to_the_counts():
    chart = charts.funnel_chart(stages(120, 80, 30))
    widths = [b["w"] for b in chart.bars]
    assert widths[0] == chart.track["w"]
    assert widths[1] / widths[0] == pytest.approx(80 / 120, abs=0.01)
    assert widths[2] / widths[0] == pytest.approx(30 / 120, abs=0.01)
    assert [b["text"] for b in chart.bars] == ["120 (100%)", "80 (67%)", "30 (25%)"]
    assert chart.bars[1]["label"] == "Screened: 80 (67%)"
    assert chart.bars[2]["text_x"] == pytest.approx(chart.track["x"] + widths[2] + 6, abs=0.1)


def test_it_outlines_a_suppressed_funnel_stage_without_a_number():
    chart = charts.funnel_chart(stages(120, None, 40))
    root = svg("funnel", chart)
    hidden = [el for el in root.iter("rect") if el.get("data-suppressed")]
    assert len(hidden) == 1 and "suppressed" in hidden[0].get("class")
    assert hidden[0].find("title").text == "Screened: suppressed"
    assert len(by_class(root, "rect", "bar")) == 2
    assert chart.bars[2]["text"] == "40 (33%)"


def test_it_leaves_out_percentages_when_the_first_stage_is_suppressed_or_zero():
    assert [b["text"] for b in charts.funnel_chart(stages(None, 80, 40)).bars] == ["suppressed", "80", "40"]
    chart = charts.funnel_chart(stages(0, 0))
    assert [b["text"] for b in chart.bars] == ["0", "0"] and [b["w"] for b in chart.bars] == [0, 0]


# 2. Change from baseline -------------------------------------------------------------------


def test_it_brackets_each_mean_with_its_confidence_interval():
    chart = charts.change_chart(change_points(), higher_is_better=False, unit="points")
    for point in chart.points:
        if point["has_ci"]:
            assert point["y_high"] <= point["y"] <= point["y_low"]  # SVG y grows downwards
    week4 = chart.points[1]
    assert week4["label"] == "Week 4: mean change -3.2 points (95% CI -5.1 to -1.3), n = 31"


def test_it_puts_the_zero_line_at_zero_and_spaces_time_points_evenly():
    chart = charts.change_chart(change_points(), higher_is_better=False, unit="points")
    zero_tick = next(t for t in chart.y_ticks if t["label"] == "0")
    assert chart.zero_y == zero_tick["y"] == chart.points[0]["y"]
    xs = [p["x"] for p in chart.points]
    assert {round(b - a, 1) for a, b in itertools.pairwise(xs)} == {143.0}
    labels = [float(t["label"]) for t in chart.y_ticks]
    assert min(labels) <= -8.0 and max(labels) >= 0
    assert chart.direction == "↓ Lower is better"
    assert charts.change_chart(change_points(), higher_is_better=True, unit="").direction == "↑ Higher is better"


def test_it_hides_a_suppressed_time_point_s_numbers_and_keeps_them_off_the_axis():
    chart = charts.change_chart(change_points(), higher_is_better=False, unit="points")
    html = render("change", chart)
    assert "17.77" not in html and "13.31" not in html and not re.search(r"n = 3\b", html)
    assert min(float(t["label"]) for t in chart.y_ticks) > -17.77  # the hidden CI does not stretch the axis
    week8 = chart.points[2]
    assert week8["suppressed"] and week8["label"] == "Week 8: suppressed (too few responses)"
    assert 'data-suppressed="1">suppressed' in html
    assert len(chart.segments) == 1  # no line is drawn across the gap


def test_it_draws_a_single_flat_time_point():
    chart = charts.change_chart(
        [{"timepoint": "t", "label": "Week 4", "n": 12, "mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}],
        higher_is_better=True,
        unit="points",
    )
    assert chart.points[0]["x"] == chart.plot["cx"] and chart.points[0]["y"] == chart.zero_y
    svg("change", chart)


# 3. Stacked --------------------------------------------------------------------------------


def test_it_fills_each_stacked_row_in_proportion():
    chart = charts.stacked_chart([{"label": "GAD-7", "counts": {"improved": 10, "same": 6, "worse": 4}}], CATEGORIES)
    segments = chart.rows[0]["segments"]
    assert sum(s["w"] for s in segments) == pytest.approx(chart.plot["w"], abs=0.2)
    assert [s["w"] / chart.plot["w"] for s in segments] == pytest.approx([0.5, 0.3, 0.2], abs=0.01)
    assert [s["text"] for s in segments] == ["50%", "30%", "20%"]
    assert segments[0]["label"] == "GAD-7, Reliably improved: 10 (50%)"
    assert [item["name"] for item in chart.legend] == [name for _code, name in CATEGORIES]


def test_it_draws_a_suppressed_stacked_segment_without_its_number():
    chart = charts.stacked_chart([{"label": "PHQ-9", "counts": {"improved": 12, "same": 8, "worse": None}}], CATEGORIES)
    root = svg("stacked", chart)
    hidden = [el for el in root.iter("rect") if el.get("data-suppressed")]
    assert len(hidden) == 1 and hidden[0].find("title").text == "PHQ-9, Reliably deteriorated: suppressed"
    assert chart.legend[-1]["name"] == "suppressed"
    assert chart.rows[0]["name"] == "PHQ-9 *" and "not suppressed" in chart.description
    assert [s["text"] for s in chart.rows[0]["segments"]] == ["60%", "40%", ""]


def test_it_shares_a_known_total_s_remainder_among_suppressed_cells():
    chart = charts.stacked_chart(
        [{"label": "WHO-5", "counts": {"improved": 10, "same": None, "worse": None}, "total": 20}], CATEGORIES
    )
    widths = [s["w"] for s in chart.rows[0]["segments"]]
    assert widths[0] == pytest.approx(chart.plot["w"] / 2, abs=0.1)
    assert widths[1] == widths[2] == pytest.approx(chart.plot["w"] / 4, abs=0.1)
    assert chart.rows[0]["segments"][0]["label"] == "WHO-5, Reliably improved: 10 (50%)"
    assert chart.rows[0]["name"] == "WHO-5"


def test_it_notes_a_stacked_row_with_no_responses():
    chart = charts.stacked_chart([{"label": "PCL-5", "counts": {"improved": 0, "same": 0}}], CATEGORIES)
    assert chart.rows[0]["segments"] == [] and chart.rows[0]["note"] == "no responses"
    svg("stacked", chart)


# 4. Histogram ------------------------------------------------------------------------------


def test_it_draws_histogram_bars_as_tall_as_their_counts():
    bins = [{"low": 0, "high": 5, "count": 4}, {"low": 5, "high": 10, "count": 12}, {"low": 10, "high": 15, "count": 0}]
    chart = charts.histogram_chart(bins, x_label="PHQ-9 total")
    heights = [b["h"] for b in chart.bars]
    assert heights[1] / heights[0] == pytest.approx(3, abs=0.02) and heights[2] == 0
    assert all(b["y"] + b["h"] == pytest.approx(chart.baseline_y, abs=0.1) for b in chart.bars)
    assert chart.bars[1]["x"] - chart.bars[0]["x"] == pytest.approx(chart.bars[2]["x"] - chart.bars[1]["x"], abs=0.1)
    assert chart.bars[1]["label"] == "5 to 10: 12"


def test_it_outlines_a_suppressed_bin_without_its_count():
    bins = [{"low": 0, "high": 5, "count": 40}, {"low": 5, "high": 10, "count": None}]
    chart = charts.histogram_chart(bins, x_label="Score")
    root = svg("histogram", chart)
    hidden = [el for el in root.iter("rect") if el.get("data-suppressed")]
    assert len(hidden) == 1 and hidden[0].find("title").text == "5 to 10: suppressed"
    assert chart.note


@pytest.mark.parametrize(
    "bins",
    [
        [{"low": 3, "high": 3, "count": 2}],
        [{"low": 0, "high": 1, "count": 0}, {"low": 1, "high": 2, "count": 0}],
        [{"low": -10, "high": -5, "count": 2}, {"low": -5, "high": 0, "count": 3}],
        [{"low": 0, "high": 1, "count": None}],
    ],
)
def test_it_draws_odd_histograms(bins):
    chart = charts.histogram_chart(bins, x_label="Score")
    assert len(chart.bars) == len(bins) and all(b["w"] >= 1 and b["h"] >= 0 for b in chart.bars)
    svg("histogram", chart)


# 5. Scatter --------------------------------------------------------------------------------


def test_it_places_scatter_points_and_the_fitted_line_on_the_same_scales():
    points = [{"x": 0.0, "y": 1.0}, {"x": 1.0, "y": 3.0}, {"x": 0.5, "y": 2.0}]
    chart = charts.scatter_chart(points, x_label="Attendance", y_label="Change", line=(1.0, 2.0))
    line = chart.line
    assert (line["x1"], line["y1"]) == (chart.points[0]["x"], chart.points[0]["y"])
    assert (line["x2"], line["y2"]) == (chart.points[1]["x"], chart.points[1]["y"])
    assert chart.points[2]["label"] == "x = 0.5, y = 2"
    assert line["label"] == "Fitted line: y = 1 + 2 \u00d7 x"
    assert chart.x_ticks[0]["x"] == chart.plot["x"] and chart.x_ticks[-1]["x"] == chart.plot["right"]


def test_it_clips_the_fitted_line_to_the_plot():
    points = [{"x": 0.0, "y": 0.0}, {"x": 10.0, "y": 1.0}]
    chart = charts.scatter_chart(points, x_label="x", y_label="y", line=(0.0, 1.0))
    assert chart.plot["y"] <= chart.line["y2"] <= chart.plot["bottom"]
    assert chart.line["x2"] < chart.plot["right"]
    assert "\u2212" in charts.scatter_chart(points, x_label="x", y_label="y", line=(1.0, -0.1)).line["label"]
    assert charts.scatter_chart(points, x_label="x", y_label="y", line=(500.0, 0.0)).line is None


@pytest.mark.parametrize(
    "points",
    [[{"x": 2.0, "y": 2.0}], [{"x": 1.0, "y": 1.0}] * 3, [{"x": -3.0, "y": -1.0}, {"x": math.nan, "y": 1.0}]],
)
def test_it_draws_a_single_or_repeated_point(points):
    chart = charts.scatter_chart(points, x_label="x", y_label="y", line=(0.0, 1.0))
    assert chart.points and not chart.empty
    assert all(chart.plot["x"] < p["x"] < chart.plot["right"] for p in chart.points)
    svg("scatter", chart)


# 6. Forest ---------------------------------------------------------------------------------


def effects():
    return [
        {"name": "Follow-up", "estimate": -4.2, "ci_low": -6.1, "ci_high": -2.3, "p": 0.00001},
        {"name": "Attendance", "estimate": 0.5, "ci_low": -0.25, "ci_high": 1.25, "p": 0.2},
        {"name": "Follow-up \u00d7 attendance", "estimate": -1.1, "ci_low": -3.0, "ci_high": 0.8, "p": 0.27},
    ]


def test_it_lists_forest_rows_in_order_with_their_estimates():
    chart = charts.forest_chart(effects())
    root = svg("forest", chart)
    rows = [g for g in root.iter("g") if g.get("data-effect-row")]
    assert [by_class(g, "text", "name")[0].text for g in rows] == [
        "Follow-up",
        "Attendance",
        "Follow-up \u00d7 attendance",
    ]
    assert [by_class(g, "text", "value")[0].text for g in rows] == [
        "-4.20 [-6.10, -2.30]",
        "0.50 [-0.25, 1.25]",
        "-1.10 [-3.00, 0.80]",
    ]
    ys = [row["y"] for row in chart.panels[0]["rows"]]
    assert ys == sorted(ys)
    assert chart.panels[0]["rows"][0]["label"] == "Follow-up: -4.20 (95% CI -6.10 to -2.30), p < 0.001"
    assert chart.panels[0]["rows"][1]["label"].endswith("p = 0.200")


def test_it_draws_the_forest_zero_line_and_intervals_around_points():
    panel = charts.forest_chart(effects()).panels[0]
    zero = next(t["x"] for t in panel["ticks"] if t["label"] == "0")
    assert panel["zero_x"] == zero
    for row in panel["rows"]:
        assert row["x_low"] <= row["x"] <= row["x_high"]
    assert panel["rows"][0]["x_high"] < zero < panel["rows"][1]["x_high"]


def test_it_gives_each_scale_its_own_forest_panel():
    mixed = [*effects(), {"name": "d per SD", "estimate": 0.3, "ci_low": 0.1, "ci_high": 0.5, "p": 0.01, "scale": "SD"}]
    chart = charts.forest_chart(mixed)
    assert [p["name"] for p in chart.panels] == ["", "SD"]
    assert [len(p["rows"]) for p in chart.panels] == [3, 1]
    assert chart.panels[1]["top"] > chart.panels[0]["bottom"]
    assert float(chart.panels[1]["ticks"][-1]["label"]) < 1  # not squashed onto the points axis
    assert "SD" in render("forest", chart)


def test_it_keeps_zero_on_a_one_sided_forest_axis_and_marks_missing_estimates():
    chart = charts.forest_chart(
        [
            {"name": "Big", "estimate": 12.0, "ci_low": 10.0, "ci_high": 14.0, "p": None},
            {"name": "Missing", "estimate": None, "ci_low": None, "ci_high": None, "p": None},
        ]
    )
    panel = chart.panels[0]
    assert panel["zero_x"] == chart.plot["x"]
    assert panel["rows"][0]["label"] == "Big: 12.00 (95% CI 10.00 to 14.00)"
    assert panel["rows"][1]["suppressed"] and panel["rows"][1]["text"] == "not estimable"
    svg("forest", chart)


# 7. Bars -----------------------------------------------------------------------------------


def test_it_draws_rates_as_percent_bars_up_to_the_maximum():
    rows = [
        {"label": "Circle A", "value": 0.8, "note": "8 of 10 meetings"},
        {"label": "Circle B", "value": 0.4, "note": ""},
    ]
    chart = charts.bar_chart(rows, x_label="Attendance", max_value=1)
    assert chart.percent
    assert chart.bars[0]["w"] == pytest.approx(0.8 * chart.plot["w"], abs=0.1)
    assert chart.bars[1]["w"] / chart.bars[0]["w"] == pytest.approx(0.5, abs=0.01)
    assert [b["text"] for b in chart.bars] == ["80%", "40%"]
    assert chart.bars[0]["label"] == "Circle A: 80% (8 of 10 meetings)"
    assert chart.ticks[-1]["label"] == "100%" and chart.ticks[-1]["x"] == chart.plot["right"]
    assert "8 of 10 meetings" in render("bars", chart)


def test_it_draws_negative_bars_left_of_zero_and_suppressed_rows_without_a_value():
    rows = [
        {"label": "Up", "value": 2.5, "note": ""},
        {"label": "Down", "value": -1.5, "note": ""},
        {"label": "Hidden", "value": None, "note": "n < 11"},
    ]
    chart = charts.bar_chart(rows, x_label="Change")
    up, down, hidden = chart.bars
    assert not chart.percent
    assert up["x"] == chart.zero_x and down["x"] + down["w"] == pytest.approx(chart.zero_x, abs=0.1)
    assert down["w"] / up["w"] == pytest.approx(1.5 / 2.5, abs=0.01)
    assert hidden["suppressed"] and hidden["text"] == "suppressed"
    root = svg("bars", chart)
    assert [el.find("title").text for el in root.iter("rect") if el.get("data-suppressed")] == [
        "Hidden: suppressed (n < 11)"
    ]


def test_it_draws_all_equal_and_all_zero_bars():
    same = charts.bar_chart([{"label": "A", "value": 3.0, "note": ""}] * 2, x_label="x")
    assert same.bars[0]["w"] == same.bars[1]["w"] > 0
    zero = charts.bar_chart([{"label": "A", "value": 0.0, "note": ""}], x_label="x", max_value=1)
    assert zero.bars[0]["w"] == 0 and zero.bars[0]["text"] == "0%"
    svg("bars", zero)


def test_it_survives_missing_and_odd_values():
    change = charts.change_chart(
        [{"timepoint": "t", "label": "Week 4", "n": None, "mean": 1.0, "ci_low": None, "ci_high": 2.0}],
        higher_is_better=True,
        unit="points",
    )
    assert not change.points[0]["has_ci"] and change.points[0]["label"] == "Week 4: mean change 1 points, n = ?"
    stacked = charts.stacked_chart(
        [{"label": "X", "counts": {"improved": math.nan, "same": -2, "worse": 3}}], CATEGORIES
    )
    assert [s["label"] for s in stacked.rows[0]["segments"]] == ["X, Reliably deteriorated: 3 (100%)"]
    funnel = charts.funnel_chart([{"code": "a", "label": "Only", "count": 7}])
    assert funnel.bars[0]["w"] == funnel.track["w"] and funnel.bars[0]["text"] == "7 (100%)"
    for kind, chart in [("change", change), ("stacked", stacked), ("funnel", funnel)]:
        svg(kind, chart)
