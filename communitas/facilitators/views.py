from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communitas.facilitators import rules, selectors, services
from communitas.facilitators.forms import CompetencyForm, CredentialForm, ProfileForm, SupervisionForm, TrainingForm
from communitas.facilitators.models import Credential
from communitas.facilitators.permissions import (
    can_manage_facilitators,
    can_read_supervision_notes,
    can_view_profile,
    require_facilitator_manager,
    require_facilitator_viewer,
    require_profile_viewer,
)

PAGE_SIZE = 50
GAP_LABELS = {
    rules.GAP_NO_JURISDICTION: gettext_lazy("Set the organization's jurisdiction to check licences."),
    rules.GAP_OREGON_LICENCE: gettext_lazy("No Oregon facilitator licence valid today."),
    rules.GAP_COLORADO_LICENCE: gettext_lazy("No Colorado facilitator or clinical facilitator licence valid today."),
    rules.GAP_BLS: gettext_lazy("No Basic Life Support certification valid today (Colorado requires one)."),
    rules.GAP_ACCEPTED_CREDENTIAL: gettext_lazy("No professional licence valid in this jurisdiction today."),
}


def _viewer(request):
    return require_facilitator_viewer(request.membership)


def _manager(request):
    return require_facilitator_manager(request.membership)


def _status(membership, profile):
    jurisdiction = membership.organization.jurisdiction
    status = selectors.licence_status(profile, jurisdiction=jurisdiction, today=timezone.localdate())
    return status, [GAP_LABELS[gap] for gap in status.gaps]


def _add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    for field, errors in exc.update_error_dict({}).items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def facilitator_list(request):
    membership = _viewer(request)
    page = Paginator(selectors.facilitators_for_membership(membership), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(profile, *_status(membership, profile), can_view_profile(membership, profile)) for profile in page]
    context = {"page": page, "rows": rows, "can_manage": can_manage_facilitators(membership)}
    return render(request, "facilitators/list.html", context)


@login_required
def facilitator_detail(request, profile_id: int):
    membership = _viewer(request)
    profile = require_profile_viewer(membership, selectors.profile_get_for_user(membership, profile_id))
    status, gaps = _status(membership, profile)
    warnings = {cast(Credential, warning.credential).pk: warning for warning in status.warnings}
    trainings = list(selectors.trainings_for_profile(profile))
    context = {
        "profile": profile,
        "status": status,
        "gaps": gaps,
        "credentials": [(c, warnings.get(c.pk)) for c in profile.credentials.all()],
        "trainings": trainings,
        "training_totals": rules.training_totals(trainings),
        "training_minimum": rules.training_minimum(status.jurisdiction),
        "competencies": selectors.competencies_for_profile(profile),
        "supervision": selectors.supervision_for_profile(profile),
        "show_notes": can_read_supervision_notes(membership, profile),
        "can_manage": can_manage_facilitators(membership),
    }
    return render(request, "facilitators/detail.html", context)


@login_required
def facilitator_create(request):
    membership = _manager(request)
    form = ProfileForm(request.POST or None, organization_id=membership.organization_id)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.profile_create(
                organization=membership.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Facilitator profile added."))
            return redirect("facilitators:detail", profile_id=profile.pk)
    return render(request, "facilitators/form.html", {"form": form}, status=400 if form.is_bound else 200)


@login_required
def facilitator_edit(request, profile_id: int):
    membership = _viewer(request)
    profile = selectors.profile_get_for_user(membership, profile_id)
    _manager(request)
    form = ProfileForm(request.POST or None, instance=profile, organization_id=membership.organization_id)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.profile_get_for_user(membership, profile_id)
        try:
            services.profile_update(profile=fresh, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("facilitators:detail", profile_id=profile_id)
    context = {"form": form, "profile": profile}
    return render(request, "facilitators/form.html", context, status=400 if form.is_bound else 200)


def _add_record(request, profile_id: int, form_class, service, title, done, *, members: bool = False):
    """A form page that adds one record to a profile through ``service``; 400 with errors."""
    membership = _viewer(request)
    profile = selectors.profile_get_for_user(membership, profile_id)
    _manager(request)
    extra = {"organization_id": membership.organization_id} if members else {}
    form = form_class(request.POST or None, **extra)
    if request.method == "POST" and form.is_valid():
        try:
            service(profile=profile, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("facilitators:detail", profile_id=profile.pk)
    context = {"form": form, "profile": profile, "title": title}
    return render(request, "facilitators/record_form.html", context, status=400 if form.is_bound else 200)


@login_required
def credential_add(request, profile_id: int):
    return _add_record(
        request, profile_id, CredentialForm, services.credential_add, _("Add a credential"), _("Credential added.")
    )


@login_required
def training_add(request, profile_id: int):
    return _add_record(
        request, profile_id, TrainingForm, services.training_add, _("Add a training"), _("Training added.")
    )


@login_required
def competency_add(request, profile_id: int):
    return _add_record(
        request, profile_id, CompetencyForm, services.competency_add, _("Add a competency"), _("Competency added.")
    )


@login_required
def supervision_add(request, profile_id: int):
    title, done = _("Log supervision"), _("Supervision logged.")
    return _add_record(request, profile_id, SupervisionForm, services.supervision_entry_add, title, done, members=True)


@require_POST
@login_required
def credential_verify(request, profile_id: int, credential_id: int):
    membership = _viewer(request)
    credential = selectors.credential_get(selectors.profile_get_for_user(membership, profile_id), credential_id)
    _manager(request)
    services.credential_verify(credential=credential, actor=request.user)
    messages.success(request, _("Credential marked as verified."))
    return redirect("facilitators:detail", profile_id=profile_id)
