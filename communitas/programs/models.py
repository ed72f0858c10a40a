"""Programs and enrolments. Issue 5 grows this app (frameworks, lawfulness, retreats, circles,
sessions, doses); issue 3 needs only what outcome schedules anchor to."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.models import OrganizationScopedModel


class Program(OrganizationScopedModel):
    class Substance(models.TextChoices):
        PSILOCYBIN = "psilocybin", _("Psilocybin")
        MDMA = "mdma", _("MDMA")
        KETAMINE = "ketamine", _("Ketamine")
        ESKETAMINE = "esketamine", _("Esketamine")
        LSD = "lsd", _("LSD")
        AYAHUASCA = "ayahuasca", _("Ayahuasca")
        IBOGAINE = "ibogaine", _("Ibogaine")
        NONE = "none", _("No substance (integration or peer support only)")

    name = models.CharField(_("name"), max_length=200)
    substance = models.CharField(_("substance"), max_length=20, choices=Substance.choices)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=16, help_text=_("ISO 3166-2 code, e.g. US-OR."))
    description = models.TextField(_("description"), max_length=4000, blank=True)
    registration_open = models.BooleanField(
        _("public registration page open"), default=False, help_text=_("Anyone with the program's link can apply.")
    )
    registration_key = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)
    consent_documents = models.ManyToManyField(
        "participants.ConsentDocument", blank=True, related_name="programs", verbose_name=_("consent documents")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="program_unique_name")]

    def __str__(self) -> str:
        return self.name


class Enrollment(OrganizationScopedModel):
    class Status(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        ENROLLED = "enrolled", _("Enrolled")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ENROLLED)
    administration_date = models.DateField(
        _("administration session date"),
        null=True,
        blank=True,
        help_text=_("Outcome assessments are scheduled from this date."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "participant"], name="enrollment_unique_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.program_id}"


class Invitation(OrganizationScopedModel):
    """A link that lets one person register for a program, consent and complete intake on a
    phone. The URL carries a token signed with the secret key naming this row and its nonce."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="invitations")
    nonce = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField()
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, null=True, blank=True, related_name="invitations"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.program_id}"


class ParticipantDocument(OrganizationScopedModel):
    """A document a jurisdiction requires before dosing (e.g. Oregon's transportation plan),
    marked complete by a staff member. See ``programs/data/required_documents.json``."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=40)
    completed_at = models.DateTimeField()
    completed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "kind"], name="participant_document_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.enrollment_id}"
