"""Peer-support pods (3-5 people) and buddy pairs formed after a retreat, the preferences they
are matched on, the pairs staff must never put together, and the check-ins members log.

A proposal is a batch of draft pods for one retreat made by ``communitas.community.pods``;
staff adjust and send it; each member accepts or declines in their community space."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedCharField, EncryptedTextField
from communitas.core.models import OrganizationScopedModel

__all__ = ["NeverTogether", "Pod", "PodCheckIn", "PodMember", "PodPreference", "PodProposal"]


class PodPreference(OrganizationScopedModel):
    """What a participant says about the pod they would like (all optional)."""

    class Size(models.TextChoices):
        EITHER = "either", _("Either a pod or a buddy")
        POD = "pod", _("A pod of 3 to 5 people")
        PAIR = "pair", _("One buddy")

    class Slot(models.TextChoices):
        WEEKDAY_MORNING = "weekday_morning", _("Weekday mornings")
        WEEKDAY_AFTERNOON = "weekday_afternoon", _("Weekday afternoons")
        WEEKDAY_EVENING = "weekday_evening", _("Weekday evenings")
        WEEKEND_MORNING = "weekend_morning", _("Weekend mornings")
        WEEKEND_AFTERNOON = "weekend_afternoon", _("Weekend afternoons")
        WEEKEND_EVENING = "weekend_evening", _("Weekend evenings")

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.PROTECT, related_name="pod_preference"
    )
    languages = models.JSONField(_("languages I can talk in"), default=list, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, help_text=_("e.g. America/Los_Angeles"))
    area = EncryptedCharField(_("town or area (for meeting in person)"), max_length=80, blank=True)
    availability = models.JSONField(_("times that suit me"), default=list, blank=True)
    size = models.CharField(_("I would like"), max_length=8, choices=Size.choices, default=Size.EITHER)
    veteran = models.BooleanField(_("I am a veteran"), default=False)
    prefer_veterans = models.BooleanField(_("I would prefer other veterans"), default=False)

    def __str__(self) -> str:
        return f"pod preferences of {self.participant_id}"


class NeverTogether(OrganizationScopedModel):
    """Two people who must never be grouped (pods, and group formation may read it too).
    Recorded by staff with a reason code only; the pair is stored with the lower id first."""

    class Reason(models.TextChoices):
        RELATIONSHIP = "relationship", _("Close relationship (partner, family, ex-partner)")
        CONFLICT = "conflict", _("Conflict or safety concern")
        REQUEST = "request", _("One of them asked")
        CLINICAL = "clinical", _("Clinical judgement")
        OTHER = "other", _("Other")

    participant_a = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="+")
    participant_b = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(participant_a__lt=models.F("participant_b")), name="never_together_ordered"
            ),
            models.UniqueConstraint(fields=["participant_a", "participant_b"], name="never_together_once"),
        ]

    def __str__(self) -> str:
        return f"never {self.participant_a_id} with {self.participant_b_id}"


class PodProposal(OrganizationScopedModel):
    """One run of the proposal function for a retreat: its pods, and who could not be placed
    (participant ids with reason codes, no names)."""

    retreat = models.ForeignKey("programs.Retreat", on_delete=models.PROTECT, related_name="pod_proposals")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    unplaced = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"pod proposal {self.pk} for {self.retreat_id}"


class Pod(OrganizationScopedModel):
    class Kind(models.TextChoices):
        PAIR = "pair", _("Buddy pair")
        POD = "pod", _("Pod")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft (staff reviewing)")
        SENT = "sent", _("Proposed to members")
        ACTIVE = "active", _("Active")
        DISSOLVED = "dissolved", _("Did not form")
        CLOSED = "closed", _("Closed")

    retreat = models.ForeignKey("programs.Retreat", on_delete=models.PROTECT, related_name="pods")
    proposal = models.ForeignKey(PodProposal, on_delete=models.PROTECT, null=True, blank=True, related_name="pods")
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.POD)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    explanation = models.JSONField(default=list, blank=True)  # reason codes from pods.explain, no PII
    sent_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["retreat", "status"], name="pod_retreat_status_idx")]

    def __str__(self) -> str:
        return self.name


class PodMember(OrganizationScopedModel):
    class Response(models.TextChoices):
        PENDING = "pending", _("Not answered yet")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="members")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="pod_members")
    response = models.CharField(max_length=10, choices=Response.choices, default=Response.PENDING)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pod", "participant"], name="pod_member_once")]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.pod_id}"


class PodCheckIn(OrganizationScopedModel):
    """A member's record that the pod met or talked. The note is encrypted and read only by its
    author, or by the pod's members when the author shares it with them; staff never read it."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        CALL = "call", _("Phone call")
        VIDEO = "video", _("Video")
        MESSAGE = "message", _("Messages")

    pod = models.ForeignKey(Pod, on_delete=models.PROTECT, related_name="check_ins")
    author = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="pod_check_ins")
    on = models.DateField(_("date"))
    mode = models.CharField(_("how"), max_length=10, choices=Mode.choices)
    mood = models.PositiveSmallIntegerField(_("mood (0-10)"), null=True, blank=True)
    note = EncryptedTextField(_("note"), max_length=2000, blank=True)
    note_shared = models.BooleanField(_("share my note with my pod"), default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mood__isnull=True) | models.Q(mood__lte=10), name="pod_check_in_mood_range"
            ),
        ]
        indexes = [models.Index(fields=["pod", "-on"], name="pod_check_in_pod_idx")]

    def __str__(self) -> str:
        return f"check-in {self.pk} in {self.pod_id}"
