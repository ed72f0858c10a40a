"""Reads for calendars: a feed from its token and its events (two queries however many
sessions), the organization's week, and the feeds and targets a user may manage."""

from __future__ import annotations

import datetime
import re

from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.facilitators.models import FacilitatorProfile
from communitas.programs.calendar_permissions import can_manage_feeds
from communitas.programs.calendar_services import MAX_TOKEN_LENGTH, TOKEN_PREFIX, hash_feed_token
from communitas.programs.models import CalendarFeed, Circle, Session

FEED_PAST_DAYS = 30
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
FIRST_YEAR, LAST_YEAR = 1970, 2999
# What a feed may read: no title, no notes, no attendance; see ical.py.
EVENT_FIELDS = ("pk", "kind", "status", "location", "planned_start", "planned_end", "updated_at")


def feed_resolve(token: str) -> CalendarFeed | None:
    """The live feed behind ``token``, or None (unknown, revoked, or its facilitator left)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    feed = (
        CalendarFeed.objects.select_related("facilitator", "circle")
        .filter(secret_hash=hash_feed_token(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or (feed.facilitator is not None and not feed.facilitator.active):
        return None
    return feed


def feed_name(feed: CalendarFeed) -> str:
    target = feed.facilitator.display_name if feed.facilitator is not None else getattr(feed.circle, "name", "")
    return f"Communitas · {target}"


def feed_sessions(feed: CalendarFeed, *, now: datetime.datetime) -> QuerySet[Session]:
    sessions = Session.objects.filter(
        organization_id=feed.organization_id, planned_start__gte=now - datetime.timedelta(days=FEED_PAST_DAYS)
    )
    if feed.kind == CalendarFeed.Kind.FACILITATOR:
        sessions = sessions.filter(facilitators=feed.facilitator_id)
    else:
        sessions = sessions.filter(circle=feed.circle)
    return sessions.order_by("planned_start", "pk")


def feed_events(feed: CalendarFeed, *, now: datetime.datetime) -> list[dict]:
    """Plain event dicts for ``ical.calendar``: the session's kind and its circle's (else its
    retreat's) name, never its title, participants, doses or notes."""
    rows = feed_sessions(feed, now=now).values(*EVENT_FIELDS, "circle__name", "retreat__name")
    return [
        {
            "id": row["pk"],
            "kind": str(Session.Kind(row["kind"]).label),
            "group": row["circle__name"] or row["retreat__name"] or "",
            "location": row["location"],
            "start": row["planned_start"],
            "end": row["planned_end"],
            "status": row["status"],
            "updated": row["updated_at"],
        }
        for row in rows
    ]


def week_start(value: str | None, *, today: datetime.date) -> datetime.date:
    """The Monday of ISO week ``YYYY-Www``; this week's Monday when absent or malformed."""
    match = WEEK.match(value or "")
    if match and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        try:
            return datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    return today - datetime.timedelta(days=today.weekday())


def week_param(monday: datetime.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_days(membership: Membership, monday: datetime.date) -> list[tuple[datetime.date, list[Session]]]:
    """Monday to Sunday in the current time zone, each day with its sessions (one query)."""
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(monday + datetime.timedelta(days=7), datetime.time.min))
    sessions = (
        Session.objects.filter(
            organization_id=membership.organization_id, planned_start__gte=start, planned_start__lt=end
        )
        .select_related("circle", "retreat")
        .order_by("planned_start", "pk")
    )
    days: dict[datetime.date, list[Session]] = {monday + datetime.timedelta(days=i): [] for i in range(7)}
    for session in sessions:
        day = timezone.localtime(session.planned_start).date()
        if day in days:
            days[day].append(session)
    return list(days.items())


def feed_facilitators_for(membership: Membership) -> QuerySet[FacilitatorProfile]:
    """Whose feed this user may create: every active profile for coordinators, else their own."""
    profiles = FacilitatorProfile.objects.filter(organization_id=membership.organization_id, active=True)
    if not can_manage_feeds(membership):
        profiles = profiles.filter(user_id=membership.user_id)
    return profiles.order_by("display_name", "pk")


def feed_circles_for(membership: Membership) -> QuerySet[Circle]:
    circles = Circle.objects.filter(organization_id=membership.organization_id)
    if not can_manage_feeds(membership):
        circles = circles.none()
    return circles.order_by("name", "pk")


def feeds_for(membership: Membership) -> QuerySet[CalendarFeed]:
    feeds = CalendarFeed.objects.filter(organization_id=membership.organization_id)
    if not can_manage_feeds(membership):
        feeds = feeds.filter(facilitator__user_id=membership.user_id)
    live_first = F("revoked_at").asc(nulls_first=True)
    return feeds.select_related("facilitator", "circle").order_by(live_first, "-created_at", "-pk")


def _get(queryset, pk):
    found = queryset.filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404("not found")
    return found


def feed_facilitator_get_for_user(membership: Membership, pk) -> FacilitatorProfile:
    """A facilitator of this organization; 404 when missing or another organization's (whether
    this user may subscribe to them is the service's question)."""
    return _get(FacilitatorProfile.objects.filter(organization_id=membership.organization_id), pk)


def feed_circle_get_for_user(membership: Membership, pk) -> Circle:
    return _get(Circle.objects.filter(organization_id=membership.organization_id), pk)


def feed_get_for_user(membership: Membership, feed_id) -> CalendarFeed:
    return _get(
        CalendarFeed.objects.filter(organization_id=membership.organization_id).select_related("facilitator"), feed_id
    )
