"""Data-sharing agreements under /api/v1/sharing/: the agreements an organization makes
(``outgoing``) and receives (``incoming``), making and revoking them (the owner), and the one
crossing, a pseudonymous FHIR Bundle per active agreement (the recipient). Coordinators and
administrators only; anything not theirs answers 404."""

from __future__ import annotations

import datetime
from typing import Annotated

from django.db.models import Prefetch
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from communitas.interop import sharing
from communitas.interop.models import DataSharingAgreement
from communitas.interop.permissions import require_reporter
from communitas.participants.models import Participant
from communitas.participants.schemas import Date, Message, Text
from communitas.programs.schemas import Id

router = Router(tags=["sharing"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Text]
Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")
]


class AgreementIn(Schema):
    recipient: Slug  # the recipient organization's identifier
    title: Title
    participant_ids: list[Id]
    scopes: list[str]  # consent scope codes: participation, research
    starts_on: Date
    ends_on: Date

    model_config = ConfigDict(extra="forbid")


class AgreementOut(Schema):
    id: int
    direction: str  # outgoing (we own it) | incoming (we receive it)
    owner: str
    owner_name: str
    recipient: str
    recipient_name: str
    title: str
    scopes: list[str]
    resource_types: list[str]  # what a bundle under these scopes may hold
    starts_on: datetime.date
    ends_on: datetime.date
    revoked_at: datetime.datetime | None
    status: str  # scheduled | active | ended | revoked
    participant_ids: list[int] | None  # outgoing only: the recipient never sees the owner's ids


def _out(agreement: DataSharingAgreement, *, outgoing: bool, today: datetime.date) -> dict:
    ids = sorted(p.pk for p in agreement.participants.all()) if outgoing else None
    return {
        "id": agreement.pk,
        "direction": "outgoing" if outgoing else "incoming",
        "owner": agreement.organization.slug,
        "owner_name": agreement.organization.name,
        "recipient": agreement.recipient.slug,
        "recipient_name": agreement.recipient.name,
        "title": agreement.title,
        "scopes": list(agreement.scopes),
        "resource_types": sharing.resource_types(agreement.scopes),
        "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on,
        "revoked_at": agreement.revoked_at,
        "status": sharing.agreement_status(agreement, today),
        "participant_ids": ids,
    }


@router.get("/sharing/agreements", response={200: list[AgreementOut], **ERRORS})
def list_agreements(request):
    """The agreements the organization owns, then those it receives."""
    membership = require_reporter(request.membership)
    today = timezone.localdate()
    listed = Prefetch("participants", queryset=Participant.objects.only("pk"))
    owned = sharing.agreements_owned(membership.organization_id).select_related("organization").prefetch_related(listed)
    received = sharing.agreements_received(membership.organization_id).select_related("recipient")
    return [_out(a, outgoing=True, today=today) for a in owned] + [
        _out(a, outgoing=False, today=today) for a in received
    ]


@router.post("/sharing/agreements", response={201: AgreementOut, **ERRORS})
def create_agreement(request, payload: AgreementIn):
    """Refused with 422, saving nothing, when a participant is not the organization's (or is
    archived) or lacks consent to a scope, a scope is unknown, the recipient is unknown or the
    organization itself, or the dates are out of order."""
    membership = require_reporter(request.membership)
    try:
        agreement = sharing.agreement_create(
            organization=membership.organization, actor=request.user, **payload.model_dump()
        )
    except sharing.SharingError as exc:
        return Status(422, {"error": "validation_error", "detail": str(exc)})
    return Status(201, _out(agreement, outgoing=True, today=timezone.localdate()))


@router.post("/sharing/agreements/{agreement_id}/revoke", response={200: AgreementOut, **ERRORS})
def revoke_agreement(request, agreement_id: int):
    membership = require_reporter(request.membership)
    agreement = sharing.agreement_get_for_owner(membership, agreement_id)
    agreement = sharing.agreement_revoke(agreement=agreement, actor=request.user)
    return _out(agreement, outgoing=True, today=timezone.localdate())


@router.get("/sharing/agreements/{agreement_id}/bundle", response={200: dict, **ERRORS})
def agreement_bundle(request, agreement_id: int):
    """The recipient's download: a pseudonymous FHIR R4B collection Bundle of the participants the
    agreement shares today, limited to its scopes' resource types. 404 for the owner, for other
    organizations and for an agreement not active today."""
    membership = require_reporter(request.membership)
    agreement = sharing.agreement_get_for_recipient(membership, agreement_id, timezone.localdate())
    return sharing.agreement_bundle_export(agreement=agreement, actor=request.user, membership=membership, via="api")
