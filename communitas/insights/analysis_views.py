"""The community-effect panel: request an analysis (POST), follow its progress (htmx polls the
panel until it is finished), read the result."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from communitas.insights import charts
from communitas.insights.labels import TERM_LABELS
from communitas.insights.models import AnalysisRun
from communitas.insights.permissions import require_research_reader
from communitas.insights.services import AnalysisRequestError, analysis_run_request
from communitas.insights.views import INSTRUMENT, _program


def panel_context(run: AnalysisRun | None, *, program, instrument: str | None) -> dict:
    """What ``insights/_community_effect.html`` needs, for a run in any state (or none)."""
    context: dict = {"run": run, "program": program, "instrument": instrument}
    if run is None or run.status != AnalysisRun.Status.DONE:
        return context
    result = dict(run.result)
    result["terms"] = [{**t, "label": str(TERM_LABELS.get(t["name"], t["name"]))} for t in result.get("terms", [])]
    engagement_label, change_label = _axis_labels(result)
    context["scatter"] = charts.scatter_chart(
        result.get("points", []),
        x_label=engagement_label,
        y_label=change_label,
        line=tuple(result["line"]) if result.get("line") else None,
    )
    context["forest"] = charts.forest_chart(
        [
            {"name": t["label"], "estimate": t["estimate"], "ci_low": t["ci_low"], "ci_high": t["ci_high"], "p": t["p"]}
            for t in result.get("terms", [])
            if t["name"] != "Intercept"
        ]
    )
    context["result"] = result
    return context


def _axis_labels(result: dict) -> tuple[str, str]:
    from django.utils.translation import gettext as _

    name = result.get("instrument", {}).get("name", "")
    return _("Circle meetings attended (share of those offered)"), _("Change from baseline, %(name)s") % {"name": name}


def latest_run(program, instrument: str | None) -> AnalysisRun | None:
    if not instrument:
        return None
    return AnalysisRun.objects.filter(program=program, instrument_code=instrument).order_by("-pk").first()


@login_required
@require_POST
def analysis_request(request, program_id: int):
    membership = require_research_reader(request.membership)
    program = _program(membership, program_id)
    instrument = request.POST.get("instrument", "")
    if not INSTRUMENT.fullmatch(instrument):
        raise Http404("no such instrument")
    try:
        analysis_run_request(program=program, instrument_code=instrument, actor=request.user)
    except AnalysisRequestError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("insights:dashboard", args=[program.pk]) + f"?instrument={instrument}#community-effect")


@login_required
def analysis_panel(request, run_id: int):
    membership = require_research_reader(request.membership)
    run = (
        AnalysisRun.objects.filter(organization_id=membership.organization_id, pk=run_id)
        .select_related("program")
        .first()
    )
    if run is None:
        raise Http404("no such analysis")
    context = panel_context(run, program=run.program, instrument=run.instrument_code)
    return render(request, "insights/_community_effect.html", context)
