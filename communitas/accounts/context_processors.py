from communitas.accounts.permissions import can_manage_organization, can_view_participants


def organization(request):
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership,
        "current_organization": getattr(request, "organization", None),
        "all_memberships": getattr(request, "memberships", []),
        "nav_participants": can_view_participants(membership),
        "nav_organization": can_manage_organization(membership),
    }
