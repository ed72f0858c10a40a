"""Precomputed dashboard figures.

A program's dashboard aggregates every enrolment, assessment and attendance of its cohort; at tens
of thousands of participants that is seconds of work, too slow for a page. The figures (counts,
rates, means; never a name or an id, suppression already applied for researchers) are stored per
program, audience and instrument in ``DashboardSnapshot`` and read by the page while younger than
``COMMUNITAS_DASHBOARD_MAX_AGE`` seconds. ``communitas refresh-dashboards`` (a timer in production,
docs/deploy.md) and the ``refresh_dashboards`` task recompute them ahead of readers; a reader who
finds none fresh computes and stores them once. The page says when its figures were computed.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from communitas.core.freshness import is_fresh
from communitas.insights import suppression
from communitas.insights.models import DashboardSnapshot
from communitas.outcomes.models import AssessmentSchedule
from communitas.programs.models import Program

RESEARCH, STAFF = DashboardSnapshot.Audience.RESEARCH, DashboardSnapshot.Audience.STAFF


@dataclass(frozen=True)
class Figures:
    values: dict
    computed_at: datetime.datetime


def instrument_codes(program: Program) -> list[str]:
    return list(
        AssessmentSchedule.objects.filter(program=program)
        .order_by("instrument_code")
        .values_list("instrument_code", flat=True)
    )


def compute(program: Program, *, audience: str, instrument: str | None, today: datetime.date) -> dict:
    """Every aggregate the dashboard shows for ``audience``, suppressed for researchers."""
    from communitas.insights import metrics  # numpy and scipy: loaded with the first dashboard, not at start-up

    researcher = audience == RESEARCH
    k = suppression.threshold() if researcher else None
    codes = instrument_codes(program)
    ids = metrics.cohort_ids(program, research_only=researcher)
    funnel = metrics.funnel(program, ids)
    progress = metrics.assessment_progress(program, ids, today=today)
    attendance = metrics.attendance(
        program, ids, start=today - datetime.timedelta(days=730), end=today, label_circles=not researcher
    )
    rc_rows = [{"code": code, **metrics.reliable_change_summary(program, ids, code)} for code in codes]
    change = metrics.mean_change(program, ids, instrument) if instrument else None
    attrition = metrics.attrition(program, ids, instrument, today=today) if instrument else []
    if k is not None:
        funnel = suppression.suppress_funnel(funnel, k)
        progress = suppression.suppress_progress(progress, k)
        attendance = suppression.suppress_attendance(attendance, k)
        rc_rows = [{"code": row["code"], **suppression.suppress_reliable_change(row, k)} for row in rc_rows]
        change = suppression.suppress_change(change, k) if change else None
        attrition = suppression.suppress_attrition(attrition, k)
    return {
        "cohort_size": suppression.suppress_count(len(ids), k) if k else len(ids),
        "funnel": funnel,
        "progress": progress,
        "attendance": attendance,
        "rc_rows": rc_rows,
        "change": change,
        "attrition": attrition,
    }


def _language(language: str | None) -> str:
    return language or translation.get_language() or settings.LANGUAGE_CODE


def refresh(program: Program, *, audience: str, instrument: str | None, language: str | None = None) -> Figures:
    language = _language(language)
    now = timezone.now()
    with translation.override(language):
        values = compute(program, audience=audience, instrument=instrument, today=timezone.localdate(now))
        # labels are lazy translations: store them as text of this language
        values = json.loads(json.dumps(values, cls=DjangoJSONEncoder))
    try:
        with transaction.atomic():
            DashboardSnapshot.objects.update_or_create(
                program=program,
                audience=audience,
                instrument_code=instrument or "",
                language=language,
                defaults={"organization_id": program.organization_id, "figures": values, "computed_at": now},
            )
    except IntegrityError:  # another reader stored the same snapshot a moment ago: theirs is as fresh
        pass
    return Figures(values, now)


def figures(program: Program, *, audience: str, instrument: str | None) -> Figures:
    """The stored figures while fresh and from today, otherwise computed now (and stored)."""
    language = _language(None)
    snapshot = DashboardSnapshot.objects.filter(
        program=program, audience=audience, instrument_code=instrument or "", language=language
    ).first()
    if snapshot is not None and is_fresh(snapshot.computed_at):
        return Figures(snapshot.figures, snapshot.computed_at)
    return refresh(program, audience=audience, instrument=instrument, language=language)


def refresh_all(programs=None) -> int:
    """Recompute every program's figures for both audiences, each scheduled instrument and each
    interface language."""
    count = 0
    for program in programs if programs is not None else Program.objects.all():
        choices: list[str | None] = [*instrument_codes(program)] or [None]
        for audience in (STAFF, RESEARCH):
            for instrument in choices:
                for language, _name in settings.LANGUAGES:
                    refresh(program, audience=audience, instrument=instrument, language=language)
                    count += 1
    return count
