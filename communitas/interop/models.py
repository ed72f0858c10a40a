"""What leaves the platform: one log row per export or report (who, when, what kind, which
fields, how many rows, with what protection), research projects (whose keyed pseudonyms and date
shifts stay consistent across exports), and data-sharing agreements between organizations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedCharField
from communitas.core.models import OrganizationScopedModel


class ExportLog(OrganizationScopedModel):
    class Kind(models.TextChoices):
        SB303 = "sb303", _("Oregon SB 303 quarterly report")
        COLORADO_SESSIONS = "colorado_sessions", _("Colorado session records")
        RESEARCH = "research", _("De-identified research export")
        REDCAP = "redcap", _("REDCap export")
        FHIR = "fhir", _("FHIR bundle export")
        FHIR_IMPORT = "fhir_import", _("FHIR bundle import")
        RECORDS = "records", _("A participant's own records")
        SHARING = "sharing", _("Shared under a data-sharing agreement")

    class Via(models.TextChoices):
        WEB = "web", _("web")
        CLI = "cli", _("command line")
        API = "api", _("API")
        LINK = "link", _("participant link")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    via = models.CharField(max_length=8, choices=Via.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fields = models.JSONField(default=list, blank=True)
    rows = models.PositiveIntegerField(default=0)
    k_achieved = models.PositiveIntegerField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="exportlog_org_recent_idx")]

    def __str__(self) -> str:
        return f"{self.kind} export {self.pk} ({self.rows} rows)"


class ResearchProject(OrganizationScopedModel):
    """A study that receives de-identified exports. Its secret keys the pseudonyms and date shifts,
    so the same person has the same code and offset in every export to this project, and codes
    cannot be linked across projects."""

    name = models.CharField(_("name"), max_length=200)
    secret = EncryptedCharField(max_length=128, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="research_project_unique_name")]

    def __str__(self) -> str:
        return self.name


class DataSharingAgreement(OrganizationScopedModel):
    """The owning organization (``organization``) lets ``recipient`` receive data on the listed
    participants, for the listed consent scopes, until ``ends_on``. Nothing crosses without one."""

    recipient = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    participants = models.ManyToManyField("participants.Participant", blank=True, related_name="+")
    scopes = models.JSONField(_("consent scopes covered"), default=list)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="sharing_agreement_dates_ordered"),
            models.CheckConstraint(condition=~Q(recipient=F("organization")), name="sharing_agreement_other_org"),
        ]

    def __str__(self) -> str:
        return self.title
