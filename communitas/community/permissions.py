"""Who may do what with community spaces, reflections and pods, as named predicates over a
membership. Which rows a permitted person then sees is decided by the selectors
(``reflections_visible_to``, ``pods_visible_to``): a role never widens what a participant chose.

- Coordinators and administrators manage community links, pods and never-together pairs.
- Reflections: staff read only what a participant shared with the facilitators of their circles
  or with their circle, and only if they facilitate one of that participant's circles. A
  coordinator who facilitates no circle of theirs reads none; nobody else reads ``only_me``.
- Pods: coordinators and administrators see every pod; facilitators, ceremonial guides and peer
  supporters see the pods that include a member of a circle they facilitate. Staff never read
  check-in notes. Researchers and hospitality staff see no pods and no reflections (researchers
  get engagement numbers through ``insights``).
"""

from communitas.accounts.models import Membership
from communitas.participants.permissions import can_edit_participants

Role = Membership.Role
COMMUNITY_STAFF = frozenset(
    {Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR, Role.CEREMONIAL_GUIDE, Role.PEER_SUPPORTER}
)
SEES_ALL_PODS = frozenset({Role.ADMIN, Role.COORDINATOR})


def _has_role(membership: Membership | None, roles: frozenset) -> bool:
    return membership is not None and membership.is_active and membership.role in roles


def can_manage_space_links(membership: Membership | None) -> bool:
    return can_edit_participants(membership)


def can_read_reflections(membership: Membership | None) -> bool:
    """May open reflection pages at all; the rows are filtered by ``reflections_visible_to``."""
    return _has_role(membership, COMMUNITY_STAFF)


def can_view_pods(membership: Membership | None) -> bool:
    return _has_role(membership, COMMUNITY_STAFF)


def sees_all_pods(membership: Membership | None) -> bool:
    return _has_role(membership, SEES_ALL_PODS)


def can_manage_pods(membership: Membership | None) -> bool:
    return can_edit_participants(membership)


def can_record_never_together(membership: Membership | None) -> bool:
    return can_edit_participants(membership)
