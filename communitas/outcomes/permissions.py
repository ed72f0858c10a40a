"""Who may see outcomes and act on assessments. The care team that sees identified participants
sees their outcomes; coordinators and administrators plan assessments and issue links."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership
from communitas.participants.permissions import can_edit_participants, can_view_participants


def can_view_outcomes(membership: Membership | None) -> bool:
    return can_view_participants(membership)


def can_manage_assessments(membership: Membership | None) -> bool:
    return can_edit_participants(membership)


def require_outcomes_viewer(membership: Membership | None) -> Membership:
    if membership is None or not can_view_outcomes(membership):
        raise PermissionDenied
    return membership


def require_assessment_manager(membership: Membership | None) -> Membership:
    if membership is None or not can_manage_assessments(membership):
        raise PermissionDenied
    return membership
