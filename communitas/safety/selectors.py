from django.db.models import F, QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.safety.models import SafetyAlert


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
