"""Reads for partners, referrals, contributions and approvals, scoped to the caller's
organization: another organization's ids are 404."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.community.models import ContributionApproval, Partner, PartnerContribution, Referral
from communitas.participants.models import Participant


def _one(qs: QuerySet, pk, what: str):
    try:
        found = qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Http404(f"no such {what}")
    return found


def partners_for(membership: Membership, *, active_only: bool = False) -> QuerySet[Partner]:
    qs = Partner.objects.filter(organization_id=membership.organization_id)
    if active_only:
        qs = qs.filter(active=True)
    return qs.annotate(contribution_count=Count("contributions")).order_by("-active", "name", "id")


def partner_get_for_user(membership: Membership, partner_id) -> Partner:
    return _one(Partner.objects.filter(organization_id=membership.organization_id), partner_id, "partner")


def participant_get_for_user(membership: Membership, participant_id) -> Participant:
    qs = Participant.objects.filter(organization_id=membership.organization_id, archived_at__isnull=True)
    return _one(qs, participant_id, "participant")


def referrals_for_participant(participant: Participant) -> QuerySet[Referral]:
    return (
        Referral.objects.filter(participant=participant, organization_id=participant.organization_id)
        .select_related("partner")
        .order_by("-created_at", "-id")
    )


def referral_get_for_user(membership: Membership, referral_id) -> Referral:
    qs = Referral.objects.filter(
        organization_id=membership.organization_id, participant__archived_at__isnull=True
    ).select_related("partner", "participant")
    return _one(qs, referral_id, "referral")


def _approvals() -> Prefetch:
    return Prefetch(
        "approvals",
        queryset=ContributionApproval.objects.select_related("recorded_by").order_by("-approved_on", "-id"),
    )


def contributions_for(membership: Membership) -> QuerySet[PartnerContribution]:
    return (
        PartnerContribution.objects.filter(organization_id=membership.organization_id)
        .select_related("partner")
        .prefetch_related(_approvals())
        .order_by("partner__name", "title", "id")
    )


def contribution_get_for_user(membership: Membership, contribution_id) -> PartnerContribution:
    return _one(contributions_for(membership), contribution_id, "contribution")


def approval_get_for_user(membership: Membership, approval_id) -> ContributionApproval:
    qs = ContributionApproval.objects.filter(organization_id=membership.organization_id).select_related("contribution")
    return _one(qs, approval_id, "approval")
