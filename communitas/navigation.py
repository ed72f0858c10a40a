"""Project-level glue above every app: the home page and the role-based navigation."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from communitas.accounts.permissions import can_manage_organization
from communitas.community.circle_permissions import can_open_circles, can_view_partners
from communitas.community.permissions import can_view_pods
from communitas.facilitators.permissions import can_view_facilitators
from communitas.insights.permissions import can_read_research
from communitas.interop.permissions import can_file_reports
from communitas.outcomes.permissions import can_view_outcomes
from communitas.participants.permissions import can_view_participants
from communitas.programs.permissions import can_view_roster
from communitas.safety.permissions import can_handle_alerts, can_record_adverse_events
from communitas.safety.selectors import open_alert_count, overdue_follow_up_count

ADVERSE_EVENT_PAGES = frozenset(
    {
        "adverse_events",
        "adverse_event_record",
        "adverse_event",
        "follow_up_add",
        "follow_up_complete",
        "follow_ups_overdue",
    }
)


def navigation(request):
    """Template context: the current organization and which sections this role may open."""
    membership = getattr(request, "membership", None)
    match = getattr(request, "resolver_match", None)
    return {
        "current_membership": membership,
        "current_organization": getattr(request, "organization", None),
        "all_memberships": getattr(request, "memberships", []),
        "nav_participants": can_view_participants(membership),
        "nav_organization": can_manage_organization(membership),
        "nav_outcomes": can_view_outcomes(membership),
        "nav_programs": can_view_roster(membership),
        "nav_facilitators": can_view_facilitators(membership),
        "nav_compliance": can_view_participants(membership),
        "nav_circles": can_open_circles(membership),
        "nav_pods": can_view_pods(membership),
        "nav_partners": can_view_partners(membership),
        "nav_research": can_read_research(membership),
        "nav_reports": can_file_reports(membership),
        "nav_alerts": can_handle_alerts(membership),
        "open_alerts": _LazyCount(open_alert_count, membership) if can_handle_alerts(membership) else 0,
        "nav_adverse_events": can_record_adverse_events(membership),
        "nav_on_adverse_events": match is not None
        and match.app_name == "safety"
        and match.url_name in ADVERSE_EVENT_PAGES,
        "overdue_follow_ups": (
            _LazyCount(overdue_follow_up_count, membership) if can_record_adverse_events(membership) else 0
        ),
    }


class _LazyCount:
    """Counts (open alerts, overdue follow-ups) only if a template prints the number."""

    def __init__(self, count, membership):
        self.count, self.membership, self._value = count, membership, None

    def _count(self) -> int:
        if self._value is None:
            self._value = self.count(self.membership)
        return self._value

    def __str__(self) -> str:
        return str(self._count())

    def __bool__(self) -> bool:
        return self._count() > 0


@login_required
def home(request):
    if can_view_participants(request.membership):
        return redirect("participants:list")
    if can_view_roster(request.membership):
        return redirect("programs:list")
    if can_read_research(request.membership):
        return redirect("insights:home")
    return render(request, "accounts/home.html")
