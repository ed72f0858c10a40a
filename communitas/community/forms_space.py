"""Forms for the participant's community space (reflections, pod answers, check-ins,
preferences) and the few staff forms around it (community links, never-together pairs).
Forms check shapes; the rules live in the services."""

import zoneinfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.community.models import NeverTogether, PodCheckIn, PodPreference, Reflection
from communitas.participants.models import Participant

V = Reflection.Visibility
VISIBILITY_CHOICES = [
    (V.ONLY_ME, _("Only me")),
    (V.MY_FACILITATORS, _("Me and the facilitators of my circles")),
    (V.MY_CIRCLE, _("My circles: their members (with my first name) and facilitators")),
]


class ReflectionForm(forms.Form):
    body = forms.CharField(
        label=_("Your reflection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 4000}),
        help_text=_("Stored encrypted. Nobody else reads it unless you choose to share it below."),
    )
    visibility = forms.ChoiceField(
        label=_("Who can read it"), choices=VISIBILITY_CHOICES, initial=V.ONLY_ME, widget=forms.RadioSelect
    )


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(label=_("Who can read it"), choices=VISIBILITY_CHOICES)


class CheckInForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    mode = forms.ChoiceField(label=_("How"), choices=PodCheckIn.Mode.choices, widget=forms.RadioSelect)
    mood = forms.IntegerField(
        label=_("Your mood from 0 (very low) to 10 (very good), if you like"),
        min_value=0,
        max_value=10,
        required=False,
        help_text=_("Your care team sees this number, so they can reach out if you are having a hard time."),
    )
    note = forms.CharField(
        label=_("A note (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        help_text=_("Only you read it, unless you tick the box below. Staff never read it."),
    )
    note_shared = forms.BooleanField(label=_("Share my note and mood with my pod"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


def _time_zone_choices():
    return [("", _("Not set"))] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PodPreferenceForm(forms.Form):
    size = forms.ChoiceField(label=_("I would like"), choices=PodPreference.Size.choices, widget=forms.RadioSelect)
    languages = forms.CharField(
        label=_("Languages I can talk in"),
        max_length=200,
        required=False,
        help_text=_("Language codes separated by commas, e.g. en, es."),
    )
    time_zone = forms.ChoiceField(label=_("My time zone"), choices=_time_zone_choices, required=False)
    area = forms.CharField(
        label=_("My town or area, if I would like to meet in person (optional)"), max_length=80, required=False
    )
    availability = forms.MultipleChoiceField(
        label=_("Times that suit me"),
        choices=PodPreference.Slot.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    veteran = forms.BooleanField(label=_("I am a veteran"), required=False)
    prefer_veterans = forms.BooleanField(label=_("I would prefer a pod with other veterans"), required=False)

    def clean_languages(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["languages"].split(",") if part.strip()]


class LinkForm(forms.Form):
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3 * 365, initial=365)


class NeverTogetherForm(forms.Form):
    first = forms.ModelChoiceField(label=_("Person"), queryset=Participant.objects.none())
    second = forms.ModelChoiceField(label=_("Never with"), queryset=Participant.objects.none())
    reason = forms.ChoiceField(label=_("Reason"), choices=NeverTogether.Reason.choices)

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        people = Participant.objects.filter(organization_id=organization_id, archived_at__isnull=True).order_by("id")
        for name in ("first", "second"):
            field = self.fields[name]
            field.queryset = people  # type: ignore[attr-defined]
            field.label_from_instance = lambda p: f"{p.display_name} ({p.pseudonym})"  # type: ignore[attr-defined]
