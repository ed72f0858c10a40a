"""Programs and enrolments. Issue 5 grows this app (frameworks, lawfulness, retreats, circles,
sessions, doses); issue 3 needs only what outcome schedules anchor to."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedTextField
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

    class Framework(models.TextChoices):
        LICENSED_SERVICE_CENTER = "licensed_service_center", _("Licensed service or healing center")
        CLINICAL_TRIAL_IND = "clinical_trial_ind", _("Clinical trial under an IND")
        RELIGIOUS_EXEMPTION = "religious_exemption", _("Religious exemption")
        AUTHORIZED_PRESCRIBER = "authorized_prescriber", _("Authorized prescriber")
        RETREAT_ABROAD = "retreat_abroad", _("Retreat abroad where lawful")
        PERSONAL_USE_COMMUNITY = "personal_use_community", _("Community support around lawful personal use")

    class Model(models.TextChoices):
        SERVICE_CENTER_GROUP = "service_center_group", _("Service-center group")
        RETREAT = "retreat", _("Retreat")
        CLINICAL_RESEARCH = "clinical_research", _("Clinical research")
        COMMUNITY_CIRCLE = "community_circle", _("Community circle")

    name = models.CharField(_("name"), max_length=200)
    substance = models.CharField(_("substance"), max_length=20, choices=Substance.choices)
    framework = models.CharField(
        _("legal framework"), max_length=30, choices=Framework.choices, default=Framework.LICENSED_SERVICE_CENTER
    )
    model = models.CharField(_("model"), max_length=30, choices=Model.choices, default=Model.SERVICE_CENTER_GROUP)
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
    retreat = models.ForeignKey(
        "programs.Retreat", on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
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


class Retreat(OrganizationScopedModel):
    """A retreat or cohort: people who go through a program together, with a capacity."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="retreats")
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity (participants)"))
    rooms = models.JSONField(_("rooms"), default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="retreat_dates_ordered"
            ),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="retreat_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Circle(OrganizationScopedModel):
    """A group of participants with their facilitators: the unit of community."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="circles")
    retreat = models.ForeignKey(Retreat, on_delete=models.PROTECT, null=True, blank=True, related_name="circles")
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language"), max_length=16, default="en")
    affinity = models.CharField(_("affinity focus"), max_length=60, blank=True, help_text=_("e.g. veterans"))
    capacity = models.PositiveIntegerField(_("capacity"), default=12)
    members = models.ManyToManyField("participants.Participant", blank=True, related_name="circles")
    facilitators = models.ManyToManyField("facilitators.FacilitatorProfile", blank=True, related_name="circles")

    def __str__(self) -> str:
        return self.name


class Session(OrganizationScopedModel):
    class Kind(models.TextChoices):
        PREPARATION = "preparation", _("Preparation")
        ADMINISTRATION = "administration", _("Administration")
        INTEGRATION = "integration", _("Integration")
        CIRCLE_MEETING = "circle_meeting", _("Integration circle meeting")
        COMMUNITY_ACTIVITY = "community_activity", _("Community activity")

    class Activity(models.TextChoices):
        GROUP_DISCUSSION = "group_discussion", _("Group discussion")
        MEDITATION = "meditation", _("Meditation")
        CREATIVE_EXPRESSION = "creative_expression", _("Creative expression")
        CEREMONY = "ceremony", _("Ceremony")
        MEAL = "meal", _("Shared meal")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="sessions")
    retreat = models.ForeignKey(Retreat, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions")
    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    activity = models.CharField(_("activity"), max_length=24, choices=Activity.choices, blank=True)
    title = models.CharField(_("title"), max_length=200)
    location = models.CharField(_("location"), max_length=200, blank=True)
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    facilitators = models.ManyToManyField("facilitators.FacilitatorProfile", blank=True, related_name="sessions")
    validation = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gt=models.F("planned_start")), name="session_times_ordered"
            ),
        ]
        indexes = [models.Index(fields=["organization", "planned_start"], name="session_org_start_idx")]

    def __str__(self) -> str:
        return self.title


class Attendance(OrganizationScopedModel):
    class Status(models.TextChoices):
        EXPECTED = "expected", _("Expected")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Absent")
        LEFT_EARLY = "left_early", _("Left early")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.EXPECTED)
    planned_dose_mg = models.DecimalField(
        _("agreed estimated total dose (mg)"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "participant"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.participant_id} at {self.session_id}"


class DoseRecord(OrganizationScopedModel):
    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial")
        SECONDARY = "secondary", _("Secondary")

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="doses")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="doses")
    product = models.CharField(_("product"), max_length=200)
    unique_id = models.CharField(_("lot or unique id"), max_length=100)
    amount_mg = models.DecimalField(_("amount of the regulated analyte (mg)"), max_digits=6, decimal_places=2)
    kind = models.CharField(_("dose"), max_length=10, choices=Kind.choices)
    taken_at = models.DateTimeField(_("taken at"))
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(amount_mg__gt=0), name="dose_positive")]

    def __str__(self) -> str:
        return f"{self.amount_mg} mg ({self.kind})"


class VitalSigns(OrganizationScopedModel):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="vitals")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="vitals")
    taken_at = models.DateTimeField(_("taken at"))
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"vitals {self.pk}"


class FacilitatorNote(OrganizationScopedModel):
    """A facilitator's note about a participant: encrypted, visible only to its author and
    the people they share it with."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, null=True, blank=True, related_name="notes")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("note"), max_length=8000)
    shared_with = models.ManyToManyField("accounts.User", blank=True, related_name="shared_notes")

    def __str__(self) -> str:
        return f"note {self.pk}"


class CalendarFeed(OrganizationScopedModel):
    """A secret calendar address (iCalendar) for one facilitator's or one circle's sessions.
    Only the SHA-256 of its token is stored; the token is shown once, like an API token."""

    class Kind(models.TextChoices):
        FACILITATOR = "facilitator", _("Facilitator")
        CIRCLE = "circle", _("Circle")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    facilitator = models.ForeignKey(
        "facilitators.FacilitatorProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calendar_feeds",
        verbose_name=_("facilitator"),
    )
    circle = models.ForeignKey(
        Circle, on_delete=models.PROTECT, null=True, blank=True, related_name="calendar_feeds", verbose_name=_("circle")
    )
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="facilitator", facilitator__isnull=False, circle__isnull=True)
                | models.Q(kind="circle", circle__isnull=False, facilitator__isnull=True),
                name="calendar_feed_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"calendar feed {self.pk} ({self.kind})"
