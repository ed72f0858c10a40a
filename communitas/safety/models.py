"""Safety alerts that page a human, and each organization's crisis resources.

Issue 4 adds the screening rules engine and adverse events to this app."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedJSONField, EncryptedTextField
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


class Intake(OrganizationScopedModel):
    """What a participant tells us before screening: health, medicines, history, reasons.
    Saved as they type; everything is encrypted (health data)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("In progress")
        SUBMITTED = "submitted", _("Submitted")

    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="intakes")
    substance = models.CharField(max_length=20)
    jurisdiction = models.CharField(max_length=16)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    answers = EncryptedJSONField(default=dict)
    submitted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"intake {self.pk} ({self.status})"


class Screening(OrganizationScopedModel):
    """One run of the rules engine over a submitted intake. The engine's outcome is kept as it
    was; clinicians' decisions are separate rows (``ScreeningDecision``)."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        NEEDS_REVIEW = "needs_review", _("Needs clinician review")
        EXCLUDED = "excluded", _("Excluded")

    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="screenings")
    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="screenings")
    substance = models.CharField(max_length=20)
    jurisdiction = models.CharField(max_length=16)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    escalate = models.BooleanField(default=False)
    rule_ids = models.JSONField(default=list)
    reasons = EncryptedJSONField(default=list)
    rules_version = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["participant", "substance", "created_at"], name="screening_latest_idx")]

    def __str__(self) -> str:
        return f"screening {self.pk}: {self.outcome}"


class ScreeningDecision(OrganizationScopedModel):
    """A named clinician's recorded decision on a screening, with a reason. The only thing that
    changes a screening outcome; automation never creates one."""

    class Decision(models.TextChoices):
        CLEAR = "clear", _("Clear the listed reasons")
        EXCLUDE = "exclude", _("Exclude")

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="decisions")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    rule_ids = models.JSONField(default=list, blank=True)
    reason = EncryptedTextField(max_length=4000)

    def __str__(self) -> str:
        return f"{self.decision} on screening {self.screening_id}"


class AdverseEvent(OrganizationScopedModel):
    """A reaction during or after a session, with what regulators need to know."""

    class Kind(models.TextChoices):
        BEHAVIORAL = "behavioral", _("Behavioral (psychological)")
        MEDICAL = "medical", _("Medical (physical)")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")
        LIFE_THREATENING = "life_threatening", _("Life-threatening")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        RESOLVING = "resolving", _("Resolving")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        SEQUELAE = "resolved_with_sequelae", _("Resolved with lasting effects")
        FATAL = "fatal", _("Fatal")
        UNKNOWN = "unknown", _("Unknown")

    class Relatedness(models.TextChoices):
        UNRELATED = "unrelated", _("Unrelated")
        UNLIKELY = "unlikely", _("Unlikely")
        POSSIBLE = "possible", _("Possible")
        PROBABLE = "probable", _("Probable")
        DEFINITE = "definite", _("Definite")

    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="adverse_events")
    session_ref = models.CharField(_("session"), max_length=80, blank=True, help_text=_("Which session, if any."))
    during_administration = models.BooleanField(_("during an administration session"), default=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    onset_at = models.DateTimeField(_("onset"))
    description = EncryptedTextField(_("what happened"), max_length=8000)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    serious = models.BooleanField(_("serious"), default=False)
    emergency_services = models.BooleanField(_("emergency services contacted"), default=False)
    medical_care = models.BooleanField(_("care from a medical provider needed"), default=False)
    hospital_transport = models.BooleanField(_("taken to hospital"), default=False)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, default=Outcome.UNKNOWN)
    relatedness = models.CharField(_("relatedness"), max_length=12, choices=Relatedness.choices)
    regulator_category = models.CharField(max_length=40, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["organization", "onset_at"], name="adverse_event_org_onset_idx")]

    def __str__(self) -> str:
        return f"{self.kind} event {self.pk}"


class FollowUpTask(OrganizationScopedModel):
    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(_("task"), max_length=200)
    due_on = models.DateField(_("due"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = EncryptedTextField(max_length=4000, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "done_at", "due_on"], name="followup_open_idx")]

    def __str__(self) -> str:
        return self.title
