"""Who may change the global legal-status registry: the deployment's staff, not an organization's
admin (a row changes the answer for every organization)."""

from django.core.exceptions import PermissionDenied


def can_edit_legal_status(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active and user.is_staff


def require_legal_status_editor(user):
    if not can_edit_legal_status(user):
        raise PermissionDenied
    return user
