"""Safety alerts that page a human, and each organization's crisis resources.

Issue 4 adds the screening rules engine and adverse events to this app."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedTextField
from communitas.core.models import OrganizationScopedModel


class SafetyAlert(OrganizationScopedModel):
    """A positive safety answer (e.g. PHQ-9 item 9) that a named staff member must acknowledge.
    Nothing automated closes an alert."""

    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="safety_alerts")
    flag = models.CharField(_("flag"), max_length=60)
    summary = models.CharField(_("summary"), max_length=300)
    source_type = models.CharField(max_length=80)
    source_id = models.CharField(max_length=64)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_safety_alerts"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledgement_note = EncryptedTextField(_("what was done"), max_length=4000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_type", "source_id", "flag"], name="safety_alert_once_per_source"),
        ]
        indexes = [models.Index(fields=["organization", "acknowledged_at"], name="safety_alert_open_idx")]

    def __str__(self) -> str:
        return f"{self.flag} for {self.participant_id}"


class SafetySettings(OrganizationScopedModel):
    """Who is paged for safety alerts, and which crisis resources participants are shown."""

    safety_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member paged for safety alerts"),
    )
    crisis_resources = models.JSONField(
        _("crisis resources"),
        default=list,
        blank=True,
        help_text=_("Shown to a participant whose answers raise a safety flag. Empty: the US 988 line."),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="safety_settings_one_per_org")]

    def __str__(self) -> str:
        return f"safety settings of {self.organization_id}"
