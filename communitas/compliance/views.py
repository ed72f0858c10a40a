"""Compliance pages: the rule packs in force (shipped and the organization's own), a new version of
the organization's pack, the legal-status registry with its lawfulness question, a new registry
row for the deployment's staff, a client's 303 Client Data Form (Oregon SB 303) and the
organization's reporting settings."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from communitas.compliance import selectors, services
from communitas.compliance.forms import (
    ClientDataAnswersForm,
    LawfulnessForm,
    LegalStatusRowForm,
    ReportingSettingsForm,
    RulePackForm,
)
from communitas.compliance.legal_status import LegalStatusInputError
from communitas.compliance.models import ClientDataForm
from communitas.compliance.permissions import (
    can_edit_legal_status,
    can_manage_reporting_settings,
    can_manage_rule_packs,
    can_record_client_data,
    can_view_compliance,
    require,
)
from communitas.compliance.rulepacks import ComplianceInputError, RulePack, has_shipped_pack, shipped_packs
from communitas.compliance.sb303 import ClientDataError, definition
from communitas.participants.selectors import participant_get_for_user


def _pack_view(pack: RulePack) -> dict:
    """What the page prints of a pack: each table with its citations."""
    duration = pack.duration
    return {
        "pack": pack,
        "ratio": sorted(pack.group_ratio.bands, key=lambda b: b.min_mg),
        "duration": sorted(duration.bands, key=lambda b: b.min_mg) if duration else [],
        "low_dose": duration.low_dose if duration else None,
        "sources": sorted(pack.sources.items()),
    }


@login_required
def rule_packs(request):
    membership = require(can_view_compliance, request.membership)
    organization = membership.organization
    own = list(selectors.organization_rule_packs(organization.pk))
    jurisdiction = organization.jurisdiction
    context = {
        "shipped": [_pack_view(pack) for pack in shipped_packs().packs],
        "gaps": shipped_packs().gaps,
        "own": own,
        "jurisdiction": jurisdiction,
        "needs_own": bool(jurisdiction) and not has_shipped_pack(jurisdiction),
        "current": selectors.organization_rule_pack(organization.pk, jurisdiction, on=timezone.localdate())
        if jurisdiction
        else None,
        "can_manage": can_manage_rule_packs(membership),
        "can_manage_reporting": can_manage_reporting_settings(membership),
    }
    return render(request, "compliance/rule_packs.html", context)


@login_required
def rule_pack_detail(request, pack_id: int):
    membership = require(can_view_compliance, request.membership)
    row = selectors.organization_rule_pack_get(membership.organization_id, pack_id)
    if request.GET.get("format") == "json":
        response = HttpResponse(json.dumps(row.pack, indent=1, ensure_ascii=False), content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="rule-pack-{row.jurisdiction}-{row.effective_from}.json"'
        )
        return response
    return render(request, "compliance/rule_pack_detail.html", {"row": row, **_pack_view(row.rule_pack())})


@login_required
def rule_pack_add(request):
    membership = require(can_manage_rule_packs, request.membership)
    organization = membership.organization
    today = timezone.localdate()
    if request.method == "POST":
        form = RulePackForm(request.POST)
        if form.is_valid():
            data = form.pack_data()
            if form.is_valid():  # pack_data adds row-level errors
                try:
                    row = services.organization_rule_pack_add(actor=request.user, organization=organization, data=data)
                except ComplianceInputError as exc:
                    form.add_error(None, str(exc))
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("Rule pack saved. Sessions are checked against it from its date."))
                    return redirect("compliance:rule_pack", row.pk)
    else:
        jurisdiction = request.GET.get("jurisdiction") or organization.jurisdiction or ""
        current = selectors.organization_rule_pack(organization.pk, jurisdiction) if jurisdiction else None
        initial = RulePackForm.initial_from(
            current.rule_pack() if current else None, jurisdiction=jurisdiction, today=today
        )
        form = RulePackForm(initial=initial)
    return render(request, "compliance/rule_pack_form.html", {"form": form})


@login_required
def legal_status(request):
    require(can_view_compliance, request.membership)
    form = LawfulnessForm(request.GET or None)
    answer = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            answer = selectors.lawfulness_get(
                jurisdiction=data["jurisdiction"],
                substance=data["substance"],
                framework=data["framework"],
                on=data["on"] or timezone.localdate(),
            )
        except LegalStatusInputError as exc:
            form.add_error(None, str(exc))
    substance = form.cleaned_data.get("substance") if form.is_bound and form.is_valid() else None
    rows = selectors.legal_status_rows(substance=substance)
    context = {
        "form": form,
        "answer": answer,
        "rows": rows,
        "can_edit": can_edit_legal_status(request.user),
        "today": timezone.localdate(),
    }
    return render(request, "compliance/legal_status.html", context)


@login_required
def legal_status_add(request):
    if not can_edit_legal_status(request.user):
        raise PermissionDenied
    form = LegalStatusRowForm(request.POST or None, initial={"effective_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.legal_status_row_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.update_error_dict({}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Registry row added. It applies to every organization from its date."))
            return redirect("compliance:legal_status")
    return render(request, "compliance/legal_status_form.html", {"form": form})


@login_required
def client_data(request, participant_id: int):
    """A client's 303 Client Data Form: the newest form's state, and a new form (a new row)."""
    membership = require(can_record_client_data, request.membership)
    participant = participant_get_for_user(membership, participant_id)
    newest = selectors.client_data_newest(participant)
    initial = ClientDataAnswersForm.initial_for(newest=newest, language=participant.preferred_language)
    form = ClientDataAnswersForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            services.client_data_record(
                participant=participant, actor=request.user, via=ClientDataForm.Via.STAFF, **form.record_kwargs()
            )
        except ClientDataError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("303 Client Data Form saved."))
            return redirect("compliance:client_data", participant.pk)
    context = {"participant": participant, "newest": newest, "form": form, "source": definition().source}
    return render(request, "compliance/client_data.html", context, status=400 if form.errors else 200)


@login_required
def reporting_settings(request):
    """How the organization's regulator reports are built: SB 303 opt-out scope, small cells."""
    membership = require(can_manage_reporting_settings, request.membership)
    current = selectors.reporting_settings_get(membership.organization_id)
    initial = {"opt_out_scope": current.sb303_opt_out_scope, "threshold": current.small_cell_threshold}
    form = ReportingSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            services.reporting_settings_set(
                organization=membership.organization,
                actor=request.user,
                opt_out_scope=form.cleaned_data["opt_out_scope"],
                threshold=form.cleaned_data["threshold"],
            )
        except ComplianceInputError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Reporting settings saved. The next report uses them."))
            return redirect("compliance:reporting_settings")
    context = {"form": form, "saved": current.pk is not None}
    return render(request, "compliance/reporting_settings.html", context, status=400 if form.errors else 200)
