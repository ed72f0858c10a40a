"""Research downloads: a program's analysis dataset (CSV, one row per participant and wave) and
its data dictionary. Each download is audited (who, which program, instrument, how many rows)."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from communitas.core.audit import audit_record
from communitas.insights.dataset import FIELDS, analysis_rows, as_csv, as_parquet, dictionary_csv
from communitas.insights.permissions import require_research_reader
from communitas.outcomes.models import AssessmentSchedule
from communitas.programs.models import Program

INSTRUMENT = re.compile(r"^[a-z0-9_]{1,40}$")


def _program(membership, program_id: int) -> Program:
    program = Program.objects.filter(organization_id=membership.organization_id, pk=program_id).first()
    if program is None:
        raise Http404("no such program")
    return program


def _download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def dataset_csv(request, program_id: int):
    return _dataset(request, program_id, "csv")


@login_required
def dataset_parquet(request, program_id: int):
    return _dataset(request, program_id, "parquet")


def _dataset(request, program_id: int, fmt: str) -> HttpResponse:
    membership = require_research_reader(request.membership)
    program = _program(membership, program_id)
    instrument = request.GET.get("instrument", "phq9")
    if not INSTRUMENT.fullmatch(instrument):
        return HttpResponse("instrument: a code such as phq9", status=400, content_type="text/plain")
    rows = analysis_rows(program, instrument=instrument)
    audit_record(
        action="insights.dataset.downloaded",
        actor=request.user,
        organization_id=membership.organization_id,
        obj=program,
        data={"instrument": instrument, "rows": len(rows), "fields": FIELDS, "format": fmt},
    )
    filename = f"program-{program.pk}-{instrument}.{fmt}"
    if fmt == "parquet":
        response = HttpResponse(as_parquet(rows), content_type="application/vnd.apache.parquet")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return _download(as_csv(rows), filename)


@login_required
def dictionary(request, program_id: int):
    membership = require_research_reader(request.membership)
    program = _program(membership, program_id)
    return _download(dictionary_csv(), f"program-{program.pk}-dictionary.csv")


@login_required
def research_home(request):
    membership = require_research_reader(request.membership)
    programs = list(Program.objects.filter(organization_id=membership.organization_id).order_by("name"))
    codes: dict[int, list[str]] = {}
    schedules = AssessmentSchedule.objects.filter(program__in=programs).order_by("instrument_code")
    for program_id, code in schedules.values_list("program_id", "instrument_code"):
        codes.setdefault(program_id, []).append(code)
    rows = [(program, codes.get(program.pk, [])) for program in programs]
    return render(request, "insights/home.html", {"programs": rows})
