from django import forms
from django.utils.translation import gettext_lazy as _

from communitas.participants.models import Participant, SupportPerson


class ParticipantForm(forms.ModelForm):
    class Meta:
        model = Participant
        fields = [
            "display_name",
            "legal_name",
            "pronouns",
            "email",
            "phone",
            "date_of_birth",
            "preferred_language",
            "cultural_background",
            "accessibility_needs",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "cultural_background": forms.Textarea(attrs={"rows": 3}),
            "accessibility_needs": forms.Textarea(attrs={"rows": 3}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {
            "display_name": _("The name the person asked to be called."),
            "preferred_language": _("Language tag, e.g. en, es, vi, nv."),
        }


class SupportPersonForm(forms.ModelForm):
    class Meta:
        model = SupportPerson
        fields = ["name", "relationship", "email", "phone", "may_contact", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
