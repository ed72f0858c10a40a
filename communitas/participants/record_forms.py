"""Forms for requests about a participant's record (their space and the staff pages). Forms
check shapes; the rules (retention, who decides) live in ``record_services``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communitas.participants.models import RecordRequest


class CorrectionForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "correction_%s")  # two forms share the page
        super().__init__(*args, **kwargs)

    text = forms.CharField(
        label=_("What is wrong or missing, and what should it say?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 4000}),
        help_text=_("Your words are added to your record as an addendum if the team accepts; nothing is erased."),
    )


class DestructionForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "destruction_%s")
        super().__init__(*args, **kwargs)

    text = forms.CharField(
        label=_("Anything you want the team to know (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that a destroyed record cannot be recovered, and that this link will stop working."),
    )


class StaffRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=RecordRequest.Kind.choices)
    text = forms.CharField(
        label=_("What the participant asked (in their words)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 4000}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
    note = forms.CharField(
        label=_("Reason or note (the participant reads it)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 4000}),
    )
    addendum = forms.CharField(
        label=_("Addendum to add (empty: the participant's words)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
    )
