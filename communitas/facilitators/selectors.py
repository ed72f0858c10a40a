"""Reads for facilitator profiles. Lookups by id answer 404 for both "missing" and "not yours"."""

from __future__ import annotations

import datetime
from itertools import groupby

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from communitas.accounts.models import Membership, User
from communitas.facilitators import rules
from communitas.facilitators.models import Competency, Credential, FacilitatorProfile, SupervisionEntry, Training


def _credentials() -> QuerySet[Credential]:
    return Credential.objects.select_related("verified_by").order_by("kind", "-valid_from", "id")


def facilitators_for_membership(membership: Membership) -> QuerySet[FacilitatorProfile]:
    """Every profile in the membership's organization, active first, with credentials prefetched."""
    return (
        FacilitatorProfile.objects.filter(organization_id=membership.organization_id)
        .select_related("user")
        .prefetch_related(Prefetch("credentials", queryset=_credentials()))
        .order_by("-active", "display_name", "id")
    )


def profile_get_for_user(membership: Membership | None, profile_id) -> FacilitatorProfile:
    if membership is None:
        raise Http404("no such facilitator")
    profile = facilitators_for_membership(membership).filter(pk=profile_id).first()
    if profile is None:
        raise Http404("no such facilitator")
    return profile


def credential_get(profile: FacilitatorProfile, credential_id) -> Credential:
    credential = (
        Credential.objects.filter(organization_id=profile.organization_id, profile=profile, pk=credential_id)
        .select_related("profile")
        .first()
    )
    if credential is None:
        raise Http404("no such credential")
    return credential


def credentials_for_profile(profile: FacilitatorProfile) -> QuerySet[Credential]:
    return _credentials().filter(organization_id=profile.organization_id, profile=profile)


def trainings_for_profile(profile: FacilitatorProfile) -> QuerySet[Training]:
    return Training.objects.filter(organization_id=profile.organization_id, profile=profile).order_by(
        "-completed_on", "-id"
    )


def competencies_for_profile(profile: FacilitatorProfile) -> QuerySet[Competency]:
    return Competency.objects.filter(organization_id=profile.organization_id, profile=profile).order_by("code", "id")


def supervision_for_profile(profile: FacilitatorProfile) -> QuerySet[SupervisionEntry]:
    return (
        SupervisionEntry.objects.filter(organization_id=profile.organization_id, profile=profile)
        .select_related("supervisor")
        .order_by("-met_on", "-id")
    )


def organization_members(organization_id: int) -> QuerySet[User]:
    """People who may be linked to a profile or supervise: active members of the organization."""
    return User.objects.filter(
        memberships__organization_id=organization_id, memberships__is_active=True, is_active=True
    ).order_by("full_name", "email")


def member_get(organization_id: int, user_id: int) -> User | None:
    return organization_members(organization_id).filter(pk=user_id).first()


def licence_status(profile: FacilitatorProfile, *, jurisdiction: str, today: datetime.date) -> rules.LicenceStatus:
    """Uses the prefetched credentials (``facilitators_for_membership``): no query per profile."""
    return rules.licence_status(profile.credentials.all(), jurisdiction=jurisdiction, today=today)


def expiring_credentials(organization_id: int, today: datetime.date) -> list[rules.ExpiryWarning]:
    """Warnings for the organization's active facilitators (60 and 30 days ahead, expired and not
    renewed), soonest first. One query."""
    credentials = (
        Credential.objects.filter(organization_id=organization_id, profile__active=True)
        .select_related("profile")
        .order_by("profile_id", "id")
    )
    warnings = [
        warning
        for _profile_id, mine in groupby(credentials, key=lambda c: c.profile_id)
        for warning in rules.expiry_warnings(list(mine), today=today)
    ]
    return sorted(warnings, key=lambda w: w.days_left)
