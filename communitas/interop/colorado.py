"""Colorado per-session records (4 CCR 755-1-6.3; research/regulatory.md §2): for every
preparation, administration and integration session, its date, start and end times, and for each
participant present the products consumed with their unique id and amount, whether taken as one
dose or several, and the adverse health events recorded for them that day.

One row per session and participant present (per product when several products were consumed).
Times are the recorded start and end when the session ran, else the planned ones (``time_source``
says which). Participants appear by pseudonym: the rule asks facilitators to keep these records
and hand them to the Director on request, and the pseudonym links back to the record on premises.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict

from django.utils import timezone

from communitas.accounts.models import Organization
from communitas.interop.models import ExportLog
from communitas.programs.models import Attendance, DoseRecord, Session
from communitas.safety.models import AdverseEvent

KINDS = (Session.Kind.PREPARATION, Session.Kind.ADMINISTRATION, Session.Kind.INTEGRATION)
PRESENT = (Attendance.Status.ATTENDED, Attendance.Status.LEFT_EARLY)
COLUMNS = [
    "session_date",
    "session_kind",
    "start_time",
    "end_time",
    "time_source",
    "participant",
    "product",
    "product_unique_id",
    "amount_mg",
    "doses",
    "adverse_health_events",
    "most_severe",
    "serious",
    "medical_care_or_emergency",
]
SEVERITY_ORDER = list(AdverseEvent.Severity.values)


class ColoradoExportError(ValueError):
    """A request that cannot be answered (message for the user); nothing is logged."""


def session_rows(organization: Organization, start: datetime.date, end: datetime.date) -> list[dict]:
    """The rows described above for sessions planned to start between ``start`` and ``end``
    (inclusive, local dates), in a fixed number of queries."""
    if end < start:
        raise ColoradoExportError("the period ends before it starts")
    tz = timezone.get_current_timezone()
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    sessions = list(
        Session.objects.filter(
            organization=organization, kind__in=KINDS, planned_start__gte=first, planned_start__lt=after
        )
        .exclude(status=Session.Status.CANCELLED)
        .order_by("planned_start", "pk")
    )
    present = defaultdict(list)
    rows = Attendance.objects.filter(session__in=sessions, status__in=PRESENT).select_related("participant")
    for attendance in rows.order_by("participant__pseudonym"):
        present[attendance.session_id].append(attendance.participant)
    doses = defaultdict(list)
    for dose in DoseRecord.objects.filter(session__in=sessions).order_by("taken_at", "pk"):
        doses[(dose.session_id, dose.participant_id)].append(dose)
    people = {p.pk for group in present.values() for p in group}
    events = defaultdict(list)
    if sessions:
        window = AdverseEvent.objects.filter(
            organization=organization, participant_id__in=people, onset_at__gte=first, onset_at__lt=after
        )
        for event in window:
            events[(event.participant_id, timezone.localtime(event.onset_at).date())].append(event)
    out = []
    for session in sessions:
        began, ended = session.started_at, session.ended_at
        recorded = began is not None and ended is not None
        began, ended = (began, ended) if recorded else (session.planned_start, session.planned_end)
        began_local, ended_local = timezone.localtime(began), timezone.localtime(ended)
        for person in present[session.pk]:
            day_events = events[(person.pk, began_local.date())]
            severities = [e.severity for e in day_events]
            base = {
                "session_date": began_local.date().isoformat(),
                "session_kind": session.kind,
                "start_time": began_local.strftime("%H:%M"),
                "end_time": ended_local.strftime("%H:%M"),
                "time_source": "recorded" if recorded else "planned",
                "participant": person.pseudonym,
                "adverse_health_events": len(day_events),
                "most_severe": max(severities, key=SEVERITY_ORDER.index) if severities else "",
                "serious": any(e.serious for e in day_events),
                "medical_care_or_emergency": any(
                    e.medical_care or e.emergency_services or e.hospital_transport for e in day_events
                ),
            }
            taken = doses[(session.pk, person.pk)]
            by_product: dict[tuple[str, str], list[DoseRecord]] = defaultdict(list)
            for dose in taken:
                by_product[(dose.product, dose.unique_id)].append(dose)
            if not by_product:
                out.append({**base, "product": "", "product_unique_id": "", "amount_mg": "", "doses": ""})
            for (product, unique_id), parts in by_product.items():
                out.append(
                    {
                        **base,
                        "product": product,
                        "product_unique_id": unique_id,
                        "amount_mg": str(sum(d.amount_mg for d in parts)),
                        "doses": "single" if len(taken) == 1 else "multiple",
                    }
                )
    return out


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def colorado_export(
    *, organization: Organization, start: datetime.date, end: datetime.date, actor, via: str
) -> tuple[str, ExportLog]:
    from communitas.interop.services import export_log_record

    rows = session_rows(organization, start, end)
    content = as_csv(rows)
    log = export_log_record(
        organization_id=organization.pk,
        kind=ExportLog.Kind.COLORADO_SESSIONS,
        via=via,
        actor=actor,
        fields=COLUMNS,
        rows=len(rows),
        content=content,
        parameters={"start": start.isoformat(), "end": end.isoformat()},
    )
    return content, log
