"""Who sees and acknowledges safety alerts: the clinical care team."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership

Role = Membership.Role
ALERT_HANDLERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR})


def can_handle_alerts(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in ALERT_HANDLERS


def require_alert_handler(membership: Membership | None) -> Membership:
    if membership is None or not can_handle_alerts(membership):
        raise PermissionDenied
    return membership
