from django import forms
from django.utils.translation import gettext_lazy as _


class AnchorForm(forms.Form):
    administration_date = forms.DateField(
        label=_("Administration session date"), widget=forms.DateInput(attrs={"type": "date"})
    )
