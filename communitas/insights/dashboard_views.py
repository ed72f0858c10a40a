"""A program's insights dashboard: enrolment funnel, assessments due and completed, attrition, mean
change with CIs, reliable change, attendance and engagement, and the community-effect panel.

Coordinators and administrators see the whole program (aggregates only). Researchers see only
participants who consented to research, circles by letter instead of name, and every count under
the small-cell threshold hidden (``suppression``). Each plot has its numbers one click away.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from communitas.accounts.models import Membership
from communitas.insights import charts, snapshots, suppression
from communitas.insights.analysis_views import latest_run, panel_context
from communitas.insights.permissions import require_research_reader
from communitas.insights.views import _program
from communitas.outcomes.registry import instruments_for

RC_CATEGORIES = [
    ("reliably_improved", "Reliably improved"),
    ("no_reliable_change", "No reliable change"),
    ("reliably_deteriorated", "Reliably deteriorated"),
]


@login_required
def dashboard(request, program_id: int):
    membership = require_research_reader(request.membership)
    program = _program(membership, program_id)
    researcher = membership.role == Membership.Role.RESEARCHER
    k = suppression.threshold() if researcher else None
    codes = snapshots.instrument_codes(program)
    instrument = request.GET.get("instrument")
    if instrument not in codes:
        instrument = "phq9" if "phq9" in codes else (codes[0] if codes else None)
    available = instruments_for(program.organization_id)
    names = {code: available[code].name if code in available else code for code in codes}
    audience = snapshots.RESEARCH if researcher else snapshots.STAFF
    computed = snapshots.figures(program, audience=audience, instrument=instrument)
    figures = computed.values
    funnel, progress, attendance = figures["funnel"], figures["progress"], figures["attendance"]
    change, attrition = figures["change"], figures["attrition"]
    rc_rows = [{**row, "name": names.get(row["code"], row["code"])} for row in figures["rc_rows"]]

    progress = [{**row, "name": names.get(row["instrument"], row["instrument"])} for row in progress]
    selected = [row for row in progress if row["instrument"] == instrument]
    run = latest_run(program, instrument)
    context = {
        "program": program,
        "researcher": researcher,
        "threshold": k,
        "instrument_choices": [(code, names[code]) for code in codes],
        "instrument": instrument,
        "instrument_name": names.get(instrument or "", ""),
        "cohort_size": figures["cohort_size"],
        "computed_at": computed.computed_at,
        "funnel": funnel,
        "funnel_chart": charts.funnel_chart(funnel),
        "progress": progress,
        "progress_selected": selected,
        "completion_chart": charts.bar_chart(
            [_completion(row) for row in selected if row["due"] != 0],
            x_label=_("Completed, of those due"),
            max_value=1.0,
        ),
        "attrition": attrition,
        "change": change,
        "change_chart": _change_chart(change),
        "rc_rows": rc_rows,
        "rc_chart": _rc_chart(rc_rows, names),
        "attendance": attendance,
        "attendance_chart": charts.bar_chart(
            [  # circles with no meeting yet have no rate: table only (None would draw as suppressed)
                {"label": row["circle"], "value": row["attendance_rate"], "note": ""}
                for row in attendance.get("circles", [])
                if row["attendance_rate"] is not None or row.get("suppressed")
            ],
            x_label=_("Share of expected attendances present"),
            max_value=1.0,
        ),
        "engagement_chart": charts.histogram_chart(
            attendance.get("engagement_bins", []), x_label=_("Circle meetings attended / offered, per participant")
        ),
        **{f"panel_{key}": value for key, value in panel_context(run, program=program, instrument=instrument).items()},
    }
    return render(request, "insights/dashboard.html", context)


def _completion(row: dict) -> dict:
    due, done = row["due"], row["completed"]
    value = None if due is None or done is None else min(done / due, 1.0)
    return {"label": row["timepoint"], "value": value, "note": "" if value is None else f"{done}/{due}"}


def _change_chart(change: dict | None):
    if not change:
        return None
    return charts.change_chart(
        change.get("points", []), higher_is_better=change.get("higher_is_better", False), unit=_("points")
    )


def _rc_chart(rows: list[dict], names: dict[str, str]):
    shown = [
        {"label": names.get(row["code"], row["code"]), "counts": row.get("counts", {})}
        for row in rows
        if row.get("available", True) and row.get("counts")
    ]
    return charts.stacked_chart(shown, [(code, _(label)) for code, label in RC_CATEGORIES])
