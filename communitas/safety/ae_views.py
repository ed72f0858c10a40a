"""Adverse events: the care team records what happened, sees how regulators classify it, and works
the follow-up tasks (a clinical call, the quarterly SB 303 count) until each is done with a note."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import ModelChoiceIterator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communitas.accounts.models import User
from communitas.participants.models import Participant
from communitas.safety import regulator, selectors, services
from communitas.safety.models import AdverseEvent
from communitas.safety.permissions import ADVERSE_EVENT_RECORDERS, require_adverse_event_recorder

PAGE_SIZE = 50
CATEGORY_LABELS = {
    regulator.OR_BEHAVIORAL: gettext_lazy("Oregon: adverse behavioral reaction (counted in the SB 303 report)"),
    regulator.OR_MEDICAL: gettext_lazy("Oregon: adverse medical reaction (counted in the SB 303 report)"),
    regulator.OR_NOT_REPORTABLE: gettext_lazy("Oregon: not an adverse behavioral or medical reaction"),
    regulator.CO_ADVERSE_HEALTH_EVENT: gettext_lazy("Colorado: adverse health event"),
    regulator.CO_NOT_REPORTABLE: gettext_lazy("Colorado: no medical or emergency care needed"),
    regulator.NONE: gettext_lazy("No regulator category for this jurisdiction"),
}


class _ByName(ModelChoiceIterator):
    """Participants sorted by name; names are encrypted, so the sort happens here, not in SQL."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for participant in sorted(self.queryset, key=lambda p: p.display_name.casefold()):
            yield self.choice(participant)


class AdverseEventForm(forms.ModelForm):
    class Meta:
        model = AdverseEvent
        fields = [
            "participant",
            "onset_at",
            "kind",
            "during_administration",
            "session_ref",
            "description",
            "severity",
            "serious",
            "emergency_services",
            "medical_care",
            "hospital_transport",
            "outcome",
            "relatedness",
        ]
        widgets = {
            "onset_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "description": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "onset_at": gettext_lazy("When it began (local time)."),
            # The FDA-style "serious" outcomes that Colorado's tiers follow (regulatory.md 2 [C2]).
            "serious": gettext_lazy(
                "Death, a life-threatening event, hospital admission, lasting disability, or another "
                "important medical event."
            ),
            "description": gettext_lazy("Kept encrypted. Describe what happened and what the team did."),
            "relatedness": gettext_lazy("How likely it is that the substance or the session caused it."),
        }

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["participant"]
        field.queryset = Participant.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id, archived_at__isnull=True
        )
        field.iterator = _ByName  # type: ignore[attr-defined]
        field.label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]


class SeverityFilterForm(forms.Form):
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"),
        choices=[("", gettext_lazy("All severities")), *AdverseEvent.Severity.choices],
        required=False,
    )


class FollowUpForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Task"), max_length=200)
    due_on = forms.DateField(label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    assigned_to = forms.ModelChoiceField(label=gettext_lazy("Assigned to"), queryset=User.objects.none())

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__organization_id=organization_id,
            memberships__role__in=ADVERSE_EVENT_RECORDERS,
            memberships__is_active=True,
            is_active=True,
        ).order_by("full_name", "email")


class CompleteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _complete_form(task, data=None) -> CompleteForm:
    return CompleteForm(data, auto_id=f"id_task{task.pk}_%s")


def _add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    for field, errors in exc.update_error_dict({}).items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def adverse_event_list(request):
    membership = require_adverse_event_recorder(request.membership)
    filters = SeverityFilterForm(request.GET)
    severity = filters.cleaned_data["severity"] if filters.is_valid() else ""
    events = selectors.adverse_events_for_membership(membership, severity=severity)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(event, CATEGORY_LABELS.get(event.regulator_category, event.regulator_category)) for event in page]
    context = {"page": page, "rows": rows, "filters": filters, "severity": severity}
    return render(request, "safety/adverse_event_list.html", context)


@login_required
def adverse_event_record(request):
    membership = require_adverse_event_recorder(request.membership)
    form = AdverseEventForm(request.POST or None, organization_id=membership.organization_id)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        participant = fields.pop("participant")
        jurisdiction = membership.organization.jurisdiction
        try:
            event = services.adverse_event_record(
                participant=participant, actor=request.user, jurisdiction=jurisdiction, **fields
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Adverse event recorded."))
            return redirect("safety:adverse_event", event_id=event.pk)
    return render(request, "safety/adverse_event_form.html", {"form": form})


def _detail(request, membership, event, *, follow_up_form=None, failed=None, status=200):
    """The event page; ``failed`` is (task id, completion form with errors), re-shown under its task."""
    failed_id, failed_form = failed or (None, None)
    tasks = [
        (task, failed_form if task.pk == failed_id else _complete_form(task))
        for task in selectors.follow_ups_for_event(event)
    ]
    context = {
        "event": event,
        "category": CATEGORY_LABELS.get(event.regulator_category, event.regulator_category),
        "tasks": tasks,
        "today": timezone.localdate(),
        "follow_up_form": follow_up_form or FollowUpForm(organization_id=membership.organization_id),
    }
    return render(request, "safety/adverse_event_detail.html", context, status=status)


@login_required
def adverse_event_detail(request, event_id: int):
    membership = require_adverse_event_recorder(request.membership)
    return _detail(request, membership, selectors.adverse_event_get_for_user(membership, event_id))


@require_POST
@login_required
def follow_up_add(request, event_id: int):
    membership = require_adverse_event_recorder(request.membership)
    event = selectors.adverse_event_get_for_user(membership, event_id)
    form = FollowUpForm(request.POST, organization_id=membership.organization_id)
    if form.is_valid():
        try:
            services.follow_up_add(event=event, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Follow-up added."))
            return redirect("safety:adverse_event", event_id=event.pk)
    return _detail(request, membership, event, follow_up_form=form, status=400)


@require_POST
@login_required
def follow_up_complete(request, event_id: int, task_id: int):
    membership = require_adverse_event_recorder(request.membership)
    event = selectors.adverse_event_get_for_user(membership, event_id)
    task = selectors.follow_up_get(event, task_id)
    form = _complete_form(task, request.POST)
    if form.is_valid():
        services.follow_up_complete(task=task, actor=request.user, note=form.cleaned_data["note"])
        messages.success(request, _("Follow-up marked done."))
        return redirect("safety:adverse_event", event_id=event.pk)
    return _detail(request, membership, event, failed=(task.pk, form), status=400)


@login_required
def follow_ups_overdue(request):
    membership = require_adverse_event_recorder(request.membership)
    tasks = selectors.overdue_follow_ups(membership)[:500]
    return render(request, "safety/follow_ups_overdue.html", {"tasks": tasks, "today": timezone.localdate()})
