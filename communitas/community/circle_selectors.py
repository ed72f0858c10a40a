"""Reads for circle series, agreements and waitlists, scoped to what a membership may see:
a circle outside the caller's organization, or one a facilitator does not facilitate, is 404."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.community.circle_permissions import circles_visible_to
from communitas.community.models import (
    AgreementAcceptance,
    CircleAgreement,
    CircleSeries,
    CircleWaitlistEntry,
    SeriesMeeting,
)
from communitas.participants.models import Participant
from communitas.programs.models import Circle, Enrollment, Session

LIVE_WAITLIST = (CircleWaitlistEntry.Status.WAITING, CircleWaitlistEntry.Status.OFFERED)
# Who may join a program's circles: anyone with a live or completed enrolment (integration goes on
# after the program's sessions end).
JOINABLE = (Enrollment.Status.APPLICANT, Enrollment.Status.ENROLLED, Enrollment.Status.COMPLETED)


def _one(qs: QuerySet, pk, what: str):
    try:
        found = qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Http404(f"no such {what}")
    return found


def circles_for(membership: Membership) -> QuerySet[Circle]:
    waiting = Count("waitlist", filter=Q(waitlist__status=CircleWaitlistEntry.Status.WAITING), distinct=True)
    return (
        circles_visible_to(membership)
        .select_related("program", "retreat")
        .annotate(member_count=Count("members", distinct=True), waiting_count=waiting)
        .order_by("program__name", "name", "id")
    )


def circle_get_for_user(membership: Membership, circle_id) -> Circle:
    qs = circles_visible_to(membership).select_related("program", "retreat")
    return _one(qs, circle_id, "circle")


def series_for_circle(circle: Circle) -> QuerySet[CircleSeries]:
    meetings = SeriesMeeting.objects.select_related("session").order_by("number")
    return (
        CircleSeries.objects.filter(circle=circle, organization_id=circle.organization_id)
        .prefetch_related(Prefetch("meetings", queryset=meetings))
        .order_by("starts_on", "id")
    )


def series_get_for_circle(circle: Circle, series_id) -> CircleSeries:
    return _one(series_for_circle(circle), series_id, "series")


def series_get_for_user(membership: Membership, series_id) -> CircleSeries:
    qs = CircleSeries.objects.filter(circle__in=circles_visible_to(membership)).select_related("circle__program")
    series = _one(qs, series_id, "series")
    return series_get_for_circle(series.circle, series.pk)


def meeting_get_for_circle(circle: Circle, session_id) -> Session:
    qs = Session.objects.filter(circle=circle, kind=Session.Kind.CIRCLE_MEETING, organization_id=circle.organization_id)
    return _one(qs, session_id, "meeting")


def meeting_get_for_user(membership: Membership, session_id) -> Session:
    qs = Session.objects.filter(
        circle__in=circles_visible_to(membership), kind=Session.Kind.CIRCLE_MEETING
    ).select_related("circle")
    return _one(qs, session_id, "meeting")


def members_of(circle: Circle) -> list[Participant]:
    return list(circle.members.filter(archived_at__isnull=True).order_by("id"))


@dataclass(frozen=True)
class AcceptanceRow:
    participant: Participant
    acceptance: AgreementAcceptance | None


def agreement_status(circle: Circle) -> tuple[CircleAgreement | None, list[AcceptanceRow]]:
    """The current agreement and, for each member, their acceptance of it (or None)."""
    current = CircleAgreement.objects.filter(circle=circle).order_by("-version").first()
    members = members_of(circle)
    accepted: dict[int, AgreementAcceptance] = {}
    if current is not None:
        accepted = {
            a.participant_id: a
            for a in AgreementAcceptance.objects.filter(agreement=current).select_related("recorded_by")
        }
    return current, [AcceptanceRow(p, accepted.get(p.pk)) for p in members]


def agreement_get_for_circle(circle: Circle, agreement_id) -> CircleAgreement:
    return _one(CircleAgreement.objects.filter(circle=circle).select_related("circle"), agreement_id, "agreement")


@dataclass(frozen=True)
class WaitlistRow:
    entry: CircleWaitlistEntry
    position: int | None  # 1 = next to be offered; None when a place is already offered


def waitlist_for(circle: Circle) -> list[WaitlistRow]:
    entries = (
        CircleWaitlistEntry.objects.filter(circle=circle, status__in=LIVE_WAITLIST)
        .select_related("participant")
        .order_by("id")
    )
    rows, position = [], 0
    for entry in entries:
        if entry.status == CircleWaitlistEntry.Status.WAITING:
            position += 1
            rows.append(WaitlistRow(entry, position))
        else:
            rows.append(WaitlistRow(entry, None))
    return rows


def waitlist_entry_get_for_circle(circle: Circle, entry_id) -> CircleWaitlistEntry:
    qs = CircleWaitlistEntry.objects.filter(circle=circle).select_related("participant", "circle")
    return _one(qs, entry_id, "waitlist entry")


def waitlist_entry_get_for_user(membership: Membership, entry_id) -> CircleWaitlistEntry:
    qs = CircleWaitlistEntry.objects.filter(circle__in=circles_visible_to(membership)).select_related(
        "participant", "circle"
    )
    return _one(qs, entry_id, "waitlist entry")


def joinable_people(circle: Circle) -> QuerySet[Participant]:
    """People who may join (or wait for) this circle: enrolled in its program, not archived,
    not a member and not already waiting."""
    return (
        Participant.objects.filter(
            organization_id=circle.organization_id,
            archived_at__isnull=True,
            enrollments__program_id=circle.program_id,
            enrollments__status__in=JOINABLE,
        )
        .exclude(circles=circle)
        .exclude(circle_waitlist_entries__circle=circle, circle_waitlist_entries__status__in=LIVE_WAITLIST)
        .distinct()
        .order_by("id")
    )


def member_get_for_circle(circle: Circle, participant_id) -> Participant:
    return _one(circle.members.all(), participant_id, "member of this circle")


def participant_get_for_circle(circle: Circle, participant_id) -> Participant:
    """A live participant of the circle's organization (the service says why they cannot join)."""
    qs = Participant.objects.filter(organization_id=circle.organization_id, archived_at__isnull=True)
    return _one(qs, participant_id, "participant")


# --- the participant's community space ---------------------------------------------------------


@dataclass(frozen=True)
class SpaceAgreement:
    circle: Circle
    agreement: CircleAgreement | None
    accepted: AgreementAcceptance | None


def space_agreements(participant: Participant) -> list[SpaceAgreement]:
    """For each circle the participant belongs to: its current agreement and their acceptance."""
    circles = list(
        Circle.objects.filter(members=participant, organization_id=participant.organization_id).order_by("name", "id")
    )
    current: dict[int, CircleAgreement] = {}
    for agreement in CircleAgreement.objects.filter(circle__in=circles).order_by("circle_id", "version"):
        current[agreement.circle_id] = agreement
    accepted = {
        a.agreement_id: a
        for a in AgreementAcceptance.objects.filter(participant=participant, agreement__in=current.values())
    }
    return [
        SpaceAgreement(c, current.get(c.pk), accepted.get(current[c.pk].pk) if c.pk in current else None)
        for c in circles
    ]
