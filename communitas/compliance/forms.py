"""Forms for an organization's own rule pack, the legal-status registry, the lawfulness question,
Oregon's 303 Client Data Form and the reporting settings.

The rule-pack form is a coordinator's view of ``rulepacks.RulePack``: a few rows of bands and
documents instead of JSON. ``RulePackForm.pack_data`` turns it into the JSON the engine reads; the
engine (``organization_pack``) is the one validator, and its one-line message is shown on the form.
"""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from communitas.compliance.legal_status import FRAMEWORKS, STATUS_CODES, SUBSTANCE, SUBSTANCES
from communitas.compliance.models import LegalStatusRow, ReportingSettings
from communitas.compliance.rulepacks import JURISDICTION, PLAUSIBLE_MAX_MG, RulePack
from communitas.compliance.sb303 import LANGUAGE_TAG, ClientDataError, Field, clean_answers, definition

RATIO_ROWS = 6
DURATION_ROWS = 6
DOCUMENT_ROWS = 8
SOURCE_KEY = "ORG"

jurisdiction_field = forms.RegexField(
    regex=JURISDICTION,
    max_length=24,
    label=_("Jurisdiction"),
    help_text=_("ISO 3166 code, such as US-CO; a state pack also covers its localities."),
    error_messages={"invalid": _("Use an ISO 3166 code such as US-CO or US-CO-DEN.")},
)


def _mg(label, required=False):
    return forms.DecimalField(
        label=label, required=required, min_value=0, max_value=PLAUSIBLE_MAX_MG, decimal_places=3, max_digits=8
    )


class RulePackForm(forms.Form):
    """One version of the organization's own pack. Bands run from their "from" dose (inclusive) to
    just under the next band's; the last band may be open-ended."""

    jurisdiction = jurisdiction_field
    name = forms.CharField(label=_("Name"), max_length=200)
    substance = forms.RegexField(
        regex=SUBSTANCE, max_length=40, label=_("Substance"), initial="psilocybin", help_text=", ".join(SUBSTANCES)
    )
    effective_from = forms.DateField(label=_("In effect from"), widget=forms.DateInput(attrs={"type": "date"}))
    basis = forms.CharField(
        label=_("Where these numbers come from"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "The regulation, licence condition or written policy, with its date. Every violation the "
            "pack finds cites it."
        ),
    )
    group_cap = forms.IntegerField(
        label=_("Most clients in one group session"), required=False, min_value=1, max_value=1000
    )
    dose_limit = _mg(_("Most mg one client may take in a session"))
    prep_min_hours = forms.IntegerField(
        label=_("Preparation at least (hours before)"), required=False, min_value=0, max_value=24 * 365
    )
    prep_max_days = forms.IntegerField(
        label=_("Preparation at most (days before)"), required=False, min_value=1, max_value=3650
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(RATIO_ROWS):
            self.fields[f"ratio_from_{i}"] = _mg(_("From mg"))
            self.fields[f"ratio_clients_{i}"] = forms.IntegerField(
                label=_("Clients per facilitator"), required=False, min_value=1, max_value=1000
            )
        for i in range(DURATION_ROWS):
            self.fields[f"duration_from_{i}"] = _mg(_("From mg"))
            self.fields[f"duration_minutes_{i}"] = forms.IntegerField(
                label=_("Minimum minutes"), required=False, min_value=0, max_value=24 * 60
            )
        for i in range(DOCUMENT_ROWS):
            self.fields[f"document_{i}"] = forms.CharField(label=_("Document"), required=False, max_length=200)

    # --- rows for the template --------------------------------------------------------------

    def ratio_rows(self):
        return [(self[f"ratio_from_{i}"], self[f"ratio_clients_{i}"]) for i in range(RATIO_ROWS)]

    def duration_rows(self):
        return [(self[f"duration_from_{i}"], self[f"duration_minutes_{i}"]) for i in range(DURATION_ROWS)]

    def document_rows(self):
        return [self[f"document_{i}"] for i in range(DOCUMENT_ROWS)]

    # --- building the pack ------------------------------------------------------------------

    def _bands(self, prefix: str, value_name: str, key: str) -> list[dict]:
        rows = []
        for i in range(RATIO_ROWS if prefix == "ratio" else DURATION_ROWS):
            start, value = (
                self.cleaned_data.get(f"{prefix}_from_{i}"),
                self.cleaned_data.get(f"{prefix}_{value_name}_{i}"),
            )
            if start is None and value is None:
                continue
            if start is None or value is None:
                self.add_error(f"{prefix}_from_{i}", _("Give both the dose and the number, or neither."))
                continue
            rows.append((float(start), value))
        rows.sort()
        starts = [start for start, _value in rows]
        if len(set(starts)) != len(starts):
            self.add_error(None, _("Two bands start at the same dose."))
        effective = self.cleaned_data["effective_from"].isoformat()
        return [
            {
                "min_mg": start,
                "min_inclusive": True,
                "max_mg": rows[n + 1][0] if n + 1 < len(rows) else None,
                "max_inclusive": False,
                key: value,
                "source": SOURCE_KEY,
                "effective_from": effective,
            }
            for n, (start, value) in enumerate(rows)
        ]

    def _documents(self) -> list[dict]:
        documents, kinds = [], set()
        effective = self.cleaned_data["effective_from"].isoformat()
        for i in range(DOCUMENT_ROWS):
            label = (self.cleaned_data.get(f"document_{i}") or "").strip()
            if not label:
                continue
            kind = ("doc_" + slugify(label).replace("-", "_"))[:50].rstrip("_")
            if kind in kinds:
                self.add_error(f"document_{i}", _("This document is listed twice."))
                continue
            kinds.add(kind)
            documents.append({"kind": kind, "label": label, "source": SOURCE_KEY, "effective_from": effective})
        return documents

    def clean(self):
        data = super().clean() or {}
        if self.errors:
            return data
        if not any(data.get(f"ratio_clients_{i}") for i in range(RATIO_ROWS)):
            self.add_error(None, _("Give at least one ratio band, starting at 0 mg."))
        if (data.get("prep_min_hours") is None) != (data.get("prep_max_days") is None):
            self.add_error("prep_max_days", _("Give both ends of the preparation window, or neither."))
        return data

    def pack_data(self) -> dict:
        """The pack as JSON data (call after ``is_valid``); field problems are added to the form."""
        data = self.cleaned_data
        effective = data["effective_from"].isoformat()

        def sourced(**fields):
            return {**fields, "source": SOURCE_KEY, "effective_from": effective}

        pack: dict = {
            "jurisdiction": data["jurisdiction"],
            "name": data["name"],
            "substance": data["substance"],
            "unit": "mg of the regulated analyte, total per client per session",
            "effective_from": effective,
            "sources": {SOURCE_KEY: data["basis"]},
            "group_ratio": {
                "rule": "ORG-GROUP-RATIO",
                "bands": self._bands("ratio", "clients", "clients_per_facilitator"),
            },
            "documents": self._documents(),
        }
        if data.get("group_cap"):
            pack["group_cap"] = sourced(rule="ORG-GROUP-CAP", max_clients=data["group_cap"])
        if data.get("dose_limit") is not None:
            pack["dose_limit"] = sourced(rule="ORG-DOSE-MAX", max_mg=float(data["dose_limit"]))
        durations = self._bands("duration", "minutes", "minutes")
        if durations:
            pack["duration"] = {"rule": "ORG-DURATION", "bands": durations}
        if data.get("prep_min_hours") is not None:
            pack["preparation_window"] = sourced(
                rule="ORG-PREP-WINDOW", min_hours=data["prep_min_hours"], max_days=data["prep_max_days"]
            )
        return pack

    @classmethod
    def initial_from(cls, pack: RulePack | None, *, jurisdiction: str, today: datetime.date) -> dict:
        """Prefill from the organization's current version (a new version starts as a copy)."""
        if pack is None:
            return {"jurisdiction": jurisdiction, "effective_from": today, "substance": "psilocybin"}
        initial: dict = {
            "jurisdiction": pack.jurisdiction,
            "name": pack.name,
            "substance": pack.substance,
            "effective_from": today,
            "basis": "; ".join(pack.sources.values()),
            "group_cap": pack.group_cap.max_clients if pack.group_cap else None,
            "dose_limit": pack.dose_limit.max_mg if pack.dose_limit else None,
        }
        for i, band in enumerate(sorted(pack.group_ratio.bands, key=lambda b: b.min_mg)[:RATIO_ROWS]):
            initial[f"ratio_from_{i}"], initial[f"ratio_clients_{i}"] = band.min_mg, band.clients_per_facilitator
        if pack.duration is not None:
            for i, dband in enumerate(sorted(pack.duration.bands, key=lambda b: b.min_mg)[:DURATION_ROWS]):
                initial[f"duration_from_{i}"], initial[f"duration_minutes_{i}"] = dband.min_mg, dband.minutes
        if pack.preparation_window is not None:
            initial["prep_min_hours"] = pack.preparation_window.min_hours
            initial["prep_max_days"] = pack.preparation_window.max_days
        for i, document in enumerate(pack.documents[:DOCUMENT_ROWS]):
            initial[f"document_{i}"] = document.label
        return initial


class LegalStatusRowForm(forms.ModelForm):
    statuses = forms.MultipleChoiceField(
        label=_("Status codes"), choices=[(c, c) for c in STATUS_CODES], widget=forms.CheckboxSelectMultiple
    )
    frameworks = forms.MultipleChoiceField(
        label=_("Frameworks the row speaks to (none: all)"),
        choices=[(f, f) for f in FRAMEWORKS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = LegalStatusRow
        fields = [
            "jurisdiction",
            "substance",
            "statuses",
            "frameworks",
            "effective_from",
            "expires_on",
            "legal_basis",
            "source",
            "confidence",
            "conditions",
            "note",
        ]
        widgets = {
            "effective_from": forms.DateInput(attrs={"type": "date"}),
            "expires_on": forms.DateInput(attrs={"type": "date"}),
            "conditions": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }


class LawfulnessForm(forms.Form):
    jurisdiction = jurisdiction_field
    substance = forms.RegexField(regex=SUBSTANCE, max_length=40, label=_("Substance"), initial="psilocybin")
    framework = forms.ChoiceField(label=_("Framework"), choices=[(f, f) for f in FRAMEWORKS])
    on = forms.DateField(label=_("On"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


# --- Oregon's 303 Client Data Form (SB 303) ---------------------------------------------------

# Every label in data/sb303.json, marked so that makemessages extracts it; the form translates
# them when it is built. County names are proper nouns and stay as they are. A test keeps this
# list equal to the file.
SB303_LABELS = (
    gettext_noop("Race"),
    gettext_noop("American Indian or Alaska Native"),
    gettext_noop("Asian"),
    gettext_noop("Black or African American"),
    gettext_noop("Middle Eastern or North African"),
    gettext_noop("Native Hawaiian or Pacific Islander"),
    gettext_noop("White"),
    gettext_noop("Another race"),
    gettext_noop("Prefer not to answer"),
    gettext_noop("Hispanic or Latino/a/x/e"),
    gettext_noop("Not Hispanic or Latino/a/x/e"),
    gettext_noop("Preferred spoken language"),
    gettext_noop("Preferred written language"),
    gettext_noop("Disability"),
    gettext_noop("Yes"),
    gettext_noop("No"),
    gettext_noop("Sexual orientation"),
    gettext_noop("Straight or heterosexual"),
    gettext_noop("Gay or lesbian"),
    gettext_noop("Bisexual or pansexual"),
    gettext_noop("Queer"),
    gettext_noop("Asexual"),
    gettext_noop("Another orientation"),
    gettext_noop("Questioning or unsure"),
    gettext_noop("Gender identity"),
    gettext_noop("Woman"),
    gettext_noop("Man"),
    gettext_noop("Non-binary"),
    gettext_noop("Transgender woman"),
    gettext_noop("Transgender man"),
    gettext_noop("Two-Spirit"),
    gettext_noop("Another gender"),
    gettext_noop("Annual household income"),
    gettext_noop("Under $25,000"),
    gettext_noop("$25,000 to $49,999"),
    gettext_noop("$50,000 to $74,999"),
    gettext_noop("$75,000 to $99,999"),
    gettext_noop("$100,000 to $149,999"),
    gettext_noop("$150,000 to $199,999"),
    gettext_noop("$200,000 or more"),
    gettext_noop("County of residence"),
    gettext_noop("Outside Oregon"),
    gettext_noop("Reasons for seeking services"),
    gettext_noop("General health and wellness"),
    gettext_noop("A change in perspective"),
    gettext_noop("Expanded consciousness"),
    gettext_noop("Depression"),
    gettext_noop("Anxiety"),
    gettext_noop("Trauma or PTSD"),
    gettext_noop("Substance use"),
    gettext_noop("End of life or serious illness"),
    gettext_noop("Grief"),
    gettext_noop("Spiritual or religious reasons"),
    gettext_noop("Another reason"),
    gettext_noop("Veteran status"),
    gettext_noop("Veteran"),
    gettext_noop("Not a veteran"),
)
RADIO_MAX_CHOICES = 10  # longer single-choice lists (the counties) are a select
DECLINED = "declined"


class DeclinedAloneField(forms.MultipleChoiceField):
    """Checkboxes where "Prefer not to answer" cannot be ticked with anything else."""

    def validate(self, value):
        super().validate(value)
        if DECLINED in value and len(value) > 1:
            raise forms.ValidationError(_("“Prefer not to answer” cannot be combined with other answers."))


def _answer_field(field: Field) -> forms.Field:
    label = _(field.label)
    if field.language:
        return forms.RegexField(
            regex=LANGUAGE_TAG,
            max_length=35,
            required=False,
            label=label,
            help_text=_("A language tag such as en, es or pt-BR."),
            error_messages={"invalid": _("Use a language tag such as en, es or pt-BR.")},
        )
    choices = [(code, _(text)) for code, text in field.choices]
    if field.multiple:
        return DeclinedAloneField(label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple)
    if len(choices) > RADIO_MAX_CHOICES:
        return forms.ChoiceField(label=label, choices=[("", "—"), *choices], required=False)
    return forms.ChoiceField(label=label, choices=choices, required=False, widget=forms.RadioSelect)


class ClientDataAnswersForm(forms.Form):
    """Oregon's 303 Client Data Form, built from ``sb303.definition()``. Every question may be left
    unanswered; ticking ``withheld`` keeps no answers at all. ``by_client`` words it for the client
    answering through their own link (no collection date: it is today)."""

    def __init__(self, *args, by_client: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["withheld"] = forms.BooleanField(
            required=False,
            label=_("I choose to withhold my data from the state report")
            if by_client
            else _("The client chooses to withhold their data from the state report"),
            help_text=_("When this is ticked, none of the answers below are kept."),
        )
        for field in definition().fields:
            self.fields[field.code] = _answer_field(field)
        if not by_client:
            self.fields["collected_on"] = forms.DateField(
                label=_("Date the client completed the form"),
                required=False,
                initial=timezone.localdate,
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    @staticmethod
    def initial_for(*, newest, language: str) -> dict:
        """Start from the newest form's answers; language questions default to the participant's."""
        answers = dict(newest.answers) if newest is not None and not newest.withheld else {}
        for field in definition().fields:
            if field.language and not answers.get(field.code):
                answers[field.code] = language
        return answers

    def answer_fields(self):
        return [self[field.code] for field in definition().fields]

    def answers(self) -> dict:
        return {field.code: self.cleaned_data.get(field.code) for field in definition().fields}

    def clean_collected_on(self):
        value = self.cleaned_data.get("collected_on")
        if value is not None and value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value

    def clean(self):
        data = super().clean() or {}
        if not self.errors and not data.get("withheld"):
            try:
                clean_answers(self.answers())
            except ClientDataError as exc:
                self.add_error(None, str(exc))
        return data

    def record_kwargs(self) -> dict:
        """Arguments for ``services.client_data_record`` (call after ``is_valid``)."""
        withheld = bool(self.cleaned_data.get("withheld"))
        return {
            "withheld": withheld,
            "answers": {} if withheld else self.answers(),
            "collected_on": self.cleaned_data.get("collected_on"),
        }


# --- Reporting settings -------------------------------------------------------------------------

OPT_OUT_SCOPE_LABELS = {
    ReportingSettings.OptOutScope.EVERYTHING: _(
        "Everything: clients who withheld their data are left out of the center counts too "
        "(Oregon DOJ's reading of SB 303)"
    ),
    ReportingSettings.OptOutScope.DEMOGRAPHICS: _(
        "Client data only: clients who withheld their data still count in the center counts "
        "(the rule text only excludes them from the client data)"
    ),
}


class ReportingSettingsForm(forms.Form):
    opt_out_scope = forms.ChoiceField(
        label=_("What a client's choice to withhold their data leaves out of the SB 303 report"),
        choices=list(OPT_OUT_SCOPE_LABELS.items()),
        widget=forms.RadioSelect,
    )
    threshold = forms.IntegerField(
        label=_("Small-cell threshold"),
        min_value=2,
        max_value=100,
        help_text=_(
            "Counts below this number are hidden in the reports. Oregon sets no number; 11 follows the "
            "CMS cell-size policy."
        ),
    )
