"""Who may do what with integration-circle series, agreements, waitlists, community partners,
referrals and partner contributions, as named predicates over a membership.

Coordinators and administrators write. Facilitators, ceremonial guides and peer supporters read
the circles they facilitate. Hospitality staff see nothing clinical and researchers nothing
identified: neither opens circles (member names), partners' contact people or referrals;
researchers may read contributions and whether they may be used (the governance status), without
the names of the people who approved them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from communitas.accounts.models import Membership
from communitas.participants.permissions import can_view_participants
from communitas.programs.models import Circle
from communitas.programs.permissions import can_manage_programs

Role = Membership.Role
CIRCLE_GUIDES = frozenset({Role.FACILITATOR, Role.CEREMONIAL_GUIDE, Role.PEER_SUPPORTER})
PARTNER_READERS = frozenset(
    {Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR, Role.CEREMONIAL_GUIDE, Role.PEER_SUPPORTER}
)
CONTRIBUTION_READERS = PARTNER_READERS | {Role.RESEARCHER}


def can_manage_community(membership: Membership | None) -> bool:
    """Series, agreements, waitlists, partners, referrals, contributions and approvals."""
    return can_manage_programs(membership)


def can_open_circles(membership: Membership | None) -> bool:
    """May open the circles pages at all (which circles: ``circles_visible_to``)."""
    if membership is None or not membership.is_active:
        return False
    return can_manage_community(membership) or membership.role in CIRCLE_GUIDES


def circles_visible_to(membership: Membership) -> QuerySet[Circle]:
    """Every circle of the organization for coordinators; the circles they facilitate for guides."""
    circles = Circle.objects.filter(organization_id=membership.organization_id)
    if can_manage_community(membership):
        return circles
    if can_open_circles(membership):
        return circles.filter(facilitators__user_id=membership.user_id, facilitators__active=True).distinct()
    return circles.none()


def can_view_partners(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in PARTNER_READERS


def can_view_referrals(membership: Membership | None) -> bool:
    """Referrals name a participant and why they were referred: the identified care team."""
    return can_view_participants(membership)


def can_view_contributions(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in CONTRIBUTION_READERS


def can_see_approvers(membership: Membership | None) -> bool:
    """The names of the people at a partner who approved a use are personal data."""
    return can_view_partners(membership)
