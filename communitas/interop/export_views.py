"""Export pages: the de-identified research export (research projects and an export form, for
researchers, coordinators and administrators), a program's REDCap files (a zip), the FHIR bundle
(download; import of questionnaire responses) and Colorado session records. Each download is
logged by the service that builds it; refusals save and log nothing."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from communitas.insights.permissions import require_research_reader
from communitas.interop.colorado import ColoradoExportError, colorado_export
from communitas.interop.models import ResearchProject
from communitas.interop.permissions import require_reporter
from communitas.interop.research_export import ALLOWED_FIELDS, ExportError, as_csv, project_create, research_export
from communitas.programs.models import Program

MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _download(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ResearchExportForm(forms.Form):
    project = forms.ModelChoiceField(queryset=ResearchProject.objects.none(), label=_("Research project"))
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(), required=False, label=_("Program (all programs when empty)")
    )
    columns = forms.MultipleChoiceField(
        choices=[(f.name, f"{f.name}: {f.description}") for f in ALLOWED_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        label=_("Fields (only these can ever leave)"),
    )
    dates = forms.ChoiceField(
        choices=[("days", _("Days from baseline (no dates)")), ("shift", _("Dates shifted per participant"))],
        label=_("Dates"),
    )
    k = forms.IntegerField(min_value=2, max_value=100, required=False, label=_("k (default: the organization's)"))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        projects = ResearchProject.objects.filter(organization=organization).order_by("name")
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        programs = Program.objects.filter(organization=organization).order_by("name")
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]


@login_required
def research(request):
    membership = require_research_reader(request.membership)
    organization = membership.organization
    form = ResearchExportForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = research_export(
                project=data["project"],
                program=data["program"],
                fields=data["columns"],
                dates=data["dates"],
                k=data["k"],
                actor=request.user,
                via="web",
            )
        except ExportError as exc:
            form.add_error(None, str(exc))
        else:
            name = (
                f"research-{organization.slug}-{timezone.localdate().isoformat()}-k{export.k_achieved or export.k}.csv"
            )
            return _download(as_csv(export), name, "text/csv; charset=utf-8")
    projects = ResearchProject.objects.filter(organization=organization).order_by("name")
    return render(request, "interop/research.html", {"form": form, "projects": projects})


@login_required
@require_POST
def research_project_create(request):
    membership = require_research_reader(request.membership)
    try:
        project_create(organization=membership.organization, name=request.POST.get("name", ""), actor=request.user)
    except ExportError as exc:
        messages.error(request, str(exc))
    return redirect("reports:research")


@login_required
def redcap(request, program_id: int):
    membership = require_reporter(request.membership)
    program = Program.objects.filter(organization_id=membership.organization_id, pk=program_id).first()
    if program is None:
        raise Http404("no such program")
    from communitas.interop.redcap import redcap_export

    export = redcap_export(program=program, actor=request.user, via="web")
    stem = f"{membership.organization.slug}-program-{program.pk}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}-data_dictionary.csv", export.dictionary_csv)
        archive.writestr(f"{stem}-records.csv", export.records_csv)
        archive.writestr(f"{stem}-events.csv", export.events_csv)
        archive.writestr(f"{stem}-instrument_event_mapping.csv", export.mappings_csv)
    return _download(buffer.getvalue(), f"{stem}-redcap.zip", "application/zip")


@login_required
def fhir(request):
    membership = require_reporter(request.membership)
    from communitas.interop.fhir_bundle import IDENTIFIED_EXPORT_ROLES, fhir_export  # fhir.resources: on first use

    identified = request.GET.get("identified") == "1"
    if identified and membership.role not in IDENTIFIED_EXPORT_ROLES:
        raise PermissionDenied
    bundle = fhir_export(
        organization=membership.organization,
        actor=request.user,
        membership=membership,
        identified=identified,
        via="web",
    )
    name = f"fhir-{membership.organization.slug}-{'identified' if identified else 'pseudonymous'}.json"
    return _download(json.dumps(bundle, indent=1), name, "application/fhir+json")


@login_required
def fhir_upload(request):
    membership = require_reporter(request.membership)
    from communitas.interop.fhir_bundle import fhir_import

    result = None
    error: str = ""
    if request.method == "POST":
        upload = request.FILES.get("bundle")
        if upload is None:
            error = str(_("Choose a FHIR Bundle (JSON) to import."))
        elif upload.size > MAX_IMPORT_BYTES:
            error = str(_("The file is larger than 20 MB."))
        else:
            result = fhir_import(
                organization=membership.organization, bundle=upload.read(), actor=request.user, via="web"
            )
    return render(request, "interop/fhir_import.html", {"result": result, "error": error})


@login_required
def colorado(request):
    membership = require_reporter(request.membership)
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
        end = datetime.date.fromisoformat(request.GET.get("end", ""))
        content, _log = colorado_export(
            organization=membership.organization, start=start, end=end, actor=request.user, via="web"
        )
    except (ValueError, ColoradoExportError) as exc:
        messages.error(request, _("Colorado session records: %(error)s") % {"error": exc})
        return redirect("reports:home")
    return _download(content, f"colorado-sessions-{start}-{end}.csv", "text/csv; charset=utf-8")
