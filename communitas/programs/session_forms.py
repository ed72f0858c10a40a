from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.facilitators.models import FacilitatorProfile
from communitas.participants.models import Participant
from communitas.programs.models import DoseRecord, Session

NONE_PEOPLE = Participant.objects.none()
NONE_STAFF = FacilitatorProfile.objects.none()

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RetreatForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    starts_on = forms.DateField(label=_("Starts"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Ends"), widget=forms.DateInput(attrs={"type": "date"}))
    venue = forms.CharField(label=_("Venue"), max_length=200, required=False)
    capacity = forms.IntegerField(label=_("Capacity (participants)"), min_value=1, max_value=500)
    rooms = forms.CharField(
        label=_("Rooms (one per line)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise forms.ValidationError(_("A retreat cannot end before it starts."))
        data["rooms"] = [r.strip() for r in data.get("rooms", "").splitlines() if r.strip()][:100]
        return data


class CircleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    language = forms.RegexField(
        label=_("Language"), regex=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16, initial="en"
    )
    affinity = forms.CharField(label=_("Affinity focus (optional, e.g. veterans)"), max_length=60, required=False)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=2, max_value=60, initial=10)


class CircleMembersForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        label=_("Members"), queryset=NONE_PEOPLE, required=False, widget=forms.CheckboxSelectMultiple
    )
    facilitators = forms.ModelMultipleChoiceField(
        label=_("Facilitators"), queryset=NONE_PEOPLE, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, participants, facilitators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = participants  # type: ignore[attr-defined]
        self.fields["facilitators"].queryset = facilitators  # type: ignore[attr-defined]
        self.fields["members"].label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]


class SessionPlanForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Session.Kind.choices)
    activity = forms.ChoiceField(
        label=_("Activity (community sessions)"), choices=[("", "—"), *Session.Activity.choices], required=False
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    planned_start = forms.DateTimeField(label=_("Starts"), widget=DATETIME)
    planned_end = forms.DateTimeField(label=_("Ends"), widget=DATETIME)
    facilitators = forms.ModelMultipleChoiceField(
        label=_("Facilitators"), queryset=NONE_PEOPLE, widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, facilitators, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = facilitators  # type: ignore[attr-defined]
        self.participants = list(participants)
        for person in self.participants:
            self.fields[f"p_{person.pk}"] = forms.BooleanField(
                label=f"{person.display_name} ({person.pseudonym})", required=False
            )
            self.fields[f"dose_{person.pk}"] = forms.DecimalField(
                label=_("Agreed estimated total dose (mg)"),
                required=False,
                min_value=Decimal("0.01"),
                max_value=Decimal("1000"),
                decimal_places=2,
            )

    def clean(self):
        data = super().clean() or {}
        if data.get("planned_start") and data.get("planned_end") and data["planned_end"] <= data["planned_start"]:
            raise forms.ValidationError(_("A session must end after it starts."))
        return data

    def people_rows(self):
        return [(p, self[f"p_{p.pk}"], self[f"dose_{p.pk}"]) for p in self.participants]

    def chosen(self):
        chosen = [p for p in self.participants if self.cleaned_data.get(f"p_{p.pk}")]
        doses = {p.pk: self.cleaned_data[f"dose_{p.pk}"] for p in chosen if self.cleaned_data.get(f"dose_{p.pk}")}
        return chosen, doses


class DoseForm(forms.Form):
    participant = forms.ModelChoiceField(label=_("Participant"), queryset=NONE_PEOPLE)
    product = forms.CharField(label=_("Product"), max_length=200)
    unique_id = forms.CharField(label=_("Lot or unique id"), max_length=100)
    amount_mg = forms.DecimalField(
        label=_("Amount of the regulated analyte (mg)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("1000"),
        decimal_places=2,
    )
    kind = forms.ChoiceField(label=_("Dose"), choices=DoseRecord.Kind.choices)
    taken_at = forms.DateTimeField(label=_("Taken at"), widget=DATETIME, initial=timezone.now)

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants  # type: ignore[attr-defined]
        self.fields["participant"].label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]


class VitalsForm(forms.Form):
    participant = forms.ModelChoiceField(label=_("Participant"), queryset=NONE_PEOPLE)
    taken_at = forms.DateTimeField(label=_("Taken at"), widget=DATETIME, initial=timezone.now)
    systolic = forms.IntegerField(label=_("Systolic"), min_value=40, max_value=300, required=False)
    diastolic = forms.IntegerField(label=_("Diastolic"), min_value=20, max_value=200, required=False)
    heart_rate = forms.IntegerField(label=_("Heart rate"), min_value=20, max_value=250, required=False)
    temperature_c = forms.DecimalField(
        label=_("Temperature (°C)"), min_value=30, max_value=45, decimal_places=1, required=False
    )
    spo2 = forms.IntegerField(label=_("Oxygen saturation (%)"), min_value=50, max_value=100, required=False)

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants  # type: ignore[attr-defined]
        self.fields["participant"].label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        values = [data.get(k) for k in ("systolic", "diastolic", "heart_rate", "temperature_c", "spo2")]
        if all(v is None for v in values):
            raise forms.ValidationError(_("Enter at least one measurement."))
        if (data.get("systolic") is None) != (data.get("diastolic") is None):
            raise forms.ValidationError(_("Enter both blood-pressure numbers, or neither."))
        return data


class NoteForm(forms.Form):
    participant = forms.ModelChoiceField(label=_("About"), queryset=NONE_PEOPLE)
    body = forms.CharField(
        label=_("Note (only you and the people you share it with can read it)"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    shared_with = forms.ModelMultipleChoiceField(
        label=_("Share with"),
        queryset=None,
        required=False,  # type: ignore[var-annotated]
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, participants, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants  # type: ignore[attr-defined]
        self.fields["participant"].label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]
        self.fields["shared_with"].queryset = colleagues  # type: ignore[attr-defined]
