"""Who may change compliance data.

The global legal-status registry belongs to the deployment's staff, not to an organization's
admin (a row changes the answer for every organization). An organization's own rule pack belongs
to its administrators and coordinators; every active member may read the packs and the registry
(they say what the law asks of everyone's work).

A client's 303 Client Data Form (SB 303) is identified, sensitive data: only the care team that
may see the participant's record may record or read it (``participants.can_view_participants``);
researchers, hospitality staff and peer supporters may not. How the regulator reports are built
(reporting settings) belongs to coordinators and administrators, who file them."""

from django.core.exceptions import PermissionDenied

from communitas.accounts.models import Membership
from communitas.participants.permissions import can_view_participants

RULE_PACK_EDITORS = frozenset({Membership.Role.ADMIN, Membership.Role.COORDINATOR})
REPORTING_EDITORS = frozenset({Membership.Role.ADMIN, Membership.Role.COORDINATOR})


def can_edit_legal_status(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active and user.is_staff


def require_legal_status_editor(user):
    if not can_edit_legal_status(user):
        raise PermissionDenied
    return user


def can_view_compliance(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def can_manage_rule_packs(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in RULE_PACK_EDITORS


def can_record_client_data(membership: Membership | None) -> bool:
    """Record and read a participant's 303 Client Data Form: whoever may view the participant."""
    return can_view_participants(membership)


def can_manage_reporting_settings(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in REPORTING_EDITORS


def require(predicate, membership: Membership | None) -> Membership:
    if membership is None or not predicate(membership):
        raise PermissionDenied
    return membership
