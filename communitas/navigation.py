"""Project-level glue above every app: the home page and the role-based navigation."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from communitas.accounts.permissions import can_manage_organization
from communitas.participants.permissions import can_view_participants


def navigation(request):
    """Template context: the current organization and which sections this role may open."""
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership,
        "current_organization": getattr(request, "organization", None),
        "all_memberships": getattr(request, "memberships", []),
        "nav_participants": can_view_participants(membership),
        "nav_organization": can_manage_organization(membership),
    }


@login_required
def home(request):
    if can_view_participants(request.membership):
        return redirect("participants:list")
    return render(request, "accounts/home.html")
