from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedTextField
from communitas.core.models import OrganizationScopedModel
from communitas.participants.models import language_tag

MAX_LANGUAGES = 20

jurisdiction_code = RegexValidator(
    r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", _("Use an ISO 3166 code such as US-OR, US-CO or a country such as PE.")
)


def not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("This date cannot be in the future."))


def language_tags(value) -> None:
    """A list of distinct language tags (en, es, pt-BR)."""
    if not isinstance(value, list) or len(value) > MAX_LANGUAGES:
        raise ValidationError(_("Give at most %(n)d language tags.") % {"n": MAX_LANGUAGES})
    if not all(isinstance(tag, str) for tag in value) or len(set(value)) != len(value):
        raise ValidationError(_("List each language tag once."))
    for tag in value:
        language_tag(tag)


class FacilitatorProfile(OrganizationScopedModel):
    """A person who guides participants: a licensed facilitator, clinician, peer or ceremonial
    guide. A guide may have no login, so the user link is optional."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="facilitator_profiles"
    )
    display_name = models.CharField(_("name"), max_length=150)
    languages = models.JSONField(
        _("languages"), default=list, blank=True, validators=[language_tags], help_text=_("Language tags.")
    )
    bio = EncryptedTextField(_("about"), max_length=2000, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=Q(user__isnull=False),
                name="facilitator_profile_unique_user",
                violation_error_message=_("This person already has a facilitator profile."),
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "active", "display_name"], name="facilitator_org_list_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Credential(OrganizationScopedModel):
    """A licence or certificate. Which kinds count where is decided in rules.py."""

    class Kind(models.TextChoices):
        OREGON_FACILITATOR_LICENSE = "oregon_facilitator_license", _("Oregon psilocybin facilitator licence")
        COLORADO_FACILITATOR = "colorado_facilitator", _("Colorado natural medicine facilitator licence")
        COLORADO_CLINICAL_FACILITATOR = (
            "colorado_clinical_facilitator",
            _("Colorado natural medicine clinical facilitator licence"),
        )
        PSYCHOLOGIST = "psychologist", _("Psychologist licence")
        PHYSICIAN = "physician", _("Physician licence (MD or DO)")
        NURSE_PRACTITIONER = "nurse_practitioner", _("Nurse practitioner licence")
        REGISTERED_NURSE = "registered_nurse", _("Registered nurse licence")
        PEER_SUPPORT_CERTIFICATION = "peer_support_certification", _("Peer support certification")
        CEREMONIAL_LINEAGE = "ceremonial_lineage", _("Ceremonial lineage or apprenticeship")
        BLS_CPR = "bls_cpr", _("Basic Life Support / CPR certification")
        OTHER = "other", _("Other")

    profile = models.ForeignKey(FacilitatorProfile, on_delete=models.PROTECT, related_name="credentials")
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    number = models.CharField(_("licence or certificate number"), max_length=64, blank=True)
    issuing_jurisdiction = models.CharField(
        _("issuing jurisdiction"),
        max_length=16,
        validators=[jurisdiction_code],
        help_text=_("ISO 3166-2 code such as US-OR, or a country code."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Leave empty if it never expires.")
    )
    verified_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="credential_valid_to_not_before_valid_from",
                violation_error_message=_("A credential cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True, verified_at__isnull=True)
                | Q(verified_by__isnull=False, verified_at__isnull=False),
                name="credential_verified_by_and_at_together",
            ),
            # A state licence is issued by that state (regulatory.md §1.1 [R25], §2 [C8][C9]).
            models.CheckConstraint(
                condition=~Q(kind="oregon_facilitator_license") | Q(issuing_jurisdiction="US-OR"),
                name="credential_oregon_licence_issued_in_oregon",
                violation_error_message=_("An Oregon facilitator licence is issued in US-OR."),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["colorado_facilitator", "colorado_clinical_facilitator"])
                | Q(issuing_jurisdiction="US-CO"),
                name="credential_colorado_licence_issued_in_colorado",
                violation_error_message=_("A Colorado facilitator licence is issued in US-CO."),
            ),
        ]
        indexes = [models.Index(fields=["organization", "valid_to"], name="credential_org_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.issuing_jurisdiction})"


class Training(OrganizationScopedModel):
    """A completed training program: classroom hours and supervised practicum hours."""

    profile = models.ForeignKey(FacilitatorProfile, on_delete=models.PROTECT, related_name="trainings")
    program_name = models.CharField(_("training program"), max_length=200)
    hours = models.DecimalField(
        _("hours"), max_digits=5, decimal_places=1, validators=[MinValueValidator(0), MaxValueValidator(5000)]
    )
    practicum_hours = models.DecimalField(
        _("practicum hours"),
        max_digits=5,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(5000)],
    )
    completed_on = models.DateField(_("completed on"), validators=[not_in_future])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gte=0, practicum_hours__gte=0), name="training_hours_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.program_name


class Competency(OrganizationScopedModel):
    """A skill the organization has signed off, once per person and skill."""

    class Code(models.TextChoices):
        TRAUMA_INFORMED_CARE = "trauma_informed_care", _("Trauma-informed care")
        GROUP_FACILITATION = "group_facilitation", _("Group facilitation")
        MDMA_PROTOCOL = "mdma_protocol", _("MDMA-assisted therapy protocol")
        PSILOCYBIN_PROTOCOL = "psilocybin_protocol", _("Psilocybin session protocol")
        BLS_CPR = "bls_cpr", _("Basic Life Support / CPR")
        CULTURAL_HUMILITY = "cultural_humility", _("Cultural humility")
        CONSENT_AND_TOUCH = "consent_and_touch", _("Consent and supportive touch")
        CRISIS_RESPONSE = "crisis_response", _("Crisis response and de-escalation")
        SUICIDE_RISK = "suicide_risk", _("Suicide risk assessment and safety planning")
        INTEGRATION_SUPPORT = "integration_support", _("Integration support")

    profile = models.ForeignKey(FacilitatorProfile, on_delete=models.PROTECT, related_name="competencies")
    code = models.CharField(_("competency"), max_length=40, choices=Code.choices)
    attained_on = models.DateField(_("attained on"), validators=[not_in_future])

    class Meta:
        verbose_name_plural = "competencies"
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "code"],
                name="competency_unique_per_profile",
                violation_error_message=_("This competency is already recorded."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_code_display()


class SupervisionEntry(OrganizationScopedModel):
    """One supervision or consultation meeting. The notes are encrypted at rest."""

    profile = models.ForeignKey(FacilitatorProfile, on_delete=models.PROTECT, related_name="supervision_entries")
    supervisor = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    met_on = models.DateField(_("met on"), validators=[not_in_future])
    minutes = models.PositiveIntegerField(_("minutes"), validators=[MinValueValidator(1), MaxValueValidator(720)])
    notes = EncryptedTextField(_("notes"), max_length=4000, blank=True)

    class Meta:
        verbose_name_plural = "supervision entries"
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=1), name="supervision_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"supervision of {self.profile_id} on {self.met_on}"
