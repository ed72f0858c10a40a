"""Reflections a participant writes in their community space. The text is encrypted; who else
may read it is the participant's own choice per reflection (``visibility``), applied at the
moment of reading by ``communitas.community.selectors.reflections_visible_to`` and nowhere else."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedTextField
from communitas.core.models import OrganizationScopedModel

__all__ = ["Reflection"]


class Reflection(OrganizationScopedModel):
    class Visibility(models.TextChoices):
        ONLY_ME = "only_me", _("Only me")
        MY_FACILITATORS = "my_facilitators", _("My facilitators")
        MY_CIRCLE = "my_circle", _("My circle (members and facilitators)")

    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="reflections")
    body = EncryptedTextField(_("reflection"), max_length=4000)
    visibility = models.CharField(
        _("who can read it"), max_length=16, choices=Visibility.choices, default=Visibility.ONLY_ME
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visibility__in=["only_me", "my_facilitators", "my_circle"]),
                name="reflection_visibility_known",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(visibility="only_me"),
                name="reflection_withdrawn_is_private",
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "-created_at"], name="reflection_participant_idx"),
            models.Index(fields=["organization", "visibility", "withdrawn_at"], name="reflection_shared_idx"),
        ]

    def __str__(self) -> str:
        return f"reflection {self.pk} by {self.participant_id}"
