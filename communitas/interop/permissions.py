"""Who may produce reports and exports that leave the platform: the organization's coordinators
and administrators. Researchers receive de-identified exports made for them; they do not pull
regulator reports or identified bundles."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership

Role = Membership.Role
REPORTERS = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_file_reports(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in REPORTERS


def require_reporter(membership: Membership | None) -> Membership:
    if not can_file_reports(membership):
        raise PermissionDenied
    assert membership is not None
    return membership
