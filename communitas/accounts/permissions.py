"""Named permission predicates over a membership (a user's role in one organization)."""

from communitas.accounts.models import Membership

Role = Membership.Role

# The care team sees identified participant records; researchers see de-identified data
# only (DESIGN.md) and peer supporters only what their pods share (a later issue).
PARTICIPANT_VIEWERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR, Role.CEREMONIAL_GUIDE})
PARTICIPANT_EDITORS = frozenset({Role.ADMIN, Role.COORDINATOR})


def can_view_participants(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in PARTICIPANT_VIEWERS


def can_edit_participants(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in PARTICIPANT_EDITORS


def can_manage_organization(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role == Role.ADMIN
