"""Forms for an organization's own rule pack, the legal-status registry and the lawfulness question.

The rule-pack form is a coordinator's view of ``rulepacks.RulePack``: a few rows of bands and
documents instead of JSON. ``RulePackForm.pack_data`` turns it into the JSON the engine reads; the
engine (``organization_pack``) is the one validator, and its one-line message is shown on the form.
"""

from __future__ import annotations

import datetime

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from communitas.compliance.legal_status import FRAMEWORKS, STATUS_CODES, SUBSTANCE, SUBSTANCES
from communitas.compliance.models import LegalStatusRow
from communitas.compliance.rulepacks import JURISDICTION, PLAUSIBLE_MAX_MG, RulePack

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
