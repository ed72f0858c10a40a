"""Who may see screening results: the clinical care team."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership
from communitas.participants.permissions import can_view_participants


def require_screening_viewer(membership: Membership | None) -> Membership:
    if membership is None or not can_view_participants(membership):
        raise PermissionDenied
    return membership
