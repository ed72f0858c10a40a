"""Group formation for a retreat or cohort: what a coordinator records about each applicant for
matching (beyond what the platform already knows), and each run of the solver with its input and
result, so an assignment can always be explained and re-run with locks.

The solver itself is pure (``communitas.community.formation``); ``formation_services`` builds its
input from the database and applies a result to the circles."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedCharField
from communitas.core.models import OrganizationScopedModel

__all__ = ["FormationRun", "MatchingProfile"]


class MatchingProfile(OrganizationScopedModel):
    """Self-described facts used only to form balanced circles (all optional). Gender is
    sensitive: encrypted, never exported with the run (runs carry codes, not names)."""

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non_binary", _("Non-binary")
        SELF_DESCRIBED = "self_described", _("Another identity")
        UNDISCLOSED = "", _("Not said")

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.PROTECT, related_name="matching_profile"
    )
    gender = EncryptedCharField(_("gender"), max_length=20, blank=True, choices=Gender.choices)
    together_with = models.ManyToManyField(
        "participants.Participant",
        blank=True,
        related_name="+",
        verbose_name=_("asked to be in the same circle as"),
    )

    def __str__(self) -> str:
        return f"matching profile of {self.participant_id}"


class FormationRun(OrganizationScopedModel):
    """One solver run for a retreat: its input (ids are participant pseudonyms and facilitator
    profile ids, no names), its result, and whether it was applied to the circles."""

    retreat = models.ForeignKey("programs.Retreat", on_delete=models.PROTECT, related_name="formation_runs")
    problem = models.JSONField()
    result = models.JSONField()
    status = models.CharField(max_length=12)  # optimal | feasible | infeasible | unknown
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["retreat", "-created_at"], name="formation_run_retreat_idx")]

    def __str__(self) -> str:
        return f"formation run {self.pk} for retreat {self.retreat_id}: {self.status}"
