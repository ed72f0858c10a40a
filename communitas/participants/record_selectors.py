"""Reads of record requests and addenda. Scoped to the membership's organization; another
organization's request answers 404 like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.participants.models import Participant, RecordAddendum, RecordRequest


def open_record_requests(membership: Membership) -> QuerySet[RecordRequest]:
    return (
        RecordRequest.objects.filter(
            organization_id=membership.organization_id,
            status=RecordRequest.Status.OPEN,
            participant__archived_at__isnull=True,
        )
        .select_related("participant")
        .order_by("created_at", "pk")
    )


def record_requests_for(participant: Participant) -> QuerySet[RecordRequest]:
    return (
        RecordRequest.objects.filter(participant=participant, organization_id=participant.organization_id)
        .select_related("decided_by", "requested_by", "addendum")
        .order_by("-created_at", "-pk")
    )


def record_request_get(participant: Participant, request_id) -> RecordRequest:
    found = record_requests_for(participant).filter(pk=request_id).first()
    if found is None:
        raise Http404("no such record request")
    return found


def addenda_for(participant: Participant) -> QuerySet[RecordAddendum]:
    return (
        RecordAddendum.objects.filter(participant=participant, organization_id=participant.organization_id)
        .select_related("added_by", "request")
        .order_by("created_at", "pk")
    )
