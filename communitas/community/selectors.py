"""Reads for community spaces, reflections and pods. Lookups by id answer 404 for both
"missing" and "not yours".

``reflections_visible_to`` is the one rule for who reads a reflection: every page, API route
and (issue 8) export that shows reflection text goes through it. Check-ins are handed out as
``CheckInView`` rows built here, so a note can only reach a page that may show it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import cast

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.community.models import (
    CommunityLink,
    NeverTogether,
    Pod,
    PodCheckIn,
    PodMember,
    PodProposal,
    Reflection,
)
from communitas.community.permissions import can_read_reflections, can_view_pods, sees_all_pods
from communitas.facilitators.models import FacilitatorProfile
from communitas.participants.models import ConsentDecision, ConsentScope, Participant
from communitas.participants.permissions import can_view_participants
from communitas.participants.selectors import participant_get_for_user
from communitas.programs.models import Circle, Enrollment, Retreat, Session

CircleMembers = Circle.members.through
Visibility = Reflection.Visibility
UPCOMING_KINDS = (Session.Kind.CIRCLE_MEETING, Session.Kind.COMMUNITY_ACTIVITY)
OPEN_POD_STATUSES = (Pod.Status.SENT, Pod.Status.ACTIVE)


def first_name(participant: Participant) -> str:
    """How a participant appears to peers: the first word of the name they use here."""
    return (participant.display_name or "").split(" ")[0] or "—"


# --- reflections: the single visibility rule -----------------------------------------------------


def _with_circle_consent(qs: QuerySet[Reflection]) -> QuerySet[Reflection]:
    """Annotate the author's newest answer to "share my reflections with my group"."""
    newest = ConsentDecision.objects.filter(
        participant_id=OuterRef("participant_id"), scope=ConsentScope.SHARE_REFLECTIONS
    ).order_by("-created_at", "-id")
    return qs.annotate(
        share_granted=Subquery(newest.values("granted")[:1]),
        share_withdrawn_at=Subquery(newest.values("withdrawn_at")[:1]),
    )


# A "my circle" reflection reaches the circle unless the author said no (or withdrew a yes) to
# sharing reflections with their group in a signed consent; no answer leaves the choice to them.
CIRCLE_CONSENT_OK = Q(share_granted__isnull=True) | Q(share_granted=True, share_withdrawn_at__isnull=True)
SHARED = Q(withdrawn_at__isnull=True, participant__archived_at__isnull=True)


def _facilitated_circles(membership: Membership) -> QuerySet[Circle]:
    profiles = FacilitatorProfile.objects.filter(
        organization_id=membership.organization_id, user_id=membership.user_id, active=True
    ).values("pk")
    return Circle.objects.filter(organization_id=membership.organization_id, facilitators__in=profiles)


def reflections_visible_to(viewer: Membership | Participant) -> QuerySet[Reflection]:
    """Every reflection ``viewer`` may read, decided at the moment of reading:

    - a participant: all of their own (whatever the choice), and reflections shared
      ``my_circle`` by someone who is in one of their circles now;
    - staff: reflections shared ``my_facilitators`` or ``my_circle`` by someone who is now a
      member of a circle they facilitate (an active facilitator profile of theirs). Nobody else,
      whatever their role, reads anything; nobody but the author reads ``only_me`` or a
      withdrawn reflection.
    """
    if isinstance(viewer, Participant):
        circles = CircleMembers.objects.filter(
            participant_id=viewer.pk, circle__organization_id=viewer.organization_id
        ).values("circle_id")
        mates = CircleMembers.objects.filter(circle_id__in=circles).values("participant_id")
        qs = _with_circle_consent(Reflection.objects.filter(organization_id=viewer.organization_id))
        shared = SHARED & Q(visibility=Visibility.MY_CIRCLE, participant_id__in=mates) & CIRCLE_CONSENT_OK
        return qs.filter(Q(participant_id=viewer.pk) | shared)
    if isinstance(viewer, Membership):
        if not can_read_reflections(viewer):
            return Reflection.objects.none()
        authors = CircleMembers.objects.filter(circle__in=_facilitated_circles(viewer)).values("participant_id")
        qs = _with_circle_consent(
            Reflection.objects.filter(organization_id=viewer.organization_id, participant_id__in=authors)
        )
        chosen = Q(visibility=Visibility.MY_FACILITATORS) | (Q(visibility=Visibility.MY_CIRCLE) & CIRCLE_CONSENT_OK)
        return qs.filter(SHARED & chosen)
    raise TypeError("reflections are visible to a participant or a staff membership")


def reflection_author_get_for_user(membership: Membership, participant_id) -> Participant:
    """The participant whose shared reflections ``membership`` opens: anyone the care team sees;
    for the other community staff (peer supporters), only a member of a circle they facilitate.
    404 for the rest, as for a missing one: an id must not tell them who someone is."""
    participant = participant_get_for_user(membership, participant_id)
    if can_view_participants(membership):
        return participant
    theirs = CircleMembers.objects.filter(circle__in=_facilitated_circles(membership), participant_id=participant.pk)
    if not theirs.exists():
        raise Http404("no such participant")
    return participant


def reflections_of(participant: Participant, viewer: Membership | Participant) -> QuerySet[Reflection]:
    return reflections_visible_to(viewer).filter(participant=participant).order_by("-created_at", "-id")


def circle_reflections_for(participant: Participant) -> QuerySet[Reflection]:
    """What the people in their circles shared with the circle (not their own)."""
    return (
        reflections_visible_to(participant)
        .exclude(participant=participant)
        .select_related("participant")
        .order_by("-created_at", "-id")
    )


def own_reflection_get(participant: Participant, reflection_id) -> Reflection:
    found = Reflection.objects.filter(participant=participant, pk=reflection_id).first()
    if found is None:
        raise Http404("no such reflection")
    return found


def share_consent_refused(participant: Participant) -> bool:
    newest = (
        ConsentDecision.objects.filter(participant=participant, scope=ConsentScope.SHARE_REFLECTIONS)
        .order_by("-created_at", "-id")
        .first()
    )
    return newest is not None and (not newest.granted or newest.withdrawn_at is not None)


# --- the participant's space ---------------------------------------------------------------------


@dataclass(frozen=True)
class CircleView:
    name: str
    language: str
    members: int
    facilitators: list[str]
    upcoming: list[Session]


def space_circles(participant: Participant, *, now: datetime.datetime | None = None) -> list[CircleView]:
    """Their circles with member counts (no other member is named), facilitator names and the
    next meetings (not cancelled). Three queries however many circles."""
    now = now or timezone.now()
    mine = CircleMembers.objects.filter(participant_id=participant.pk).values("circle_id")
    upcoming = Session.objects.filter(
        kind__in=UPCOMING_KINDS,
        planned_end__gte=now,
        status__in=[Session.Status.PLANNED, Session.Status.IN_PROGRESS],
    ).order_by("planned_start", "id")
    circles = (
        Circle.objects.filter(organization_id=participant.organization_id, pk__in=mine)
        .annotate(member_count=Count("members", filter=Q(members__archived_at__isnull=True), distinct=True))
        .prefetch_related(
            Prefetch("facilitators", FacilitatorProfile.objects.filter(active=True).order_by("display_name", "id")),
            Prefetch("sessions", upcoming, to_attr="upcoming"),
        )
        .order_by("name", "id")
    )
    return [
        CircleView(
            name=c.name,
            language=c.language,
            members=c.member_count,  # type: ignore[attr-defined]
            facilitators=[f.display_name for f in c.facilitators.all()],
            upcoming=cast(list[Session], c.upcoming[:3]),  # type: ignore[attr-defined]
        )
        for c in circles
    ]


# --- community links -----------------------------------------------------------------------------


def community_links_for(participant: Participant) -> QuerySet[CommunityLink]:
    return CommunityLink.objects.filter(participant=participant, organization_id=participant.organization_id).order_by(
        "-created_at", "-id"
    )


def community_link_get(participant: Participant, link_id) -> CommunityLink:
    link = community_links_for(participant).filter(pk=link_id).first()
    if link is None:
        raise Http404("no such link")
    return link


# --- pods ----------------------------------------------------------------------------------------


def retreat_get_for_user(membership: Membership, retreat_id) -> Retreat:
    retreat = (
        Retreat.objects.filter(organization_id=membership.organization_id, pk=retreat_id)
        .select_related("program")
        .first()
    )
    if retreat is None:
        raise Http404("no such retreat")
    return retreat


def retreats_for_pods(membership: Membership) -> QuerySet[Retreat]:
    return (
        Retreat.objects.filter(organization_id=membership.organization_id)
        .select_related("program")
        .annotate(pod_count=Count("pods", filter=Q(pods__status__in=OPEN_POD_STATUSES)))
        .order_by("-starts_on", "id")
    )


def retreat_people(retreat: Retreat) -> list[Participant]:
    """Who took part in the retreat (not withdrawn, not archived)."""
    enrolled = Enrollment.objects.filter(retreat=retreat).exclude(status=Enrollment.Status.WITHDRAWN)
    return list(
        Participant.objects.filter(
            organization_id=retreat.organization_id, archived_at__isnull=True, pk__in=enrolled.values("participant_id")
        ).order_by("id")
    )


def pods_visible_to(membership: Membership) -> QuerySet[Pod]:
    if not can_view_pods(membership):
        return Pod.objects.none()
    pods = Pod.objects.filter(organization_id=membership.organization_id)
    if sees_all_pods(membership):
        return pods
    people = CircleMembers.objects.filter(circle__in=_facilitated_circles(membership)).values("participant_id")
    return pods.filter(Exists(PodMember.objects.filter(pod=OuterRef("pk"), participant_id__in=people)))


def _members_prefetch() -> Prefetch:
    return Prefetch(
        "members", PodMember.objects.select_related("participant").order_by("participant_id"), to_attr="people"
    )


def pods_for_retreat(membership: Membership, retreat: Retreat) -> list[Pod]:
    return list(
        pods_visible_to(membership)
        .filter(retreat=retreat)
        .prefetch_related(_members_prefetch())
        .order_by("status", "name", "id")
    )


def pod_get_for_user(membership: Membership, pod_id) -> Pod:
    pod = (
        pods_visible_to(membership)
        .filter(pk=pod_id)
        .select_related("retreat", "retreat__program")
        .prefetch_related(_members_prefetch())
        .first()
    )
    if pod is None:
        raise Http404("no such pod")
    return pod


def latest_proposal(retreat: Retreat) -> PodProposal | None:
    return PodProposal.objects.filter(retreat=retreat).order_by("-created_at", "-id").first()


def open_pod_member(retreat: Retreat, participant_id: int) -> PodMember | None:
    """Their place in a draft, proposed or active pod of this retreat, if any."""
    return (
        PodMember.objects.filter(
            pod__retreat=retreat,
            participant_id=participant_id,
            pod__status__in=[Pod.Status.DRAFT, *OPEN_POD_STATUSES],
        )
        .exclude(response=PodMember.Response.DECLINED)
        .select_related("pod")
        .first()
    )


def space_pod_members(participant: Participant) -> list[PodMember]:
    """Their places in pods proposed to them or active, except the ones they declined."""
    return list(
        PodMember.objects.filter(participant=participant, pod__status__in=OPEN_POD_STATUSES)
        .exclude(response=PodMember.Response.DECLINED)
        .select_related("pod")
        .prefetch_related(
            Prefetch("pod__members", PodMember.objects.select_related("participant").order_by("participant_id"))
        )
        .order_by("-pod__sent_at", "-pod_id")
    )


def space_pod_member_get(participant: Participant, pod_id) -> PodMember:
    member = (
        PodMember.objects.filter(
            participant=participant,
            pod_id=pod_id,
            pod__status__in=[*OPEN_POD_STATUSES, Pod.Status.CLOSED],
        )
        .exclude(response=PodMember.Response.DECLINED)
        .select_related("pod")
        .first()
    )
    if member is None or (member.pod.status == Pod.Status.CLOSED and member.response != PodMember.Response.ACCEPTED):
        raise Http404("no such pod")
    return member


def accepted_first_names(pod: Pod) -> list[str]:
    members = PodMember.objects.filter(pod=pod, response=PodMember.Response.ACCEPTED).select_related("participant")
    return [first_name(m.participant) for m in members.order_by("participant_id")]


@dataclass(frozen=True)
class CheckInView:
    on: datetime.date
    mode: str
    author: str
    mine: bool
    mood: int | None
    note: str


def check_ins_for_member(member: PodMember) -> list[CheckInView]:
    """A pod's check-ins as one accepted member sees them: mood and note only for their own,
    and for others' check-ins whose author shared the note with the pod."""
    if member.response != PodMember.Response.ACCEPTED:
        return []
    rows = PodCheckIn.objects.filter(pod_id=member.pod_id).select_related("author").order_by("-on", "-id")
    out = []
    for row in rows:
        mine = row.author_id == member.participant_id
        readable = mine or row.note_shared
        out.append(
            CheckInView(
                on=row.on,
                mode=row.get_mode_display(),
                author=first_name(row.author),
                mine=mine,
                mood=row.mood if readable else None,
                note=row.note if readable else "",
            )
        )
    return out


def check_ins_for_staff(pod: Pod) -> list[CheckInView]:
    """Date, how, who and mood; never the note (it is not even read from the database)."""
    rows = PodCheckIn.objects.filter(pod=pod).defer("note").select_related("author").order_by("-on", "-id")
    return [
        CheckInView(on=r.on, mode=r.get_mode_display(), author=r.author.display_name, mine=False, mood=r.mood, note="")
        for r in rows
    ]


def never_together_pairs(organization_id: int, participant_ids=None) -> set[frozenset[int]]:
    """Pairs who must never be grouped, for pods and for the group-formation engine."""
    qs = NeverTogether.objects.filter(organization_id=organization_id)
    if participant_ids is not None:
        ids = list(participant_ids)
        qs = qs.filter(participant_a_id__in=ids, participant_b_id__in=ids)
    return {frozenset(pair) for pair in qs.values_list("participant_a_id", "participant_b_id")}


def never_together_for(membership: Membership) -> QuerySet[NeverTogether]:
    return (
        NeverTogether.objects.filter(organization_id=membership.organization_id)
        .select_related("participant_a", "participant_b")
        .order_by("-created_at", "-id")
    )


def never_together_get(membership: Membership, pair_id) -> NeverTogether:
    pair = never_together_for(membership).filter(pk=pair_id).first()
    if pair is None:
        raise Http404("no such pair")
    return pair
