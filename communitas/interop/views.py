"""Reports and exports in the web app: the reports home (what is due, what left and when) and the
Oregon SB 303 quarterly report as a printable page and a CSV. Every rendering is logged."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from communitas.interop.models import ExportLog
from communitas.interop.permissions import require_reporter
from communitas.interop.sb303 import Quarter, ReportError, sb303_report


def _quarters(today) -> list[Quarter]:
    current = Quarter.of(today)
    quarters = [current.previous()]
    while len(quarters) < 4:
        quarters.append(quarters[-1].previous())
    return quarters


@login_required
def reports_home(request):
    membership = require_reporter(request.membership)
    organization = membership.organization
    today = timezone.localdate()
    logs = ExportLog.objects.filter(organization=organization).select_related("actor").order_by("-created_at")[:50]
    generated = set(
        ExportLog.objects.filter(organization=organization, kind=ExportLog.Kind.SB303).values_list(
            "parameters__quarter", flat=True
        )
    )
    quarters = [
        {"quarter": q, "generated": q.label in generated, "overdue": q.due < today and q.label not in generated}
        for q in _quarters(today)
    ]
    from communitas.interop.fhir_bundle import IDENTIFIED_EXPORT_ROLES
    from communitas.programs.models import Program

    programs = Program.objects.filter(organization=organization, assessment_schedules__isnull=False).distinct()
    return render(
        request,
        "interop/home.html",
        {
            "quarters": quarters,
            "logs": logs,
            "oregon": organization.jurisdiction == "US-OR",
            "today": today,
            "programs": programs.order_by("name"),
            "may_identify": membership.role in IDENTIFIED_EXPORT_ROLES,
            "quarter_start": Quarter.of(today).previous().start,
            "quarter_end": Quarter.of(today).previous().end,
        },
    )


@login_required
def sb303(request, quarter: str):
    membership = require_reporter(request.membership)
    try:
        parsed = Quarter.parse(quarter)
    except ReportError as exc:
        raise Http404(str(exc)) from exc
    fmt = "csv" if request.GET.get("format") == "csv" else "page"
    report, content, _log = sb303_report(
        organization=membership.organization, quarter=parsed, actor=request.user, via="web", fmt="csv"
    )
    if fmt == "csv":
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="sb303-{membership.organization.slug}-{parsed.label}.csv"'
        )
        return response
    return render(request, "interop/sb303.html", {"report": report, "quarter": parsed})
