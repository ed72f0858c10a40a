"""The legal-status registry table: rows admins add to extend or override the shipped rows.

Rows are global (the law is the same for every organization), so they carry no organization; the
audit entry for each row goes to the system chain. How rows are combined: ``legal_status.py``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from communitas.compliance.legal_status import FRAMEWORKS, JURISDICTION, STATUS_CODES, SUBSTANCE
from communitas.compliance.rulepacks import RulePack, organization_pack
from communitas.core.fields import EncryptedJSONField
from communitas.core.models import BaseModel, OrganizationScopedModel


def validate_statuses(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one status code.")
    unknown = [code for code in value if code not in STATUS_CODES]
    if unknown:
        raise ValidationError(f"Unknown status codes: {unknown} (known: {', '.join(STATUS_CODES)}).")
    if len(set(value)) != len(value):
        raise ValidationError("Each status code at most once.")


def validate_frameworks(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Frameworks are a list (empty: the row speaks to every framework).")
    unknown = [name for name in value if name not in FRAMEWORKS]
    if unknown:
        raise ValidationError(f"Unknown frameworks: {unknown} (known: {', '.join(FRAMEWORKS)}).")


class LegalStatusRow(BaseModel):
    """One layer's statement about one substance (country ``US``, state ``US-OR``, local
    ``US-OR-MUL``). The newest row in effect of the most specific layer that speaks wins."""

    class Confidence(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "med", "Medium"
        LOW = "low", "Low"

    jurisdiction = models.CharField(
        max_length=24,
        validators=[RegexValidator(JURISDICTION, "An ISO 3166 code such as US, US-OR or US-OR-MUL.")],
    )
    substance = models.CharField(
        max_length=40, validators=[RegexValidator(SUBSTANCE, "A lower-case name such as psilocybin.")]
    )
    statuses = models.JSONField(validators=[validate_statuses])
    frameworks = models.JSONField(default=list, blank=True, validators=[validate_frameworks])
    effective_from = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="First day the row no longer applies.")
    legal_basis = models.CharField(max_length=300)
    source = models.CharField(max_length=500, help_text="Citation or address of the law, rule or regulator page.")
    confidence = models.CharField(max_length=4, choices=Confidence.choices, default=Confidence.HIGH)
    conditions = models.TextField(blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["jurisdiction", "substance", "effective_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("effective_from")),
                name="legal_status_row_expires_after_effective",
                violation_error_message="A row must expire after it takes effect.",
            ),
        ]
        indexes = [models.Index(fields=["substance", "jurisdiction"], name="legal_status_substance_idx")]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.substance} {'+'.join(self.statuses)} from {self.effective_from}"


class OrganizationRulePack(OrganizationScopedModel):
    """One version of an organization's own rule pack for a jurisdiction without a shipped pack
    (``rulepacks.organization_pack``): its ratio table, documents and optional limits.

    Versions are never edited: a change is a new row, and the newest version in effect on a date
    applies, so a session checked last month can be checked again against the pack it met."""

    jurisdiction = models.CharField(
        max_length=24,
        validators=[RegexValidator(JURISDICTION, "An ISO 3166 code such as US, US-CO or US-CO-DEN.")],
    )
    effective_from = models.DateField()
    name = models.CharField(max_length=200)
    pack = models.JSONField(help_text="The pack as rulepacks.organization_pack reads it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["jurisdiction", "effective_from", "pk"]
        indexes = [
            models.Index(fields=["organization", "jurisdiction", "effective_from"], name="org_rule_pack_lookup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.jurisdiction} from {self.effective_from})"

    def rule_pack(self) -> RulePack:
        return organization_pack(self.pack)


class ClientDataForm(OrganizationScopedModel):
    """One completion of Oregon's 303 Client Data Form by a client (``sb303.py``).

    Rows are never edited: a correction is a new row and the newest counts. ``withheld`` is the
    client's "do not share my data" checkbox; the answers are encrypted at rest and only ever
    leave the database aggregated and suppressed (``interop.sb303``).
    """

    class Via(models.TextChoices):
        LINK = "link", "participant link"
        STAFF = "staff", "with staff"

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="client_data_forms"
    )
    withheld = models.BooleanField(default=False)
    answers = EncryptedJSONField(default=dict, blank=True)
    collected_on = models.DateField()
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.STAFF)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["participant", "-created_at"], name="client_data_latest_idx")]

    def __str__(self) -> str:
        return f"303 client data form {self.pk} of participant {self.participant_id}"


class ReportingSettings(OrganizationScopedModel):
    """How an organization's regulator reports are built (one row per organization; defaults when
    absent). Opt-out scope: Oregon DOJ reads SB 303 as letting a client opt out of all of it, while
    the rule text only excludes them from the client data; the software keeps the choice
    configurable (research/regulatory.md §1.8 [R21]). The small-cell threshold has no Oregon number
    (§1.8 [R14]); 11 follows the CMS cell-size policy."""

    class OptOutScope(models.TextChoices):
        EVERYTHING = "everything", "everything: withheld clients are left out of the counts too"
        DEMOGRAPHICS = "demographics", "client data only: withheld clients still count in the center counts"

    sb303_opt_out_scope = models.CharField(max_length=16, choices=OptOutScope.choices, default=OptOutScope.EVERYTHING)
    small_cell_threshold = models.PositiveSmallIntegerField(default=11)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="reporting_settings_one_per_org"),
            models.CheckConstraint(condition=Q(small_cell_threshold__gte=2), name="reporting_threshold_at_least_2"),
        ]
