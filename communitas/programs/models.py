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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="program_unique_name")]

    def __str__(self) -> str:
        return self.name


class Enrollment(OrganizationScopedModel):
    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
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
