"""Named permission predicates for accounts and organization settings."""

from communitas.accounts.models import Membership


def can_manage_organization(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role == Membership.Role.ADMIN
