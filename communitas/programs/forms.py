from django import forms
from django.utils.translation import gettext_lazy as _

from communitas.participants.models import ConsentScope
from communitas.programs.models import Program


class ConsentDocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    version = forms.CharField(label=_("Version"), max_length=40)
    language = forms.RegexField(
        label=_("Language"), regex=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16, initial="en"
    )
    body = forms.CharField(label=_("Text"), max_length=40000, widget=forms.Textarea(attrs={"rows": 12}))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes asked"), choices=ConsentScope.choices, widget=forms.CheckboxSelectMultiple
    )
    required_scopes = forms.MultipleChoiceField(
        label=_("Required to take part"),
        choices=ConsentScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean(self):
        data = super().clean() or {}
        if set(data.get("required_scopes", [])) - set(data.get("scopes", [])):
            raise forms.ValidationError(_("Every required scope must also be asked."))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("clear", _("Clear the chosen reasons")), ("exclude", _("Exclude"))]
    )
    rule_ids = forms.MultipleChoiceField(label=_("Reasons"), required=False, widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(
        label=_("Clinical reasoning (kept in the record)"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, clearable: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["rule_ids"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(r, r) for r in clearable]


class MeasurementsForm(forms.Form):
    systolic = forms.IntegerField(label=_("Systolic blood pressure"), min_value=40, max_value=300, required=False)
    diastolic = forms.IntegerField(label=_("Diastolic blood pressure"), min_value=20, max_value=200, required=False)
    heart_rate = forms.IntegerField(label=_("Heart rate"), min_value=20, max_value=250, required=False)
    qtc_ms = forms.IntegerField(label=_("QTc (ms) from ECG"), min_value=250, max_value=750, required=False)

    def clean(self):
        data = super().clean() or {}
        sys_, dia = data.get("systolic"), data.get("diastolic")
        if (sys_ is None) != (dia is None):
            raise forms.ValidationError(_("Enter both blood-pressure numbers, or neither."))
        if sys_ is not None and dia is not None and sys_ <= dia:
            raise forms.ValidationError(_("Systolic must be above diastolic."))
        return data

    def measurements(self) -> dict:
        data = self.cleaned_data
        out = {k: data[k] for k in ("heart_rate", "qtc_ms") if data.get(k) is not None}
        if data.get("systolic") is not None:
            out["blood_pressure"] = [data["systolic"], data["diastolic"]]
        return out


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    substance = forms.ChoiceField(label=_("Substance"), choices=Program.Substance.choices)
    jurisdiction = forms.RegexField(
        label=_("Jurisdiction (ISO 3166-2, e.g. US-OR)"), regex=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", max_length=16
    )
    framework = forms.ChoiceField(label=_("Legal framework"), choices=Program.Framework.choices)
    model = forms.ChoiceField(label=_("Model"), choices=Program.Model.choices)
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
