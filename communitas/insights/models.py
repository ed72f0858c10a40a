"""A community-effect analysis of one program and instrument, run in the background.

The row is the job and its outcome: status and progress while it runs (the dashboard polls it),
the fitted model and what the panel draws when done, the error message when it cannot be fitted.
Results are aggregates of de-identified data (the analysis dataset: research consent only).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.core.models import OrganizationScopedModel

STALE_AFTER = datetime.timedelta(minutes=15)  # a run with no progress for this long was interrupted


class AnalysisRun(OrganizationScopedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="analysis_runs")
    instrument_code = models.CharField(max_length=40)
    formula = models.CharField(max_length=300)
    method = models.CharField(max_length=4, default="reml")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=120, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["program", "instrument_code", "-created_at"], name="analysis_run_latest_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="analysis_run_progress_pct"),
        ]

    def __str__(self) -> str:
        return f"analysis {self.pk} of program {self.program_id} ({self.instrument_code}): {self.status}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING) and not self.stale

    @property
    def stale(self) -> bool:
        """Queued or running with no sign of life for STALE_AFTER: the worker was stopped."""
        unfinished = self.status in (self.Status.QUEUED, self.Status.RUNNING)
        return unfinished and timezone.now() - self.updated_at > STALE_AFTER


class DashboardSnapshot(OrganizationScopedModel):
    """A program dashboard's aggregates, computed ahead of readers (``insights.snapshots``).

    Figures only: counts, rates and means, suppressed for the research audience; no participant
    id, name or free text is stored here."""

    class Audience(models.TextChoices):
        STAFF = "staff", _("Program staff")
        RESEARCH = "research", _("Researchers")

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="dashboard_snapshots")
    audience = models.CharField(max_length=8, choices=Audience.choices)
    instrument_code = models.CharField(max_length=40, blank=True)
    # labels in the figures are stored translated: one snapshot per interface language
    language = models.CharField(max_length=16)
    figures = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "audience", "instrument_code", "language"], name="dashboard_snapshot_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"dashboard of program {self.program_id} ({self.audience}, {self.instrument_code or '-'})"
