"""Forms for community partners, referrals, contributions and approvals."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communitas.community.models import ContributionApproval, Partner, PartnerContribution, Referral

DATE = forms.DateInput(attrs={"type": "date"})
PHONE = r"^[0-9+().\- ]{4,40}$"


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Partner.Kind.choices)
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    website = forms.URLField(label=_("Website"), max_length=500, required=False, assume_scheme="https")
    public_phone = forms.RegexField(label=_("Public phone line"), regex=PHONE, max_length=40, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=150, required=False)
    contact_email = forms.EmailField(label=_("Contact email"), max_length=254, required=False)
    contact_phone = forms.RegexField(label=_("Contact phone"), regex=PHONE, max_length=40, required=False)
    languages = forms.CharField(
        label=_("Languages"), max_length=200, required=False, help_text=_("Language tags, e.g. en, es, qu.")
    )
    services = forms.CharField(
        label=_("Services (one per line)"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_languages(self):
        return [t.strip() for t in self.cleaned_data["languages"].replace(",", " ").split() if t.strip()]

    def clean_services(self):
        return [s.strip() for s in self.cleaned_data["services"].splitlines() if s.strip()]

    @classmethod
    def initial_for(cls, partner: Partner) -> dict:
        initial = {name: getattr(partner, name) for name in cls.base_fields}
        initial["languages"] = ", ".join(partner.languages)
        initial["services"] = "\n".join(partner.services)
        return initial


class ReferralForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (Referral.Status.SUGGESTED, Referral.Status.SUGGESTED.label),
            (Referral.Status.MADE, Referral.Status.MADE.label),
        ],
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]


class ReferralStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Referral.Status.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class ContributionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartnerContribution.Kind.choices)
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    requires_partner_approval = forms.BooleanField(
        label=_("Reuse or export needs the partner's approval (CARE)"), required=False, initial=True
    )
    governance_note = forms.CharField(
        label=_("Governance note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ApprovalForm(forms.Form):
    approved_by_name = forms.CharField(label=_("Approved by (person at the partner)"), max_length=150)
    approved_by_role = forms.CharField(label=_("Their role"), max_length=150, required=False)
    scope = forms.ChoiceField(label=_("Scope"), choices=ContributionApproval.Scope.choices)
    approved_on = forms.DateField(label=_("Approved on"), widget=DATE)
    expires_on = forms.DateField(label=_("Expires on (inclusive)"), widget=DATE, required=False)

    def clean(self):
        data = super().clean() or {}
        if data.get("approved_on") and data.get("expires_on") and data["expires_on"] < data["approved_on"]:
            self.add_error("expires_on", _("An approval cannot expire before it was given."))
        return data
