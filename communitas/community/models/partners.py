"""Community partners: the organizations participants are referred to (peer groups, cultural and
spiritual communities, Indigenous wisdom keepers, clinics, crisis lines), referrals, and the
knowledge, data or practices partners contribute, with the partner's approvals for their use.

Partner contributions follow the CARE Principles for Indigenous Data Governance (Collective
benefit, Authority to control, Responsibility, Ethics): Carroll, S. R. et al. (2020), "The CARE
Principles for Indigenous Data Governance", Data Science Journal 19:43,
doi:10.5334/dsj-2020-043. A contribution that needs the partner's approval may be reused or
exported only under a current ``ContributionApproval``; see ``community/governance.py``.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedCharField, EncryptedEmailField, EncryptedTextField
from communitas.core.models import OrganizationScopedModel
from communitas.facilitators.models import language_tags
from communitas.participants.models import phone_number

# A public line may be a short code: 988 (US Suicide & Crisis Lifeline), 116 123 (Samaritans, UK).
public_line = RegexValidator(r"^[0-9+().\- ]{3,40}$", _("Use digits, spaces and + ( ) - . only."))

__all__ = ["ContributionApproval", "Partner", "PartnerContribution", "Referral"]


class Partner(OrganizationScopedModel):
    class Kind(models.TextChoices):
        PEER_GROUP = "peer_group", _("Peer group")
        CULTURAL_COMMUNITY = "cultural_community", _("Cultural community")
        SPIRITUAL_COMMUNITY = "spiritual_community", _("Spiritual community")
        INDIGENOUS_WISDOM_KEEPERS = "indigenous_wisdom_keepers", _("Indigenous wisdom keepers")
        CLINIC = "clinic", _("Clinic")
        CRISIS_LINE = "crisis_line", _("Crisis line")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    public_phone = models.CharField(_("public phone line"), max_length=40, blank=True, validators=[public_line])
    # The named contact person is personal data: encrypted at rest.
    contact_name = EncryptedCharField(_("contact person"), max_length=150, blank=True)
    contact_email = EncryptedEmailField(_("contact email"), max_length=254, blank=True)
    contact_phone = EncryptedCharField(_("contact phone"), max_length=40, blank=True, validators=[phone_number])
    languages = models.JSONField(_("languages"), default=list, blank=True, validators=[language_tags])
    services = models.JSONField(_("services"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="partner_unique_name")]
        indexes = [models.Index(fields=["organization", "active", "name"], name="partner_org_list_idx")]

    def __str__(self) -> str:
        return self.name


class Referral(OrganizationScopedModel):
    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        MADE = "made", _("Made")
        ACCEPTED = "accepted", _("Accepted by the partner")
        DECLINED = "declined", _("Declined")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="community_referrals"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED)
    status_changed_at = models.DateTimeField()
    made_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    note = EncryptedTextField(_("note"), max_length=2000, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "status", "status_changed_at"], name="referral_status_idx"),
            models.Index(fields=["participant", "-created_at"], name="referral_participant_idx"),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} ({self.status})"


class PartnerContribution(OrganizationScopedModel):
    class Kind(models.TextChoices):
        KNOWLEDGE = "knowledge", _("Knowledge")
        DATA = "data", _("Data")
        PRACTICE = "practice", _("Practice")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="contributions")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    requires_partner_approval = models.BooleanField(
        _("reuse or export needs the partner's approval"),
        default=True,
        help_text=_("CARE: the partner keeps authority to control its knowledge and data."),
    )
    governance_note = models.TextField(_("governance note"), max_length=4000, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return self.title


class ContributionApproval(OrganizationScopedModel):
    """The partner's recorded permission to reuse or export a contribution, from a named person
    at the partner, from ``approved_on`` through ``expires_on`` (inclusive) unless revoked."""

    class Scope(models.TextChoices):
        REUSE = "reuse", _("Reuse")
        EXPORT = "export", _("Export")
        BOTH = "both", _("Reuse and export")

    contribution = models.ForeignKey(PartnerContribution, on_delete=models.PROTECT, related_name="approvals")
    approved_by_name = EncryptedCharField(_("approved by (person at the partner)"), max_length=150)
    approved_by_role = models.CharField(_("their role"), max_length=150, blank=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    approved_on = models.DateField(_("approved on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("approved_on")),
                name="contribution_approval_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"approval {self.pk} ({self.scope})"
