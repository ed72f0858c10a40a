"""Who sees and acknowledges safety alerts, and who records adverse events: the clinical care team."""

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


# The care team present at sessions records adverse events and works their follow-ups.
# Researchers see de-identified data only, peer supporters only what their pods share (DESIGN.md).
ADVERSE_EVENT_RECORDERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR, Role.CEREMONIAL_GUIDE})


def can_record_adverse_events(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in ADVERSE_EVENT_RECORDERS


def require_adverse_event_recorder(membership: Membership | None) -> Membership:
    if membership is None or not can_record_adverse_events(membership):
        raise PermissionDenied
    return membership
