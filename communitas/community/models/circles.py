"""Integration circles after the retreat: recurring meeting series, group agreements and the
waitlist of a programs ``Circle``.

A series generates its meetings as programs ``Session`` rows of kind ``circle_meeting`` (staff,
attendance and facilitator notes live there); ``SeriesMeeting`` remembers which sessions a series
made. A series may run past its retreat's end: integration continues in the community.
"""

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from communitas.core.fields import EncryptedCharField
from communitas.core.models import OrganizationScopedModel

__all__ = ["AgreementAcceptance", "CircleAgreement", "CircleSeries", "CircleWaitlistEntry", "SeriesMeeting"]

MAX_MEETINGS = 104  # two years of weekly meetings; extend the series for more


def time_zone_name(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Use a time zone name such as America/Los_Angeles."))


class CircleSeries(OrganizationScopedModel):
    class Cadence(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        BIWEEKLY = "biweekly", _("Every two weeks")

    class Mode(models.TextChoices):
        ONLINE = "online", _("Online")
        IN_PERSON = "in_person", _("In person")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    circle = models.ForeignKey("programs.Circle", on_delete=models.PROTECT, related_name="series")
    title = models.CharField(_("meeting title"), max_length=200)
    cadence = models.CharField(_("cadence"), max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    # A meeting link lets anyone in: encrypted at rest, shown to the circle's staff only, never
    # written to a session's location or an iCalendar feed.
    meeting_link = EncryptedCharField(_("meeting link"), max_length=500, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("local start time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(15), MaxValueValidator(480)]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[time_zone_name])
    starts_on = models.DateField(_("first possible date"))
    ends_on = models.DateField(_("last possible date"), null=True, blank=True)
    meeting_count = models.PositiveSmallIntegerField(
        _("number of meetings"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=False, meeting_count__isnull=True)
                | Q(ends_on__isnull=True, meeting_count__isnull=False),
                name="circle_series_one_end",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="circle_series_dates_ordered"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="circle_series_weekday"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15, duration_minutes__lte=480), name="circle_series_duration"
            ),
            models.CheckConstraint(
                condition=~Q(mode="in_person") | ~Q(location=""), name="circle_series_in_person_location"
            ),
        ]
        verbose_name_plural = "circle series"

    def __str__(self) -> str:
        return f"{self.title} ({self.cadence})"


class SeriesMeeting(OrganizationScopedModel):
    """Meeting ``number`` (1, 2, ...) of a series is this programs session."""

    series = models.ForeignKey(CircleSeries, on_delete=models.PROTECT, related_name="meetings")
    session = models.OneToOneField("programs.Session", on_delete=models.PROTECT, related_name="series_meeting")
    number = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "number"], name="series_meeting_unique_number")]

    def __str__(self) -> str:
        return f"meeting {self.number} of series {self.series_id}"


class CircleAgreement(OrganizationScopedModel):
    """One version of a circle's group agreement. Published versions never change; the newest is
    the current one, and members accept each new version again."""

    circle = models.ForeignKey("programs.Circle", on_delete=models.PROTECT, related_name="agreements")
    version = models.PositiveIntegerField()
    body = models.TextField(_("agreement"), max_length=8000)
    body_hash = models.CharField(max_length=64, editable=False)
    published_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "version"], name="circle_agreement_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="circle_agreement_version_positive"),
        ]

    def __str__(self) -> str:
        return f"agreement v{self.version} of circle {self.circle_id}"


class AgreementAcceptance(OrganizationScopedModel):
    class Via(models.TextChoices):
        SPACE = "space", _("In their community space")
        IN_PERSON = "in_person", _("In person (recorded by staff)")

    agreement = models.ForeignKey(CircleAgreement, on_delete=models.PROTECT, related_name="acceptances")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="agreement_acceptances"
    )
    accepted_at = models.DateTimeField()
    via = models.CharField(max_length=10, choices=Via.choices)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    body_hash = models.CharField(max_length=64)  # what was accepted, exactly

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "participant"], name="agreement_accepted_once"),
            models.CheckConstraint(
                condition=Q(via="space", recorded_by__isnull=True) | Q(via="in_person", recorded_by__isnull=False),
                name="agreement_acceptance_recorder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} accepted {self.agreement_id}"


class CircleWaitlistEntry(OrganizationScopedModel):
    """A person waiting for a place in a full circle. Waiting people are served in the order they
    joined. When a place frees, the first is *offered* it: the place is held for them (it counts
    against the capacity) until staff confirm the join or record that they declined."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a place")
        JOINED = "joined", _("Joined")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Left the waitlist")

    circle = models.ForeignKey("programs.Circle", on_delete=models.PROTECT, related_name="waitlist")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="circle_waitlist_entries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    offered_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "participant"],
                condition=Q(status__in=["waiting", "offered"]),
                name="circle_waitlist_once",
            ),
        ]
        indexes = [models.Index(fields=["circle", "status", "created_at"], name="circle_waitlist_order_idx")]
        verbose_name_plural = "circle waitlist entries"

    def __str__(self) -> str:
        return f"{self.participant_id} {self.status} for {self.circle_id}"
