"""Community engagement per participant and period: the exposure side of "does taking part in
the community help?". This is the interface ``insights`` uses:

    engagement_for(participant_ids, start, end) -> dict[int, Engagement]

``start`` and ``end`` are dates, both included (a session counts on the local date it was
planned to start). One call answers for any number of participants in a constant number of
queries (at most five), so an analysis over a whole program costs the same as over one person. Every
participant asked about gets a row (zeros when nothing happened).

- ``circle_sessions_offered``: integration-circle meetings (``Session.Kind.CIRCLE_MEETING``) in
  the period, not cancelled, of a circle they are a member of now or that listed them as
  expected (an ``Attendance`` row).
- ``circle_sessions_attended``: of those, the ones their attendance says they were present at
  (``attended``, or ``left_early``: they were there).
- ``community_activities_attended``: the same for ``Session.Kind.COMMUNITY_ACTIVITY``.
- ``pod_check_ins``: check-ins dated in the period in pods they accepted (any member may log one
  for the pod); ``pod_check_ins_logged``: the ones they logged themselves.
- ``referrals_completed``: completed partner referrals in the period, read from the
  ``Referral`` model when the partners module defines one (another part of issue 6); 0 until then.
- ``communitas_score``: always ``None`` here. No "communitas" instrument ships in
  ``outcomes/instruments/``, and ``community`` may not import ``outcomes`` (apps import
  downwards only); ``insights`` joins outcome scores itself.

Researchers see these numbers only through ``insights`` (aggregated, small cells suppressed);
nothing here carries a note, a reflection or a name.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models
from django.db.models import Count
from django.utils import timezone

from communitas.community.models import PodCheckIn, PodMember
from communitas.programs.models import Attendance, Circle, Session

PRESENT = (Attendance.Status.ATTENDED, Attendance.Status.LEFT_EARLY)
NOT_CANCELLED = (Session.Status.PLANNED, Session.Status.IN_PROGRESS, Session.Status.COMPLETED)
KINDS = (Session.Kind.CIRCLE_MEETING, Session.Kind.COMMUNITY_ACTIVITY)


@dataclass(frozen=True)
class Engagement:
    participant_id: int
    start: datetime.date
    end: datetime.date
    circle_sessions_offered: int = 0
    circle_sessions_attended: int = 0
    community_activities_attended: int = 0
    pod_check_ins: int = 0
    pod_check_ins_logged: int = 0
    referrals_completed: int = 0
    communitas_score: float | None = None

    @property
    def circle_attendance_rate(self) -> float | None:
        if not self.circle_sessions_offered:
            return None
        return self.circle_sessions_attended / self.circle_sessions_offered


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return first, after


def _sessions(ids: list[int], first: datetime.datetime, after: datetime.datetime, own: dict[int, datetime.datetime]):
    """(offered circle sessions, present circle sessions, present community activities) per person;
    ``own`` holds a later first moment for some people."""
    offered: dict[int, set[int]] = {i: set() for i in ids}
    through = Circle.members.through.objects.filter(
        participant_id__in=ids,
        circle__sessions__kind=Session.Kind.CIRCLE_MEETING,
        circle__sessions__status__in=NOT_CANCELLED,
        circle__sessions__planned_start__gte=first,
        circle__sessions__planned_start__lt=after,
    )
    for pid, sid, when in through.values_list(
        "participant_id", "circle__sessions__id", "circle__sessions__planned_start"
    ):
        if when >= own.get(pid, first):
            offered[pid].add(sid)
    attended: Counter[int] = Counter()
    activities: Counter[int] = Counter()
    rows = Attendance.objects.filter(
        participant_id__in=ids,
        session__kind__in=KINDS,
        session__status__in=NOT_CANCELLED,
        session__planned_start__gte=first,
        session__planned_start__lt=after,
    ).values_list("participant_id", "session_id", "session__kind", "status", "session__planned_start")
    for pid, sid, kind, status, when in rows:
        if when < own.get(pid, first):
            continue
        if kind == Session.Kind.CIRCLE_MEETING:
            offered[pid].add(sid)
            attended[pid] += status in PRESENT
        else:
            activities[pid] += status in PRESENT
    return offered, attended, activities


def _check_ins(
    ids: list[int], start: datetime.date, end: datetime.date, own: dict[int, datetime.date]
) -> tuple[Counter[int], Counter[int]]:
    in_pods: Counter[int] = Counter()
    members = PodMember.objects.filter(
        participant_id__in=ids,
        response=PodMember.Response.ACCEPTED,
        pod__check_ins__on__gte=start,
        pod__check_ins__on__lte=end,
    )
    rows = members.values("participant_id", "pod__check_ins__on").annotate(n=Count("pod__check_ins"))
    for row in rows:
        if row["pod__check_ins__on"] >= own.get(row["participant_id"], start):
            in_pods[row["participant_id"]] += row["n"]
    logged: Counter[int] = Counter()
    authored = PodCheckIn.objects.filter(author_id__in=ids, on__gte=start, on__lte=end)
    for mine in authored.values("author_id", "on").annotate(n=Count("id")):
        if mine["on"] >= own.get(mine["author_id"], start):
            logged[mine["author_id"]] += mine["n"]
    return in_pods, logged


def _referral_model():
    """The partners module's Referral model, when it exists (guarded: built concurrently)."""
    from communitas.community import models as community_models

    model = getattr(community_models, "Referral", None)
    if model is None:
        return None
    names = {f.name for f in model._meta.get_fields()}
    return model if {"participant", "status"} <= names else None


def _referrals(ids: list[int], start: datetime.date, end: datetime.date) -> Counter[int]:
    model = _referral_model()
    done: Counter[int] = Counter()
    if model is None:
        return done
    completed = getattr(getattr(model, "Status", None), "COMPLETED", "completed")
    qs = model.objects.filter(participant_id__in=ids, status=completed)
    names = {f.name for f in model._meta.get_fields()}
    when = next((n for n in ("completed_at", "completed_on", "updated_at") if n in names), None)
    if when is not None:
        first, after = _bounds(start, end)
        is_moment = isinstance(model._meta.get_field(when), models.DateTimeField)
        low, high = (first, after) if is_moment else (start, end + datetime.timedelta(days=1))
        qs = qs.filter(**{f"{when}__gte": low, f"{when}__lt": high})
    for row in qs.values("participant_id").annotate(n=Count("id")):
        done[row["participant_id"]] = row["n"]
    return done


def engagement_for(
    participant_ids: Iterable[int],
    start: datetime.date,
    end: datetime.date,
    *,
    starts: Mapping[int, datetime.date] | None = None,
) -> dict[int, Engagement]:
    """Engagement of each participant between ``start`` and ``end`` (dates, inclusive).

    ``starts`` gives some participants a later first day of their own (e.g. their baseline), so a
    person who came in later is not counted as offered the meetings held before; still the same
    number of queries. Referrals use the common period."""
    if end < start:
        raise ValueError("the period ends before it starts")
    ids = sorted({int(i) for i in participant_ids})
    if not ids:
        return {}
    own_days = {pid: max(day, start) for pid, day in (starts or {}).items() if pid in set(ids)}
    first, after = _bounds(start, end)
    own_moments = {pid: _bounds(day, end)[0] for pid, day in own_days.items()}
    offered, attended, activities = _sessions(ids, first, after, own_moments)
    in_pods, logged = _check_ins(ids, start, end, own_days)
    referrals = _referrals(ids, start, end)
    return {
        pid: Engagement(
            participant_id=pid,
            start=own_days.get(pid, start),
            end=end,
            circle_sessions_offered=len(offered[pid]),
            circle_sessions_attended=attended[pid],
            community_activities_attended=activities[pid],
            pod_check_ins=in_pods[pid],
            pod_check_ins_logged=logged[pid],
            referrals_completed=referrals[pid],
        )
        for pid in ids
    }
