"""Administrators choose who is paged for safety alerts and which crisis resources participants see."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communitas.accounts.models import Membership, User
from communitas.accounts.permissions import can_manage_organization
from communitas.safety import services
from communitas.safety.crisis import DEFAULT_CRISIS_RESOURCES
from communitas.safety.models import SafetySettings
from communitas.safety.permissions import ALERT_HANDLERS


class SafetySettingsForm(forms.Form):
    safety_contact = forms.ModelChoiceField(
        label=gettext_lazy("Staff member paged for safety alerts"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("First coordinator (default)"),
    )
    crisis_resources = forms.CharField(
        label=gettext_lazy("Crisis resources shown to participants"),
        help_text=gettext_lazy(
            "One per line: name | phone or address | what it offers. Empty: the US 988 line and 911."
        ),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["safety_contact"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__organization_id=organization_id,
            memberships__role__in=ALERT_HANDLERS,
            memberships__is_active=True,
            is_active=True,
        ).order_by("full_name", "email")

    def clean_crisis_resources(self):
        try:
            return services.parse_crisis_lines(self.cleaned_data["crisis_resources"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


def _as_lines(resources: list[dict]) -> str:
    return "\n".join(f"{r['name']} | {r['contact']} | {r['detail']}" for r in resources if isinstance(r["name"], str))


@login_required
def safety_settings(request):
    membership: Membership | None = request.membership
    if membership is None or not can_manage_organization(membership):
        raise PermissionDenied
    row = SafetySettings.objects.filter(organization_id=membership.organization_id).first()
    initial = {
        "safety_contact": row.safety_contact if row else None,
        "crisis_resources": _as_lines(row.crisis_resources) if row else "",
    }
    form = SafetySettingsForm(request.POST or None, initial=initial, organization_id=membership.organization_id)
    if request.method == "POST" and form.is_valid():
        services.safety_settings_update(
            organization_id=membership.organization_id, actor=request.user, **form.cleaned_data
        )
        messages.success(request, _("Safety settings saved."))
        return redirect("safety:settings")
    return render(request, "safety/settings.html", {"form": form, "defaults": DEFAULT_CRISIS_RESOURCES})
