"""Due-date reminders for regulator reports: Oregon SB 303 reports are due 15 days after each
quarter ends (research/regulatory.md §1.8). Run daily (``communitas report reminders``): for each
Oregon organization whose last quarter's report has not been generated, the coordinators and
administrators get one email a day from 7 days before the due date, and every day it is overdue.
The message names the quarter and the date only; no client data."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from communitas.accounts.models import Membership, Organization
from communitas.interop.models import ExportLog
from communitas.interop.sb303 import Quarter

WARN_DAYS = 7


def send_report_reminders(today: datetime.date) -> list[str]:
    """Send what is due today; return one line per organization reminded (for the command)."""
    quarter = Quarter.of(today).previous()
    if today < quarter.due - datetime.timedelta(days=WARN_DAYS):
        return []
    lines = []
    for organization in Organization.objects.filter(jurisdiction="US-OR").order_by("slug"):
        done = ExportLog.objects.filter(
            organization=organization, kind=ExportLog.Kind.SB303, parameters__quarter=quarter.label
        ).exists()
        if done:
            continue
        recipients = list(
            Membership.objects.filter(
                organization=organization,
                is_active=True,
                role__in=[Membership.Role.COORDINATOR, Membership.Role.ADMIN],
                user__is_active=True,
            ).values_list("user__email", flat=True)
        )
        if not recipients:
            continue
        overdue = today > quarter.due
        url = settings.COMMUNITAS_BASE_URL.rstrip("/") + reverse("reports:sb303", args=[quarter.label])
        subject = (
            f"Communitas: the SB 303 report for {quarter.label} is overdue (was due {quarter.due.isoformat()})"
            if overdue
            else f"Communitas: the SB 303 report for {quarter.label} is due on {quarter.due.isoformat()}"
        )
        send_mail(
            subject=subject,
            message=f"Open, check and download the report here, then submit it through OHA's TLC portal:\n\n{url}\n",
            from_email=None,
            recipient_list=sorted(recipients),
        )
        lines.append(
            f"{organization.slug}: {quarter.label} {'overdue' if overdue else 'due'} {quarter.due.isoformat()}"
        )
    return lines
