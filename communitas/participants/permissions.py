"""Who may see and change participant records, as named predicates over a membership.

The care team sees identified participant records; researchers see de-identified data only
(DESIGN.md) and peer supporters only what their pods share (a later issue)."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership

Role = Membership.Role

PARTICIPANT_VIEWERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.FACILITATOR, Role.CEREMONIAL_GUIDE})
PARTICIPANT_EDITORS = frozenset({Role.ADMIN, Role.COORDINATOR})


def can_view_participants(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in PARTICIPANT_VIEWERS


def can_edit_participants(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in PARTICIPANT_EDITORS


def require_participant_viewer(membership: Membership | None) -> Membership:
    if membership is None or not can_view_participants(membership):
        raise PermissionDenied
    return membership


def require_participant_editor(membership: Membership | None) -> Membership:
    if membership is None or not can_edit_participants(membership):
        raise PermissionDenied
    return membership


def can_decide_record_requests(membership: Membership | None) -> bool:
    """Corrections and destruction requests are decided by coordinators and administrators, and
    by licensed clinicians among the people who see participant records."""
    return (
        membership is not None
        and can_view_participants(membership)
        and (membership.role in PARTICIPANT_EDITORS or membership.is_clinician)
    )


def can_destroy_records(membership: Membership | None) -> bool:
    """Only a coordinator or an administrator confirms a destruction."""
    return can_edit_participants(membership)
