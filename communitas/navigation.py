"""Project-level glue above every app: the home page and the role-based navigation."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from communitas.accounts.permissions import can_manage_organization
from communitas.outcomes.permissions import can_view_outcomes
from communitas.participants.permissions import can_view_participants
from communitas.safety.permissions import can_handle_alerts
from communitas.safety.selectors import open_alert_count


def navigation(request):
    """Template context: the current organization and which sections this role may open."""
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership,
        "current_organization": getattr(request, "organization", None),
        "all_memberships": getattr(request, "memberships", []),
        "nav_participants": can_view_participants(membership),
        "nav_organization": can_manage_organization(membership),
        "nav_outcomes": can_view_outcomes(membership),
        "nav_alerts": can_handle_alerts(membership),
        "open_alerts": _LazyCount(membership) if can_handle_alerts(membership) else 0,
    }


class _LazyCount:
    """Counts open alerts only if a template prints the number."""

    def __init__(self, membership):
        self.membership, self._value = membership, None

    def _count(self) -> int:
        if self._value is None:
            self._value = open_alert_count(self.membership)
        return self._value

    def __str__(self) -> str:
        return str(self._count())

    def __bool__(self) -> bool:
        return self._count() > 0


@login_required
def home(request):
    if can_view_participants(request.membership):
        return redirect("participants:list")
    return render(request, "accounts/home.html")
