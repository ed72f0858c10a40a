"""Who may do what with programs, enrolments and readiness."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership
from communitas.participants.permissions import can_edit_participants, can_view_participants

Role = Membership.Role
ROSTER_ROLES = frozenset(
    {Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR, Role.CEREMONIAL_GUIDE, Role.PEER_SUPPORTER, Role.HOSPITALITY}
)


def can_view_roster(membership: Membership | None) -> bool:
    """Ready / not ready / paused only: retreat and hospitality staff see no clinical reasons."""
    return membership is not None and membership.is_active and membership.role in ROSTER_ROLES


def can_view_clinical(membership: Membership | None) -> bool:
    return can_view_participants(membership)


def can_manage_programs(membership: Membership | None) -> bool:
    return can_edit_participants(membership)


def can_decide_screening(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.is_clinician


def require(predicate, membership: Membership | None) -> Membership:
    if membership is None or not predicate(membership):
        raise PermissionDenied
    return membership
