"""Who may read research data (de-identified analysis datasets and analyses): researchers, and the
coordinators and administrators who run the program. The care team's other roles do not need it."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership

Role = Membership.Role
RESEARCH_READERS = frozenset({Role.RESEARCHER, Role.COORDINATOR, Role.ADMIN})


def can_read_research(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in RESEARCH_READERS


def require_research_reader(membership: Membership | None) -> Membership:
    if membership is None or not can_read_research(membership):
        raise PermissionDenied
    return membership
