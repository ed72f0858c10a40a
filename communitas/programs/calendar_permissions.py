"""Who may see the staff calendar and create or revoke calendar feeds.

Everyone on the roster sees the week (hospitality staff see times and titles only). Coordinators
and administrators create feeds for any facilitator or circle of their organization; a
facilitator (or guide, peer supporter) creates one for their own profile only."""

from __future__ import annotations

from communitas.accounts.models import Membership
from communitas.facilitators.models import FacilitatorProfile
from communitas.facilitators.permissions import can_manage_facilitators, is_own_profile
from communitas.programs.models import CalendarFeed, Circle
from communitas.programs.permissions import can_view_clinical, can_view_roster


def can_view_calendar(membership: Membership | None) -> bool:
    return can_view_roster(membership)


def can_see_session_details(membership: Membership | None) -> bool:
    """Kind, circle, location and a link to the session page; otherwise times and titles only."""
    return can_view_clinical(membership)


def can_manage_feeds(membership: Membership | None) -> bool:
    """Create and revoke feeds for any facilitator or circle of the organization."""
    return can_manage_facilitators(membership)


def can_create_facilitator_feed(membership: Membership | None, profile: FacilitatorProfile) -> bool:
    if membership is None or profile.organization_id != membership.organization_id or not profile.active:
        return False
    return can_manage_feeds(membership) or (can_view_roster(membership) and is_own_profile(membership, profile))


def can_create_circle_feed(membership: Membership | None, circle: Circle) -> bool:
    return (
        membership is not None and circle.organization_id == membership.organization_id and can_manage_feeds(membership)
    )


def can_revoke_feed(membership: Membership | None, feed: CalendarFeed) -> bool:
    if membership is None or feed.organization_id != membership.organization_id:
        return False
    if can_manage_feeds(membership):
        return True
    return feed.facilitator is not None and can_create_facilitator_feed(membership, feed.facilitator)
