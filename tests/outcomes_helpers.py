"""Shared set-up for outcome tests: a program with a PHQ-9 schedule and an enrolled participant."""

import datetime

from django.utils import timezone

from communitas.outcomes import services as outcomes
from communitas.outcomes.links import token_for
from communitas.programs import services as programs


def enrolled_with_schedule(org, participant, *, instrument="phq9", administration=None):
    program = programs.program_create(
        organization=org, actor=None, name=f"Spring cohort {instrument}", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code=instrument, actor=None)
    enrollment = programs.enrollment_create(program=program, participant=participant, actor=None)
    day = administration or timezone.localdate() + datetime.timedelta(days=7)
    assessments = outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=day, actor=None)
    return program, enrollment, assessments


def baseline_link(org, participant, **kwargs):
    _program, _enrollment, assessments = enrolled_with_schedule(org, participant, **kwargs)
    baseline = next(a for a in assessments if a.timepoint == "baseline")
    link = outcomes.assessment_link_create(assessment=baseline, actor=None)
    return baseline, link, token_for(link)
