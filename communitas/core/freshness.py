"""When precomputed figures may still be shown: younger than ``COMMUNITAS_DASHBOARD_MAX_AGE``
seconds and computed today (local time), so no page shows yesterday's "due today" counts. Used by the
program dashboards (``insights.snapshots``) and the outcomes home counts (``outcomes.selectors``)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone


def is_fresh(computed_at: datetime.datetime | None, now: datetime.datetime | None = None) -> bool:
    if computed_at is None:
        return False
    now = now or timezone.now()
    young = now - computed_at <= datetime.timedelta(seconds=settings.COMMUNITAS_DASHBOARD_MAX_AGE)
    return young and timezone.localdate(computed_at) == timezone.localdate(now)
