"""API for pods, check-ins and never-together pairs under /api/v1/community/.

Coordinators and administrators manage (propose, move, send, close, record pairs) and read
every pod; facilitators, ceremonial guides and peer supporters read the pods that include a
member of a circle they facilitate. Check-ins come without their notes: no route returns a
note. People are named by id and pseudonym. A refused change answers 409 with the reason and
changes nothing; another organization's ids answer 404."""

import datetime
from typing import Literal

from django.http import Http404
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from communitas.community import pod_services as services
from communitas.community import selectors
from communitas.community.models import NeverTogether, Pod
from communitas.community.permissions import can_manage_pods, can_record_never_together, can_view_pods
from communitas.core.api import Pagination
from communitas.participants.models import Participant
from communitas.participants.schemas import Message, StrictSchema
from communitas.programs.permissions import require
from communitas.programs.schemas import Id

router = Router(tags=["community"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 422: Message}


class PodReasonOut(Schema):
    code: str
    value: str


class PodMemberOut(Schema):
    participant_id: int
    pseudonym: str
    response: str
    responded_at: datetime.datetime | None


class PodOut(Schema):
    id: int
    retreat_id: int
    name: str
    kind: str
    status: str
    explanation: list[PodReasonOut]
    members: list[PodMemberOut]
    sent_at: datetime.datetime | None
    activated_at: datetime.datetime | None
    closed_at: datetime.datetime | None


class UnplacedOut(Schema):
    participant_id: int
    reasons: list[PodReasonOut]


class ProposalOut(Schema):
    id: int
    retreat_id: int
    created_at: datetime.datetime
    pods: list[PodOut]
    unplaced: list[UnplacedOut]


class MoveIn(StrictSchema):
    participant_id: Id
    pod_id: Id | None = Field(description="A draft pod of this retreat, or null to take them out of every pod.")


class CheckInOut(Schema):
    id: int
    on: datetime.date
    mode: str
    author_id: int
    mood: int | None


class NeverTogetherIn(StrictSchema):
    participant_ids: list[Id] = Field(min_length=2, max_length=2)
    reason: Literal["relationship", "conflict", "request", "clinical", "other"]


class NeverTogetherOut(Schema):
    id: int
    participant_ids: list[int]
    reason: str
    created_at: datetime.datetime


def _pod_out(pod: Pod) -> dict:
    members = getattr(pod, "people", None) or list(pod.members.select_related("participant").order_by("participant_id"))
    return {
        "id": pod.pk,
        "retreat_id": pod.retreat_id,
        "name": pod.name,
        "kind": pod.kind,
        "status": pod.status,
        "explanation": pod.explanation,
        "members": [
            {
                "participant_id": m.participant_id,
                "pseudonym": m.participant.pseudonym,
                "response": m.response,
                "responded_at": m.responded_at,
            }
            for m in members
        ],
        "sent_at": pod.sent_at,
        "activated_at": pod.activated_at,
        "closed_at": pod.closed_at,
    }


def _conflict(exc: services.PodError):
    return Status(409, {"error": "conflict", "detail": str(exc)})


def _retreat_pods(membership, retreat) -> list[dict]:
    return [_pod_out(p) for p in selectors.pods_for_retreat(membership, retreat)]


@router.get("/community/retreats/{retreat_id}/pods", response={200: list[PodOut], **ERRORS})
@paginate(Pagination)
def list_pods(request, retreat_id: int):
    membership = require(can_view_pods, request.membership)
    return _retreat_pods(membership, selectors.retreat_get_for_user(membership, retreat_id))


@router.post("/community/retreats/{retreat_id}/pods/proposals", response={201: ProposalOut, **ERRORS})
def propose_pods(request, retreat_id: int):
    """Propose pods for everyone at the retreat who has none yet (replaces earlier drafts)."""
    membership = require(can_manage_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    proposal = services.pods_propose(retreat=retreat, actor=request.user)
    return Status(
        201,
        {
            "id": proposal.pk,
            "retreat_id": retreat.pk,
            "created_at": proposal.created_at,
            "pods": [_pod_out(p) for p in proposal.pods.order_by("id")],
            "unplaced": [{"participant_id": u["participant"], "reasons": u["reasons"]} for u in proposal.unplaced],
        },
    )


@router.post("/community/retreats/{retreat_id}/pods/move", response={200: list[PodOut], **ERRORS})
def move_member(request, retreat_id: int, payload: MoveIn):
    """Move someone into a draft pod (or out of every pod). Refused: a pod already sent, more
    than five people, a never-together pair."""
    membership = require(can_manage_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    person = next((p for p in selectors.retreat_people(retreat) if p.pk == payload.participant_id), None)
    if person is None:
        raise Http404("no such participant at this retreat")
    pod = None
    if payload.pod_id is not None:
        pod = Pod.objects.filter(retreat=retreat, pk=payload.pod_id).first()
        if pod is None:
            raise Http404("no such pod at this retreat")
    try:
        services.pod_member_move(retreat=retreat, participant=person, to_pod=pod, actor=request.user)
    except services.PodError as exc:
        return _conflict(exc)
    return _retreat_pods(membership, retreat)


@router.post("/community/retreats/{retreat_id}/pods/send", response={200: list[PodOut], **ERRORS})
def send_pods(request, retreat_id: int):
    """Offer every draft pod to its members (all or nothing)."""
    membership = require(can_manage_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    try:
        services.pods_send(retreat=retreat, actor=request.user)
    except services.PodError as exc:
        return _conflict(exc)
    return _retreat_pods(membership, retreat)


@router.get("/community/pods/{pod_id}", response={200: PodOut, **ERRORS})
def get_pod(request, pod_id: int):
    membership = require(can_view_pods, request.membership)
    return _pod_out(selectors.pod_get_for_user(membership, pod_id))


@router.post("/community/pods/{pod_id}/close", response={200: PodOut, **ERRORS})
def close_pod(request, pod_id: int):
    membership = require(can_view_pods, request.membership)
    pod = selectors.pod_get_for_user(membership, pod_id)
    require(can_manage_pods, membership)
    try:
        services.pod_close(pod=pod, actor=request.user)
    except services.PodError as exc:
        return _conflict(exc)
    return _pod_out(selectors.pod_get_for_user(membership, pod_id))


@router.get("/community/pods/{pod_id}/check-ins", response={200: list[CheckInOut], **ERRORS})
@paginate(Pagination)
def list_check_ins(request, pod_id: int):
    """When, how, who and mood; never the note."""
    membership = require(can_view_pods, request.membership)
    pod = selectors.pod_get_for_user(membership, pod_id)
    return pod.check_ins.defer("note").order_by("-on", "-id")


def _pair_out(pair: NeverTogether) -> dict:
    return {
        "id": pair.pk,
        "participant_ids": [pair.participant_a_id, pair.participant_b_id],
        "reason": pair.reason,
        "created_at": pair.created_at,
    }


@router.get("/community/never-together", response={200: list[NeverTogetherOut], **ERRORS})
@paginate(Pagination)
def list_never_together(request):
    membership = require(can_record_never_together, request.membership)
    return [_pair_out(p) for p in selectors.never_together_for(membership)]


@router.post("/community/never-together", response={200: NeverTogetherOut, 201: NeverTogetherOut, **ERRORS})
def record_never_together(request, payload: NeverTogetherIn):
    membership = require(can_record_never_together, request.membership)
    people = Participant.objects.filter(
        organization_id=membership.organization_id, archived_at__isnull=True, pk__in=payload.participant_ids
    )
    found = {p.pk: p for p in people}
    if any(i not in found for i in payload.participant_ids):
        raise Http404("no such participant")
    first, second = (found[i] for i in payload.participant_ids)
    existed = NeverTogether.objects.filter(
        participant_a_id=min(first.pk, second.pk), participant_b_id=max(first.pk, second.pk)
    ).exists()
    try:
        pair = services.never_together_record(first=first, second=second, reason=payload.reason, actor=request.user)
    except services.PodError as exc:
        return Status(422, {"error": "validation_error", "detail": str(exc)})
    return Status(200 if existed else 201, _pair_out(pair))


@router.delete("/community/never-together/{pair_id}", response={204: None, **ERRORS})
def remove_never_together(request, pair_id: int):
    membership = require(can_record_never_together, request.membership)
    services.never_together_remove(pair=selectors.never_together_get(membership, pair_id), actor=request.user)
    return Status(204, None)
