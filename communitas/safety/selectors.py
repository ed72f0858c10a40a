import datetime

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.safety.models import AdverseEvent, FollowUpTask, SafetyAlert


def alerts_for_membership(membership: Membership, *, open_only: bool = True) -> QuerySet[SafetyAlert]:
    qs = SafetyAlert.objects.filter(organization_id=membership.organization_id)
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    # Open alerts first on every database (PostgreSQL sorts NULLs last by default), then the most
    # recently acknowledged, so a capped list never hides an open alert or the latest acknowledgements.
    return qs.select_related("participant", "assigned_to", "acknowledged_by").order_by(
        F("acknowledged_at").desc(nulls_first=True), "-created_at"
    )


def alert_get_for_user(membership: Membership | None, alert_id) -> SafetyAlert:
    alert = (
        None if membership is None else alerts_for_membership(membership, open_only=False).filter(pk=alert_id).first()
    )
    if alert is None:
        raise Http404("no such alert")
    return alert


def open_alert_count(membership: Membership) -> int:
    return SafetyAlert.objects.filter(organization_id=membership.organization_id, acknowledged_at__isnull=True).count()


def adverse_events_for_membership(membership: Membership, *, severity: str = "") -> QuerySet[AdverseEvent]:
    """The organization's adverse events, latest onset first, each with its count of open follow-ups."""
    qs = AdverseEvent.objects.filter(organization_id=membership.organization_id)
    if severity:
        qs = qs.filter(severity=severity)
    return (
        qs.select_related("participant", "reported_by")
        .annotate(open_follow_ups=Count("follow_ups", filter=Q(follow_ups__done_at__isnull=True)))
        .order_by("-onset_at", "-id")
    )


def adverse_event_get_for_user(membership: Membership | None, event_id) -> AdverseEvent:
    event = (
        None
        if membership is None
        else AdverseEvent.objects.filter(organization_id=membership.organization_id, pk=event_id)
        .select_related("participant", "reported_by")
        .first()
    )
    if event is None:
        raise Http404("no such adverse event")
    return event


def follow_ups_for_event(event: AdverseEvent) -> QuerySet[FollowUpTask]:
    """Open tasks first (soonest due first), then done ones (latest first)."""
    return (
        FollowUpTask.objects.filter(organization_id=event.organization_id, adverse_event=event)
        .select_related("assigned_to", "done_by")
        .order_by(F("done_at").desc(nulls_first=True), "due_on", "id")
    )


def follow_up_get(event: AdverseEvent, task_id) -> FollowUpTask:
    task = follow_ups_for_event(event).filter(pk=task_id).first()
    if task is None:
        raise Http404("no such follow-up")
    return task


def open_follow_ups(membership: Membership) -> QuerySet[FollowUpTask]:
    return (
        FollowUpTask.objects.filter(organization_id=membership.organization_id, done_at__isnull=True)
        .select_related("adverse_event__participant", "assigned_to")
        .order_by("due_on", "id")
    )


def overdue_follow_ups(membership: Membership, today: datetime.date | None = None) -> QuerySet[FollowUpTask]:
    """Open tasks due before ``today`` (the local date by default)."""
    return open_follow_ups(membership).filter(due_on__lt=today or timezone.localdate())


def overdue_follow_up_count(membership: Membership) -> int:
    return FollowUpTask.objects.filter(
        organization_id=membership.organization_id, done_at__isnull=True, due_on__lt=timezone.localdate()
    ).count()
