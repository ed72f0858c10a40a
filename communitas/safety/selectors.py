from django.db.models import QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.safety.models import SafetyAlert


def alerts_for_membership(membership: Membership, *, open_only: bool = True) -> QuerySet[SafetyAlert]:
    qs = SafetyAlert.objects.filter(organization_id=membership.organization_id)
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.select_related("participant", "assigned_to", "acknowledged_by").order_by("acknowledged_at", "-created_at")


def alert_get_for_user(membership: Membership | None, alert_id) -> SafetyAlert:
    alert = (
        None if membership is None else alerts_for_membership(membership, open_only=False).filter(pk=alert_id).first()
    )
    if alert is None:
        raise Http404("no such alert")
    return alert


def open_alert_count(membership: Membership) -> int:
    return SafetyAlert.objects.filter(organization_id=membership.organization_id, acknowledged_at__isnull=True).count()
