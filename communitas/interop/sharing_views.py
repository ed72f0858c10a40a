"""Data-sharing agreement pages under /reports/sharing/ (coordinators and administrators): the
owner's agreements, a form to make one and a button to revoke it, with what recipients downloaded;
and the agreements the organization receives, each active one with its FHIR Bundle download.
Included in ``interop/urls.py`` (namespace ``reports``)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from communitas.interop import sharing
from communitas.interop.models import ExportLog
from communitas.interop.permissions import require_reporter
from communitas.interop.sharing_bundle import SHARED_RESOURCES
from communitas.participants.models import ConsentScope, Participant

SCOPE_CHOICES = [
    (scope, format_lazy("{} ({})", ConsentScope(scope).label, ", ".join(kinds)))
    for scope, kinds in SHARED_RESOURCES.items()
]


class AgreementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    recipient = forms.SlugField(
        label=_("Recipient organization's identifier"),
        max_length=80,
        help_text=_("The recipient finds it on their own data-sharing page."),
    )
    participants = forms.ModelMultipleChoiceField(
        queryset=Participant.objects.none(), widget=forms.CheckboxSelectMultiple, label=_("Participants")
    )
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label=_("Consent scopes shared"),
        help_text=_("Every participant's newest consent must grant each scope chosen."),
    )
    starts_on = forms.DateField(label=_("Starts"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Ends (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        people = Participant.objects.filter(organization=organization, archived_at__isnull=True).order_by("pseudonym")
        field = self.fields["participants"]
        field.queryset = people  # type: ignore[attr-defined]
        field.label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]


def _create(request, membership, form: AgreementForm) -> bool:
    data = form.cleaned_data
    try:
        sharing.agreement_create(
            organization=membership.organization,
            actor=request.user,
            recipient=data["recipient"],
            title=data["title"],
            participant_ids=[p.pk for p in data["participants"]],
            scopes=data["scopes"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
    except sharing.SharingError as exc:
        form.add_error(None, str(exc))
        return False
    messages.success(request, _("The agreement is saved."))
    return True


def _downloads(organization_id: int, owned: list) -> list[dict]:
    """What recipients took under the organization's agreements, newest first (the export log)."""
    by_id = {a.pk: a for a in owned}
    logs = ExportLog.objects.filter(organization_id=organization_id, parameters__has_key="sharing_agreement")
    return [
        {"log": log, "agreement": by_id.get(log.parameters["sharing_agreement"])}
        for log in logs.select_related("actor").order_by("-created_at")[:50]
    ]


@login_required
def agreements(request):
    membership = require_reporter(request.membership)
    form = AgreementForm(request.POST or None, organization=membership.organization)
    if request.method == "POST" and form.is_valid() and _create(request, membership, form):
        return redirect("reports:sharing")
    today = timezone.localdate()
    owned = list(sharing.agreements_owned(membership.organization_id).annotate(listed=Count("participants")))
    rows = [{"agreement": a, "status": sharing.agreement_status(a, today)} for a in owned]
    context = {"form": form, "rows": rows, "downloads": _downloads(membership.organization_id, owned)}
    return render(request, "interop/sharing.html", context)


@login_required
@require_POST
def revoke(request, agreement_id: int):
    membership = require_reporter(request.membership)
    agreement = sharing.agreement_get_for_owner(membership, agreement_id)
    sharing.agreement_revoke(agreement=agreement, actor=request.user)
    messages.success(request, _("The agreement is revoked: nothing more crosses under it."))
    return redirect("reports:sharing")


@login_required
def received(request):
    membership = require_reporter(request.membership)
    today = timezone.localdate()
    rows = [
        {"agreement": a, "status": sharing.agreement_status(a, today), "types": sharing.resource_types(a.scopes)}
        for a in sharing.agreements_received(membership.organization_id)
    ]
    context = {"rows": rows, "identifier": membership.organization.slug}
    return render(request, "interop/sharing_received.html", context)


@login_required
def bundle(request, agreement_id: int):
    membership = require_reporter(request.membership)
    agreement = sharing.agreement_get_for_recipient(membership, agreement_id, timezone.localdate())
    data = sharing.agreement_bundle_export(agreement=agreement, actor=request.user, membership=membership, via="web")
    response = HttpResponse(json.dumps(data, indent=1), content_type="application/fhir+json")
    name = f"shared-{agreement.organization.slug}-{agreement.pk}-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("sharing/", agreements, name="sharing"),
    path("sharing/<int:agreement_id>/revoke", revoke, name="sharing_revoke"),
    path("sharing/received/", received, name="sharing_received"),
    path("sharing/received/<int:agreement_id>/bundle.json", bundle, name="sharing_bundle"),
]
