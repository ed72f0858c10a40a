from django import forms
from django.utils.translation import gettext_lazy as _

from communitas.facilitators import selectors
from communitas.facilitators.models import Competency, Credential, FacilitatorProfile, SupervisionEntry, Training

DATE = forms.DateInput(attrs={"type": "date"})


class LanguageListField(forms.CharField):
    """Language tags typed as "en, es, pt-BR", kept as a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return list(dict.fromkeys(tag.strip() for tag in text.replace(";", ",").split(",") if tag.strip()))


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email


class ProfileForm(forms.ModelForm):
    languages = LanguageListField(
        label=_("Languages"),
        required=False,
        max_length=400,
        help_text=_("Language tags, comma-separated: en, es, pt-BR."),
    )

    class Meta:
        model = FacilitatorProfile
        fields = ["display_name", "user", "languages", "bio", "active"]
        field_classes = {"user": MemberChoiceField}
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}
        labels = {"user": _("Login (optional)")}
        help_texts = {"user": _("Link the profile to a member's login so they can see it. A guide may have none.")}

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.organization_members(organization_id)  # type: ignore[attr-defined]


class CredentialForm(forms.ModelForm):
    class Meta:
        model = Credential
        fields = ["kind", "number", "issuing_jurisdiction", "valid_from", "valid_to"]
        widgets = {"valid_from": DATE, "valid_to": DATE}

    def clean_issuing_jurisdiction(self):
        return self.cleaned_data["issuing_jurisdiction"].strip().upper()


class TrainingForm(forms.ModelForm):
    class Meta:
        model = Training
        fields = ["program_name", "hours", "practicum_hours", "completed_on"]
        widgets = {"completed_on": DATE}


class CompetencyForm(forms.ModelForm):
    class Meta:
        model = Competency
        fields = ["code", "attained_on"]
        widgets = {"attained_on": DATE}


class SupervisionForm(forms.ModelForm):
    class Meta:
        model = SupervisionEntry
        fields = ["supervisor", "met_on", "minutes", "notes"]
        field_classes = {"supervisor": MemberChoiceField}
        widgets = {"met_on": DATE, "notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = selectors.organization_members(organization_id)  # type: ignore[attr-defined]
