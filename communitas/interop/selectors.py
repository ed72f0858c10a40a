"""Reads for the FHIR export: plain rows (no identity fields, one query each), scoped to the
membership's organization. Lookups by id answer 404 for both "missing" and "not yours"."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.outcomes.models import Response, Score
from communitas.participants.models import Participant


def _response_rows(membership: Membership) -> QuerySet:
    return (
        Response.objects.filter(organization_id=membership.organization_id, participant__archived_at__isnull=True)
        .order_by("submitted_at", "id")
        .values(
            "id",
            "answers",
            instrument=F("instrument_code"),
            version=F("instrument_version"),
            authored=F("submitted_at"),
            patient=F("participant__pseudonym"),
        )
    )


def _score_rows(membership: Membership) -> QuerySet:
    return (
        Score.objects.filter(
            organization_id=membership.organization_id, response__participant__archived_at__isnull=True
        )
        .order_by("response__submitted_at", "id")
        .values(
            "id",
            "total",
            "band",
            "response_id",
            instrument=F("instrument_code"),
            effective=F("response__submitted_at"),
            patient=F("response__participant__pseudonym"),
        )
    )


def responses_for_participant(membership: Membership, participant: Participant) -> list[dict]:
    return list(_response_rows(membership).filter(participant_id=participant.pk))


def response_get_for_user(membership: Membership, response_id: int) -> dict:
    row = _response_rows(membership).filter(pk=response_id).first()
    if row is None:
        raise Http404("no such response")
    return row


def scores_for_participant(membership: Membership, participant: Participant) -> list[dict]:
    return list(_score_rows(membership).filter(response__participant_id=participant.pk))


def score_get_for_user(membership: Membership, score_id: int) -> dict:
    row = _score_rows(membership).filter(pk=score_id).first()
    if row is None:
        raise Http404("no such score")
    return row
