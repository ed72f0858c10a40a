"""Forms for circle series, agreements and the waitlist (staff), and agreement acceptance
(the participant's community space)."""

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communitas.community.models import CircleSeries
from communitas.community.models.circles import MAX_MEETINGS
from communitas.participants.models import Participant

DATE = forms.DateInput(attrs={"type": "date"})


class SeriesForm(forms.Form):
    title = forms.CharField(label=_("Meeting title"), max_length=200, initial=_("Integration circle"))
    cadence = forms.ChoiceField(label=_("Cadence"), choices=CircleSeries.Cadence.choices)
    mode = forms.ChoiceField(label=_("Where"), choices=CircleSeries.Mode.choices, widget=forms.RadioSelect)
    meeting_link = forms.URLField(
        label=_("Meeting link (online)"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Kept encrypted; shown to the circle's staff only, never in calendar feeds."),
    )
    location = forms.CharField(label=_("Location (in person)"), max_length=200, required=False)
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=CircleSeries.Weekday.choices, coerce=int)
    start_time = forms.TimeField(label=_("Local start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=15, max_value=480, initial=90)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial=settings.TIME_ZONE)
    starts_on = forms.DateField(label=_("First possible date"), widget=DATE)
    ends_on = forms.DateField(label=_("Last possible date"), widget=DATE, required=False)
    meeting_count = forms.IntegerField(
        label=_("or number of meetings"), min_value=1, max_value=MAX_MEETINGS, required=False
    )

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Use a time zone name such as America/Los_Angeles."))
        return value

    def clean(self):
        data = super().clean() or {}
        if (data.get("ends_on") is None) == (data.get("meeting_count") is None):
            raise forms.ValidationError(_("Give a last date or a number of meetings (one of them)."))
        if data.get("mode") == CircleSeries.Mode.ONLINE and not data.get("meeting_link"):
            self.add_error("meeting_link", _("An online series needs its meeting link."))
        if data.get("mode") == CircleSeries.Mode.IN_PERSON and not (data.get("location") or "").strip():
            self.add_error("location", _("An in-person series needs its location."))
        return data


class ExtendForm(forms.Form):
    meetings = forms.IntegerField(label=_("Add meetings"), min_value=1, max_value=MAX_MEETINGS, required=False)
    until = forms.DateField(label=_("or continue through"), widget=DATE, required=False)

    def clean(self):
        data = super().clean() or {}
        if (data.get("meetings") is None) == (data.get("until") is None):
            raise forms.ValidationError(_("Give a number of meetings or a date (one of them)."))
        return data


class AgreementForm(forms.Form):
    body = forms.CharField(
        label=_("Group agreement"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Publishing a new version asks every member to accept it again."),
    )


class JoinForm(forms.Form):
    participant = forms.ModelChoiceField(label=_("Person"), queryset=Participant.objects.none())

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["participant"]
        field.queryset = people  # type: ignore[attr-defined]
        field.label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]


class AcceptForm(forms.Form):
    """The participant accepts one circle's current agreement in their community space."""

    agreement = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    agree = forms.BooleanField(label=_("I have read this agreement and I agree to keep it."))
