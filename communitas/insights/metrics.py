"""The numbers behind a program's insights dashboard: selectors over one program and a cohort.

Every function takes a ``Program`` already fetched through an organization-scoped lookup and
``ids``, the participant ids of the cohort (``cohort_ids``). Every query filters by the program's
organization and the program itself, so an id from another organization (or a program of
another organization) adds nothing. Each function costs a fixed number of queries whatever the
size of the cohort. Nothing returned carries a name, a contact, a date of birth or free text:
only counts, rates and summary statistics. Researchers see them only after ``suppression``.

Conventions shared with ``dataset.py``: ``wave`` is ``outcomes.schedules.ORDER`` of the
timepoint (0 = baseline; timepoints outside the default schedule share the wave after the last
and are ordered by their place in the program's schedule); a completed assessment is one whose
response has a complete score; cancelled assessments count nowhere.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from scipy import stats

from communitas.community.engagement import engagement_for
from communitas.insights.effects import within_change_d
from communitas.outcomes.change import ChangeNotAvailable, reliable_change
from communitas.outcomes.models import Assessment, AssessmentSchedule, Score
from communitas.outcomes.registry import instrument_for
from communitas.outcomes.schedules import ORDER
from communitas.outcomes.schedules import status as window_status
from communitas.participants.selectors import research_participants
from communitas.programs.models import Attendance, Circle, Enrollment, Program, Session
from communitas.programs.selectors import roster
from communitas.safety.screening_selectors import screening_outcomes_for

PRESENT = (Attendance.Status.ATTENDED, Attendance.Status.LEFT_EARLY)
BASELINE = "baseline"
RC_CATEGORIES = ("reliably_improved", "no_reliable_change", "reliably_deteriorated")
CLINICAL_CATEGORIES = ("recovered", "improved", "unchanged", "deteriorated")
BIN_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


# -- the cohort ----------------------------------------------------------------------------------


def cohort_ids(program: Program, *, research_only: bool) -> list[int]:
    """Participants enrolled in ``program`` (any status), not archived; with ``research_only``,
    only those whose newest research consent is a yes (``research_participants``)."""
    if research_only:
        people = research_participants(program.organization_id).filter(enrollments__program=program)
        return sorted(set(people.values_list("pk", flat=True)))
    rows = Enrollment.objects.filter(
        organization_id=program.organization_id, program=program, participant__archived_at__isnull=True
    )
    return sorted(set(rows.values_list("participant_id", flat=True)))


def _enrolments(program: Program, ids: Iterable[int]) -> dict[int, tuple[str, datetime.date | None]]:
    """(status, administration date) of each cohort member enrolled in the program (one query)."""
    rows = Enrollment.objects.filter(
        organization_id=program.organization_id,
        program=program,
        participant_id__in=list(ids),
        participant__archived_at__isnull=True,
    ).values_list("participant_id", "status", "administration_date")
    return {pid: (status, day) for pid, status, day in rows}


# -- timepoints ----------------------------------------------------------------------------------


def _schedules(program: Program) -> dict[str, list[str]]:
    """Timepoint codes of each instrument the program schedules, in schedule order (one query)."""
    rows = AssessmentSchedule.objects.filter(organization_id=program.organization_id, program=program)
    return {
        code: [str(tp.get("code")) for tp in timepoints if isinstance(tp, dict)]
        for code, timepoints in rows.values_list("instrument_code", "timepoints")
    }


def _wave(timepoint: str) -> int:
    return ORDER.get(timepoint, len(ORDER))


def _ordered(timepoints: Iterable[str], schedule: list[str]) -> list[str]:
    position = {code: n for n, code in enumerate(schedule)}
    return sorted(set(timepoints), key=lambda tp: (_wave(tp), position.get(tp, len(position)), tp))


def primary_instrument(program: Program) -> str | None:
    """The program's primary instrument: the first scheduled one by instrument code (one query)."""
    rows = AssessmentSchedule.objects.filter(organization_id=program.organization_id, program=program)
    return rows.order_by("instrument_code").values_list("instrument_code", flat=True).first()


def _complete_totals(program: Program, ids: Iterable[int], instrument: str) -> dict[int, dict[str, float]]:
    """Complete total scores of ``instrument`` per participant and timepoint (one query)."""
    rows = Score.objects.filter(
        organization_id=program.organization_id,
        instrument_code=instrument,
        complete=True,
        response__assessment__enrollment__program=program,
        response__assessment__participant_id__in=list(ids),
        response__assessment__cancelled_at__isnull=True,
    ).values_list("response__assessment__participant_id", "response__assessment__timepoint", "total")
    totals: dict[int, dict[str, float]] = defaultdict(dict)
    for pid, timepoint, total in rows:
        if total is not None:
            totals[pid][timepoint] = float(total)
    return dict(totals)


# -- the funnel ----------------------------------------------------------------------------------


def funnel(
    program: Program, ids: Iterable[int], *, instrument: str | None = None, today: datetime.date | None = None
) -> list[dict]:
    """How far the cohort got, as ordered stages ``{"code", "label", "count", "of"}`` (``of``: the
    stage this one is a subset of). A person counts in a stage only if they count in its ``of``:

    - ``enrolled``: an enrolment in the program with any status (applicants, paused, withdrawn
      and completed included), participant not archived.
    - ``screened``: a screening exists for the program's substance.
    - ``cleared``: the newest screening's effective outcome (after clinicians' decisions) is
      ``eligible``.
    - ``ready``: the readiness gate (``programs.selectors.roster``) says ``ready``, or the person
      is beyond it (took part in an administration session, or completed the program).
    - ``administered``: attended (or left early) an administration session of the program, or
      the enrolment's administration date is before ``today``.
    - ``baseline``: a complete baseline of ``instrument`` (default: ``primary_instrument``).
    - ``followup``: also a complete later timepoint of that instrument (an analysable pair).
    - ``completed``: enrolment status ``completed``; a subset of ``administered`` (finishing the
      program does not require the questionnaires).

    A fixed number of queries (about a dozen: the enrolments, the screenings, the roster, the
    administration attendances, the schedule and the scores).
    """
    today = today or timezone.localdate()
    enrolled = _enrolments(program, ids)
    people = sorted(enrolled)
    outcomes = screening_outcomes_for(people, program.substance)
    readiness = {e.participant_id: status for e, status in roster(program)}
    dosed = _administered(program, people, enrolled, today)
    code = instrument or primary_instrument(program)
    totals = _complete_totals(program, people, code) if code else {}
    completed = {pid for pid, (status, _day) in enrolled.items() if status == Enrollment.Status.COMPLETED}

    screened = {p for p in enrolled if outcomes.get(p, "not_screened") != "not_screened"}
    cleared = {p for p in screened if outcomes[p] == "eligible"}
    ready = {p for p in cleared if readiness.get(p) == "ready" or p in dosed or p in completed}
    administered = ready & dosed
    baseline = {p for p in administered if BASELINE in totals.get(p, {})}
    followup = {p for p in baseline if set(totals[p]) - {BASELINE}}
    stages = (
        ("enrolled", _("Enrolled"), set(enrolled), None),
        ("screened", _("Screened"), screened, "enrolled"),
        ("cleared", _("Cleared by screening"), cleared, "screened"),
        ("ready", _("Ready"), ready, "cleared"),
        ("administered", _("Administration session"), administered, "ready"),
        ("baseline", _("Baseline completed"), baseline, "administered"),
        ("followup", _("A follow-up completed"), followup, "baseline"),
        ("completed", _("Completed the program"), administered & completed, "administered"),
    )
    return [{"code": c, "label": label, "count": len(who), "of": of} for c, label, who, of in stages]


def _administered(
    program: Program, people: list[int], enrolled: dict[int, tuple[str, datetime.date | None]], today: datetime.date
) -> set[int]:
    attended = Attendance.objects.filter(
        organization_id=program.organization_id,
        session__program=program,
        session__kind=Session.Kind.ADMINISTRATION,
        status__in=PRESENT,
        participant_id__in=people,
    ).values_list("participant_id", flat=True)
    past = {pid for pid, (_status, day) in enrolled.items() if day is not None and day < today}
    return set(attended) | past


# -- assessments ---------------------------------------------------------------------------------


def _assessments(program: Program, ids: Iterable[int], instrument: str | None = None):
    """Non-cancelled assessments of the program's enrolments for the cohort (one query)."""
    rows = Assessment.objects.filter(
        organization_id=program.organization_id,
        enrollment__program=program,
        participant_id__in=list(ids),
        cancelled_at__isnull=True,
    )
    if instrument is not None:
        rows = rows.filter(instrument_code=instrument)
    return rows.values_list(
        "participant_id", "instrument_code", "timepoint", "due_on", "opens_on", "closes_on", "response__score__complete"
    )


def assessment_progress(program: Program, ids: Iterable[int], *, today: datetime.date) -> list[dict]:
    """Per instrument and timepoint (ordered by instrument code, then wave), counts of the
    cohort's non-cancelled assessments:

    - ``scheduled``: all of them; it is the sum of the four states ``completed`` (a complete
      score, whenever given), ``overdue`` (closed before today, not completed), ``open`` (its
      window holds today, not completed) and ``upcoming`` (not yet open, so due later);
    - ``due``: due on or before today (whatever their state).

    Two queries.
    """
    schedules = _schedules(program)
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for code, timepoints in schedules.items():
        for tp in timepoints:
            cells[(code, tp)] = _progress_cell()
    for _pid, code, tp, due, opens, closes, complete in _assessments(program, ids):
        cell = cells.setdefault((code, tp), _progress_cell())
        cell["scheduled"] += 1
        cell["due"] += due <= today
        cell[window_status(today, opens, closes, completed=bool(complete))] += 1
    rows = []
    for code in sorted({c for c, _tp in cells}):
        for tp in _ordered((t for c, t in cells if c == code), schedules.get(code, [])):
            rows.append({"instrument": code, "timepoint": tp, "wave": _wave(tp), **cells[(code, tp)]})
    return rows


def _progress_cell() -> dict[str, int]:
    return {"scheduled": 0, "due": 0, "completed": 0, "overdue": 0, "open": 0, "upcoming": 0}


def attrition(program: Program, ids: Iterable[int], instrument: str, *, today: datetime.date) -> list[dict]:
    """Per wave of ``instrument``: ``expected`` (participants whose assessment at that wave has
    closed or been completed), ``observed`` (completed), ``retained`` (observed / expected) and
    ``of_baseline`` (observed / observed at baseline); ratios are None without a denominator.
    Two queries."""
    schedule = _schedules(program).get(instrument, [])
    expected: dict[str, set[int]] = {tp: set() for tp in schedule}
    observed: dict[str, set[int]] = {tp: set() for tp in schedule}
    for pid, _code, tp, _due, _opens, closes, complete in _assessments(program, ids, instrument):
        expected.setdefault(tp, set())
        observed.setdefault(tp, set())
        if complete or closes < today:
            expected[tp].add(pid)
        if complete:
            observed[tp].add(pid)
    base = len(observed.get(BASELINE, ()))
    rows = []
    for tp in _ordered(expected, schedule):
        n_expected, n_observed = len(expected[tp]), len(observed[tp])
        rows.append(
            {
                "timepoint": tp,
                "wave": _wave(tp),
                "expected": n_expected,
                "observed": n_observed,
                "retained": n_observed / n_expected if n_expected else None,
                "of_baseline": n_observed / base if base else None,
            }
        )
    return rows


# -- change --------------------------------------------------------------------------------------


def mean_change(program: Program, ids: Iterable[int], instrument: str) -> dict:
    """Mean change from baseline at each follow-up timepoint of ``instrument``, among the
    participants with both complete (``n``): the means, the mean change (follow-up - baseline),
    its SD and 95% t-interval, and the within-change effect size ``d`` with its 95% CI
    (``effects.within_change_d``: the change over the baseline SD with the small-sample correction
    c(n-1); None below 3 pairs or when the baseline SD is 0). Read the sign with
    ``higher_is_better``. Three or four queries (scores, schedule, custom instrument)."""
    definition = instrument_for(program.organization_id, instrument)
    totals = _complete_totals(program, ids, instrument)
    schedule = _schedules(program).get(instrument, [])
    later = {tp for by_tp in totals.values() for tp in by_tp} | set(schedule)
    points = []
    for tp in _ordered(later - {BASELINE}, schedule):
        pairs = [(t[BASELINE], t[tp]) for t in totals.values() if BASELINE in t and tp in t]
        points.append({"timepoint": tp, "wave": _wave(tp), **_change_stats(pairs)})
    return {
        "instrument": instrument,
        "label": definition.name,
        "unit": _("points"),
        "higher_is_better": definition.scoring.higher_is_better,
        "points": points,
    }


def _change_stats(pairs: list[tuple[float, float]]) -> dict:
    n = len(pairs)
    out: dict = dict.fromkeys(("mean_baseline", "mean_followup", "mean", "sd", "ci_low", "ci_high"))
    out.update({"n": n, "d": None, "d_ci_low": None, "d_ci_high": None})
    if not n:
        return out
    pre, post = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    diff = post - pre
    mean = float(diff.mean())
    out.update(mean_baseline=float(pre.mean()), mean_followup=float(post.mean()), mean=mean)
    if n >= 2:
        sd = float(diff.std(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
        out.update(sd=sd, ci_low=mean - half, ci_high=mean + half)
    if n >= 3 and float(pre.std(ddof=1)) > 0:
        effect = within_change_d(pre, post)
        if math.isfinite(effect.estimate) and math.isfinite(effect.se):
            out.update(d=effect.estimate, d_ci_low=effect.ci_low, d_ci_high=effect.ci_high)
    return out


def reliable_change_summary(program: Program, ids: Iterable[int], instrument: str) -> dict:
    """Reliable (and clinically significant) change of each participant's last complete
    follow-up against their baseline (``outcomes.change.reliable_change``, Jacobson & Truax):
    ``{"instrument", "available": True, "n", "counts": {category: n}, "clinical": {...} | None,
    "method", "threshold", "source"}``; ``clinical`` is None when the instrument has no clinical
    cut-off. An instrument without reliable-change data answers ``{"instrument", "available":
    False, "n": 0, "reason"}``. Three or four queries."""
    definition = instrument_for(program.organization_id, instrument)
    totals = _complete_totals(program, ids, instrument)
    schedule = _schedules(program).get(instrument, [])
    pairs = []
    for by_tp in totals.values():
        later = _ordered(set(by_tp) - {BASELINE}, schedule)
        if BASELINE in by_tp and later:
            pairs.append((by_tp[BASELINE], by_tp[later[-1]]))
    try:
        if definition.reliable_change is None:
            raise ChangeNotAvailable(instrument)
        results = [reliable_change(definition, before, after) for before, after in pairs]
    except ChangeNotAvailable:
        reason = _("This instrument carries no reliable-change data.")
        return {"instrument": instrument, "available": False, "n": 0, "reason": reason}
    counts = dict.fromkeys(RC_CATEGORIES, 0)
    clinical = dict.fromkeys(CLINICAL_CATEGORIES, 0) if definition.clinical_cutoff else None
    for result in results:
        counts[result.category] += 1
        if clinical is not None and result.clinical:
            clinical[result.clinical] += 1
    rc = definition.reliable_change
    return {
        "instrument": instrument,
        "available": True,
        "n": len(results),
        "counts": counts,
        "clinical": clinical,
        "method": rc.method,
        "threshold": results[0].threshold if results else None,
        "source": rc.source,
    }


# -- attendance and engagement -------------------------------------------------------------------


def attendance(
    program: Program, ids: Iterable[int], *, start: datetime.date, end: datetime.date, label_circles: bool
) -> dict:
    """Circle attendance between ``start`` and ``end`` (local dates, inclusive).

    ``circles``: one row per circle of the program in primary-key order, named, or "Circle A",
    "Circle B", ... when ``label_circles`` is False: ``members`` (cohort members in it now),
    ``sessions_held`` (its circle meetings completed in the period), ``expected`` and ``attended``
    (person-sessions at those meetings: members now or anyone with an attendance row; present =
    attended or left early) and ``attendance_rate`` (attended / expected).

    ``engagement_bins``: the cohort's per-person circle attendance rate over all their circles
    (``community.engagement.engagement_for``) in five bins [0, 0.2), ..., [0.8, 1.0];
    ``no_sessions_offered``: cohort members offered no circle session in the period;
    ``participants``: the cohort size. A fixed number of queries (about ten).
    """
    if end < start:
        raise ValueError("the period ends before it starts")
    people = sorted(_enrolments(program, ids))
    circles = list(
        Circle.objects.filter(organization_id=program.organization_id, program=program)
        .order_by("pk")
        .values_list("pk", "name")
    )
    members: dict[int, set[int]] = defaultdict(set)
    through = Circle.members.through.objects.filter(
        circle__organization_id=program.organization_id, circle__program=program, participant_id__in=people
    )
    for circle_id, pid in through.values_list("circle_id", "participant_id"):
        members[circle_id].add(pid)
    held = _held_sessions(program, start, end)
    expected, attended = _session_attendance(program, held, members, people)
    rows = []
    for n, (pk, name) in enumerate(circles):
        sessions = [sid for sid, circle_id in held.items() if circle_id == pk]
        n_expected = sum(len(expected[s]) for s in sessions)
        n_attended = sum(len(attended[s]) for s in sessions)
        rows.append(
            {
                "circle": name if label_circles else _("Circle %(letter)s") % {"letter": _letters(n)},
                "members": len(members[pk]),
                "sessions_held": len(sessions),
                "expected": n_expected,
                "attended": n_attended,
                "attendance_rate": n_attended / n_expected if n_expected else None,
            }
        )
    return {"circles": rows, **_engagement_bins(people, start, end)}


def _held_sessions(program: Program, start: datetime.date, end: datetime.date) -> dict[int, int]:
    tz = timezone.get_current_timezone()
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    rows = Session.objects.filter(
        organization_id=program.organization_id,
        program=program,
        circle__isnull=False,
        kind=Session.Kind.CIRCLE_MEETING,
        status=Session.Status.COMPLETED,
        planned_start__gte=first,
        planned_start__lt=after,
    ).values_list("pk", "circle_id")
    return dict(rows)


def _session_attendance(
    program: Program, held: dict[int, int], members: dict[int, set[int]], people: list[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    expected = {sid: set(members[circle_id]) for sid, circle_id in held.items()}
    attended: dict[int, set[int]] = {sid: set() for sid in held}
    rows = Attendance.objects.filter(
        organization_id=program.organization_id, session_id__in=list(held), participant_id__in=people
    ).values_list("session_id", "participant_id", "status")
    for sid, pid, status in rows:
        expected[sid].add(pid)
        if status in PRESENT:
            attended[sid].add(pid)
    return expected, attended


def _engagement_bins(people: list[int], start: datetime.date, end: datetime.date) -> dict:
    bins = [{"low": low, "high": high, "count": 0} for low, high in pairwise(BIN_EDGES)]
    none_offered = 0
    for e in engagement_for(people, start, end).values():
        if not e.circle_sessions_offered:
            none_offered += 1
        else:  # integer arithmetic: a rate of exactly 0.6 falls in [0.6, 0.8)
            bins[min(5 * e.circle_sessions_attended // e.circle_sessions_offered, 4)]["count"] += 1
    return {"engagement_bins": bins, "no_sessions_offered": none_offered, "participants": len(people)}


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet columns)."""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out
