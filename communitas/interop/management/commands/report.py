"""``communitas report sb303 --organization SLUG --quarter 2026Q3 [--format csv|json] [--out PATH]``
and ``communitas report reminders [--today YYYY-MM-DD]`` (run daily, e.g. from cron).

Prints (or writes) the organization's Oregon SB 303 quarterly report, small cells suppressed, and
logs the export. Bad input (unknown organization, malformed quarter or format) exits 2 with one
line on standard error and logs nothing.
"""

import datetime
import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from communitas.accounts.models import Organization
from communitas.compliance.management.commands.compliance import OneLineErrors
from communitas.interop.sb303 import Quarter, ReportError, sb303_report


class Command(BaseCommand):
    help = "Regulator reports. sb303: communitas report sb303 --organization SLUG --quarter 2026Q3 --format csv|json"

    def add_arguments(self, parser):
        reports = parser.add_subparsers(dest="report", required=True, parser_class=OneLineErrors)
        sb303 = reports.add_parser("sb303", help="Oregon SB 303 quarterly report")
        sb303.add_argument("--organization", required=True, help="organization slug")
        sb303.add_argument("--quarter", required=True, help="e.g. 2026Q3")
        sb303.add_argument("--format", default="csv", choices=["csv", "json"])
        sb303.add_argument("--out", type=Path, help="write to this file instead of standard output")
        reminders = reports.add_parser("reminders", help="email coordinators of reports due within 7 days or overdue")
        reminders.add_argument("--today", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, report: str, **options):
        if report == "reminders":
            self._reminders(options.get("today"))
            return
        try:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise ReportError(f"no organization with slug {options['organization']!r}")
            quarter = Quarter.parse(options["quarter"])
            _report, content, _log = sb303_report(
                organization=organization, quarter=quarter, actor=None, via="cli", fmt=options["format"]
            )
        except ReportError as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(2)
        if options.get("out"):
            options["out"].write_text(content, encoding="utf-8")
        else:
            self.stdout.write(content, ending="" if content.endswith("\n") else "\n")

    def _reminders(self, today_text: str | None) -> None:
        from communitas.interop.reminders import send_report_reminders

        try:
            today = datetime.date.fromisoformat(today_text) if today_text else timezone.localdate()
        except ValueError:
            sys.stderr.write(f"error: --today {today_text!r}: use YYYY-MM-DD\n")
            sys.exit(2)
        for line in send_report_reminders(today):
            self.stdout.write(line)
