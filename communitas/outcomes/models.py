from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from communitas.core.models import OrganizationScopedModel


class CustomInstrument(OrganizationScopedModel):
    """An organization's own instrument, or its translation of one, in the shipped schema
    (``definitions.Instrument``). A translation records who translated it and whether it was
    validated."""

    code = models.CharField(max_length=40)
    version = models.CharField(max_length=40)
    definition = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "code", "version"], name="custom_instrument_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.version}"


class AssessmentSchedule(OrganizationScopedModel):
    """Which instrument a program gives at which timepoints (see ``schedules.py``)."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="assessment_schedules")
    instrument_code = models.CharField(max_length=40)
    timepoints = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "instrument_code"], name="schedule_unique_instrument"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} in {self.program_id}"


class Assessment(OrganizationScopedModel):
    """One instrument owed by one participant at one timepoint. Partial answers autosave into
    ``draft_answers`` until the response is submitted."""

    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="assessments")
    enrollment = models.ForeignKey(
        "programs.Enrollment", on_delete=models.PROTECT, null=True, blank=True, related_name="assessments"
    )
    instrument_code = models.CharField(max_length=40)
    timepoint = models.CharField(max_length=30)
    due_on = models.DateField()
    opens_on = models.DateField()
    closes_on = models.DateField()
    language = models.CharField(max_length=16, blank=True)
    draft_answers = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When its response arrived (a copy of ``response.submitted_at``, set with the response): the
    # worklists find what is still owed through the partial index below instead of an anti-join
    # over every assessment.
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "instrument_code", "timepoint"], name="assessment_unique_timepoint"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "closes_on"], name="assessment_org_closes_idx"),
            models.Index(
                fields=["organization", "closes_on"],
                name="assessment_owed_idx",
                condition=models.Q(responded_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(fields=["participant", "due_on"], name="assessment_participant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code}@{self.timepoint} for {self.participant_id}"


class AssessmentLink(OrganizationScopedModel):
    """A participant's way into one assessment without an account. The URL carries a token
    signed with the secret key naming this row and its nonce; the row carries expiry and
    revocation."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="links")
    nonce = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link {self.pk} for assessment {self.assessment_id}"


class Response(OrganizationScopedModel):
    """The submitted answers of one assessment (at most one: a second submit changes nothing)."""

    class Source(models.TextChoices):
        LINK = "link", _("Participant link")
        STAFF = "staff", _("Entered by staff")
        IMPORT = "import", _("Imported")

    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="response")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="responses")
    instrument_code = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=40)
    language = models.CharField(max_length=16)
    answers = models.JSONField()
    source = models.CharField(max_length=10, choices=Source.choices)
    submission_id = models.CharField(max_length=64, unique=True)
    submitted_at = models.DateTimeField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["participant", "instrument_code", "submitted_at"], name="response_timeline_idx")
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} response {self.pk}"


class Score(OrganizationScopedModel):
    """The engine's result for one response (re-scorable; the engine is pure)."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="score")
    instrument_code = models.CharField(max_length=40)
    complete = models.BooleanField()
    total = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    subscales = models.JSONField(default=dict)
    flags = models.JSONField(default=list)
    extras = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.instrument_code}={self.total}"


class ProgramAssessmentCounts(OrganizationScopedModel):
    """A program's worklist counts for the outcomes home page, computed ahead of readers.

    Counting open and overdue questionnaires means an anti-join over every assessment of every
    program (seconds at 100,000 participants), so the page reads these and says when they were
    counted; ``outcomes.selectors.programs_with_counts`` recomputes them when older than
    ``COMMUNITAS_DASHBOARD_MAX_AGE`` and ``communitas refresh-dashboards`` keeps them fresh."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="assessment_counts")
    enrolled = models.PositiveIntegerField()
    open_now = models.PositiveIntegerField()
    overdue = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"assessment counts of program {self.program_id}"
