"""Calendars: the staff week, the page where feeds are created and revoked, and the public
iCalendar feed a calendar app subscribes to with a secret address."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from communitas.programs import calendar_selectors as selectors
from communitas.programs import calendar_services as services
from communitas.programs.calendar_permissions import can_manage_feeds, can_see_session_details, can_view_calendar
from communitas.programs.ical import calendar
from communitas.programs.permissions import require

FEED_CACHE_CONTROL = "private, max-age=300"


@login_required
def calendar_week(request):
    membership = require(can_view_calendar, request.membership)
    monday = selectors.week_start(request.GET.get("week"), today=timezone.localdate())
    week = datetime.timedelta(days=7)
    context = {
        "days": selectors.week_days(membership, monday),
        "monday": monday,
        "sunday": monday + datetime.timedelta(days=6),
        "today": timezone.localdate(),
        "previous_week": selectors.week_param(monday - week),
        "next_week": selectors.week_param(monday + week),
        "details": can_see_session_details(membership),
    }
    return render(request, "programs/calendar_week.html", context)


def _create_feed(request, membership) -> str:
    """Create the feed the form names; its address, shown once."""
    if "circle" in request.POST:
        circle = selectors.feed_circle_get_for_user(membership, request.POST["circle"])
        _feed, raw = services.calendar_feed_create(membership=membership, actor=request.user, circle=circle)
    else:
        profile = selectors.feed_facilitator_get_for_user(membership, request.POST.get("facilitator"))
        _feed, raw = services.calendar_feed_create(membership=membership, actor=request.user, facilitator=profile)
    return request.build_absolute_uri(reverse("calendar:feed", kwargs={"token": raw}))


@login_required
def calendar_feeds(request):
    membership = require(can_view_calendar, request.membership)
    context = {
        "created_url": _create_feed(request, membership) if request.method == "POST" else "",
        "feeds": selectors.feeds_for(membership),
        "facilitators": selectors.feed_facilitators_for(membership),
        "circles": selectors.feed_circles_for(membership),
        "can_manage": can_manage_feeds(membership),
    }
    return render(request, "programs/calendar_feeds.html", context)


@require_POST
@login_required
def calendar_feed_revoke(request, feed_id: int):
    membership = require(can_view_calendar, request.membership)
    feed = selectors.feed_get_for_user(membership, feed_id)
    services.calendar_feed_revoke(membership=membership, actor=request.user, feed=feed)
    messages.success(request, _("Calendar feed revoked."))
    return redirect("programs:calendar_feeds")


@require_safe
def calendar_feed(request, token: str):
    """Public: the secret address is the only credential. Unknown or revoked: a bare 404."""
    feed = selectors.feed_resolve(token)
    if feed is None:
        return HttpResponseNotFound(b"", content_type="text/plain; charset=utf-8")
    now = timezone.now()
    body = calendar(selectors.feed_events(feed, now=now), name=selectors.feed_name(feed), now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = FEED_CACHE_CONTROL
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
