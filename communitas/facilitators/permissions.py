"""Who may see and change facilitator profiles, as named predicates over a membership.

Coordinators and administrators manage every profile. Facilitators and ceremonial guides see the
list (who is licensed, whose licence lapses) and their own profile, supervision notes included.
Researchers, peer supporters and hospitality staff see nothing here."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership
from communitas.facilitators.models import FacilitatorProfile

Role = Membership.Role

FACILITATOR_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
FACILITATOR_VIEWERS = frozenset({*FACILITATOR_MANAGERS, Role.FACILITATOR, Role.CEREMONIAL_GUIDE})


def can_view_facilitators(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in FACILITATOR_VIEWERS


def can_manage_facilitators(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in FACILITATOR_MANAGERS


def is_own_profile(membership: Membership | None, profile: FacilitatorProfile) -> bool:
    return (
        membership is not None
        and profile.user_id is not None
        and profile.user_id == membership.user_id
        and profile.organization_id == membership.organization_id
    )


def can_view_profile(membership: Membership | None, profile: FacilitatorProfile) -> bool:
    return can_manage_facilitators(membership) or (
        can_view_facilitators(membership) and is_own_profile(membership, profile)
    )


def can_read_supervision_notes(membership: Membership | None, profile: FacilitatorProfile) -> bool:
    """Kept apart from ``can_view_profile`` so that widening who sees profiles never widens this."""
    return can_manage_facilitators(membership) or (
        can_view_facilitators(membership) and is_own_profile(membership, profile)
    )


def require_facilitator_viewer(membership: Membership | None) -> Membership:
    if membership is None or not can_view_facilitators(membership):
        raise PermissionDenied
    return membership


def require_facilitator_manager(membership: Membership | None) -> Membership:
    if membership is None or not can_manage_facilitators(membership):
        raise PermissionDenied
    return membership


def require_profile_viewer(membership: Membership | None, profile: FacilitatorProfile) -> FacilitatorProfile:
    if not can_view_profile(membership, profile):
        raise PermissionDenied
    return profile
