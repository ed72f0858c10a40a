"""Oregon's SB 303 quarterly report for a service center (ORS 475A.372/.374, OAR 333-333-4910;
research/regulatory.md §1.8): the 303 client data aggregated per field, the center's counts and
the computed averages, due 15 days after the quarter ends.

Who counts: clients served in the quarter are participants present (attended or left early) at an
administration session of the organization that started in the quarter. Their client data comes
from their newest 303 Client Data Form (``compliance.ClientDataForm``); a client who ticked
"withhold my data" is left out of the client data always, and out of every count too when the
organization's opt-out scope is "everything" (Oregon DOJ's reading, the default; §1.8 [R21]).
A client with no form counts as "no form on file" in each field.

Center counts: administration sessions with one client present are individual, with more are
group sessions (counted when at least one counted client was present); denials are people whose
screening ended "excluded" in the quarter, by the rules that excluded them (a person can have
several); adverse behavioral and medical reactions by severity, by onset in the quarter.
Averages: administration sessions per client served, clients per group session, and psilocybin
analyte (mg) per client per administration session, from the dose records.

Every table goes through ``disclosure`` with the organization's k (default 11): no number from 1
to k-1 is shown and none can be worked out from the totals; an average over fewer than k is hidden.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum

from communitas.accounts.models import Organization
from communitas.compliance.models import ClientDataForm, ReportingSettings
from communitas.compliance.sb303 import definition
from communitas.interop.disclosure import protect, suppress_list, suppress_table
from communitas.interop.models import ExportLog
from communitas.programs.models import Attendance, DoseRecord, Session
from communitas.safety.models import AdverseEvent, Screening, ScreeningDecision
from communitas.safety.screening.decisions import effective_outcome
from communitas.safety.screening.engine import default_rules

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
PRESENT = (Attendance.Status.ATTENDED, Attendance.Status.LEFT_EARLY)
NOT_CANCELLED = (Session.Status.PLANNED, Session.Status.IN_PROGRESS, Session.Status.COMPLETED)
NO_FORM = "no_form"
UNKNOWN = "unknown"


class ReportError(ValueError):
    """A request for a report that cannot be made (message for the user)."""


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = QUARTER.fullmatch(text.strip().upper())
        if not match:
            raise ReportError(f"quarter {text!r}: use the form 2026Q3")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> datetime.date:
        first_of_next = datetime.date(self.year + (self.number == 4), 1 if self.number == 4 else 3 * self.number + 1, 1)
        return first_of_next - datetime.timedelta(days=1)

    @property
    def due(self) -> datetime.date:
        return self.end + datetime.timedelta(days=definition().due_days_after_quarter)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


@dataclass
class FieldTable:
    code: str
    label: str
    multiple: bool
    rows: list[tuple[str, str, int | None]]  # (category code, label, count or None when hidden)
    total: int | None  # people in the table (single-choice fields), None when hidden or not a sum


@dataclass
class Sb303Report:
    organization: str
    quarter: str
    due: datetime.date
    k: int
    opt_out_scope: str
    clients_served: int | None
    clients_withheld: int | None
    client_data: list[FieldTable]
    sessions: dict[str, int | None]
    denials_total: int | None
    denial_reasons: list[tuple[str, str, int | None]]
    adverse: dict[str, dict[str, int | None]]
    averages: dict[str, float | None]
    source: str = field(default="")


def _settings(organization: Organization) -> tuple[str, int]:
    row = ReportingSettings.objects.filter(organization=organization).first()
    if row is None:
        return ReportingSettings.OptOutScope.EVERYTHING, 11
    return row.sb303_opt_out_scope, row.small_cell_threshold


def _bounds(quarter: Quarter) -> tuple[datetime.datetime, datetime.datetime]:
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    first = datetime.datetime.combine(quarter.start, datetime.time.min, tzinfo=tz)
    after = datetime.datetime.combine(quarter.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return first, after


def _newest_forms(organization: Organization, ids: set[int]) -> dict[int, ClientDataForm]:
    newest: dict[int, ClientDataForm] = {}
    rows = ClientDataForm.objects.filter(organization=organization, participant_id__in=ids).order_by("created_at", "pk")
    for form in rows:
        newest[form.participant_id] = form
    return newest


def _age_band(born: datetime.date | None, on: datetime.date) -> str:
    if born is None:
        return UNKNOWN
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for low, high in definition().age_bands:
        if age >= low and (high is None or age <= high):
            return f"{low}+" if high is None else f"{low}-{high}"
    return "under_21"


def sb303_build(organization: Organization, quarter: Quarter) -> Sb303Report:
    """The report for ``quarter`` (reads only; ``sb303_report`` logs an export)."""
    scope, k = _settings(organization)
    first, after = _bounds(quarter)
    sessions = Session.objects.filter(
        organization=organization,
        kind=Session.Kind.ADMINISTRATION,
        status__in=NOT_CANCELLED,
        planned_start__gte=first,
        planned_start__lt=after,
    )
    present = list(
        Attendance.objects.filter(session__in=sessions, status__in=PRESENT).values_list("session_id", "participant_id")
    )
    served = {pid for _sid, pid in present}
    forms = _newest_forms(organization, served)
    withheld = {pid for pid, form in forms.items() if form.withheld}
    counted = served - withheld if scope == ReportingSettings.OptOutScope.EVERYTHING else served
    with_data = served - withheld

    people = {"with_data": len(with_data), "withheld": len(withheld)}
    people_sums: list[tuple[str, tuple[str, ...]]] = []
    if counted != with_data:  # opt-out covers the client data only: served = with data + withheld
        people["served"] = len(counted)
        people_sums.append(("served", ("with_data", "withheld")))
    client_data, people_shown = _client_data(
        organization, with_data, forms, quarter, k, people=people, people_sums=people_sums
    )
    per_session: dict[int, set[int]] = {}
    for sid, pid in present:
        per_session.setdefault(sid, set()).add(pid)
    counted_sessions = {sid: people for sid, people in per_session.items() if people & counted}
    individual = sum(1 for people in counted_sessions.values() if len(people) == 1)
    group = sum(1 for people in counted_sessions.values() if len(people) > 1)
    shown_sessions, total_sessions = suppress_list({"individual": individual, "group": group}, k=k)

    denied, reasons = _denials(organization, first, after, withheld if counted != served else set())
    shown_reasons, _none = suppress_list(reasons, k=k, with_total=False)
    rules = {rule.id: rule.title for rule in default_rules().rules}
    adverse = _adverse(organization, first, after, withheld if counted != served else set())

    client_sessions = sum(len(people & counted) for people in counted_sessions.values())
    group_clients = sum(len(people) for people in counted_sessions.values() if len(people) > 1)
    dose_total = DoseRecord.objects.filter(session_id__in=list(counted_sessions), participant_id__in=counted).aggregate(
        total=Sum("amount_mg")
    )["total"] or Decimal(0)
    dosed = (
        DoseRecord.objects.filter(session_id__in=list(counted_sessions), participant_id__in=counted)
        .values("session_id", "participant_id")
        .distinct()
        .count()
    )
    averages = {
        "sessions_per_client": _average(client_sessions, len(counted), k),
        "clients_per_group_session": _average(group_clients, group, k),
        "analyte_mg_per_client_session": _average(float(dose_total), dosed, k),
    }
    return Sb303Report(
        organization=organization.name,
        quarter=quarter.label,
        due=quarter.due,
        k=k,
        opt_out_scope=str(scope),
        clients_served=people_shown.get("served", people_shown["with_data"]),
        clients_withheld=people_shown["withheld"],
        client_data=client_data,
        sessions={**shown_sessions, "total": total_sessions},
        denials_total=suppress_list({"denied": denied}, k=k, with_total=False)[0]["denied"],
        denial_reasons=[(rule, rules.get(rule, rule), shown_reasons[rule]) for rule in sorted(reasons)],
        adverse=suppress_table(adverse, k=k),
        averages=averages,
        source=definition().source,
    )


def _average(numerator: float, denominator: int, k: int) -> float | None:
    if denominator < k or denominator == 0:
        return None
    return round(numerator / denominator, 2)


def _client_data(
    organization: Organization,
    ids: set[int],
    forms: dict[int, ClientDataForm],
    quarter: Quarter,
    k: int,
    *,
    people: dict[str, int],
    people_sums: list[tuple[str, tuple[str, ...]]],
) -> tuple[list[FieldTable], dict[str, int | None]]:
    """Every field's table, protected together: each single-choice field adds up to the same
    number of people (``with_data``), which ties to the served and withheld counts in ``people``;
    one protection problem over all of them, so no table gives away what another hides."""
    from communitas.participants.models import Participant

    born = dict(Participant.objects.filter(organization=organization, pk__in=ids).values_list("pk", "date_of_birth"))
    bands = [f"{low}+" if high is None else f"{low}-{high}" for low, high in definition().age_bands]
    ages = Counter(_age_band(born.get(pid), quarter.end) for pid in ids)
    specs: list[tuple[str, str, bool, dict[str, int], dict[str, str]]] = [
        (
            "age",
            "Age",
            False,
            {band: ages.get(band, 0) for band in [*bands, "under_21", UNKNOWN]},
            {"under_21": "Under 21", UNKNOWN: "Date of birth not on file"},
        )
    ]
    for spec in definition().fields:
        counts: Counter[str] = Counter()
        for pid in ids:
            form = forms.get(pid)
            value = None if form is None else form.answers.get(spec.code)
            if form is None:
                counts[NO_FORM] += 1
            elif value is None:
                counts[UNKNOWN] += 1
            elif spec.multiple:
                counts.update(value)
            else:
                counts[value] += 1
        codes = spec.codes() if not spec.language else sorted(c for c in counts if c not in (UNKNOWN, NO_FORM))
        names = dict(spec.choices) | {UNKNOWN: "Not answered", NO_FORM: "No form on file"}
        specs.append(
            (spec.code, spec.label, spec.multiple, {c: counts.get(c, 0) for c in [*codes, UNKNOWN, NO_FORM]}, names)
        )
    values: dict[str, int] = dict(people)
    sums = list(people_sums)
    for code, _label, multiple, rows, _names in specs:
        values.update({f"{code}:{c}": n for c, n in rows.items()})
        if not multiple:  # people may choose several in a multiple-choice field: no sum there
            sums.append(("with_data", tuple(f"{code}:{c}" for c in rows)))
    hidden = protect(values, sums, k=k)
    tables = [
        FieldTable(
            code,
            label,
            multiple,
            [(c, names.get(c, c), None if f"{code}:{c}" in hidden else n) for c, n in rows.items()],
            None if multiple or "with_data" in hidden else values["with_data"],
        )
        for code, label, multiple, rows, names in specs
    ]
    return tables, {name: None if name in hidden else values[name] for name in people}


def _denials(
    organization: Organization, first: datetime.datetime, after: datetime.datetime, leave_out: set[int]
) -> tuple[int, dict[str, int]]:
    """People whose screening ended "excluded" in the quarter, and the rules that excluded them."""
    decided = ScreeningDecision.objects.filter(
        organization=organization, created_at__gte=first, created_at__lt=after
    ).values_list("screening_id", flat=True)
    screenings = Screening.objects.filter(organization=organization).filter(
        Q(created_at__gte=first, created_at__lt=after) | Q(pk__in=list(decided))
    )
    newest: dict[int, Screening] = {}
    for screening in screenings.order_by("created_at", "pk"):
        newest[screening.participant_id] = screening
    decisions: dict[int, list[tuple[str, list[str]]]] = {}
    for d in ScreeningDecision.objects.filter(screening__in=list(newest.values())).order_by("created_at", "pk"):
        decisions.setdefault(d.screening_id, []).append((d.decision, list(d.rule_ids)))
    people = 0
    reasons: Counter[str] = Counter()
    for pid, screening in newest.items():
        if pid in leave_out:
            continue
        steps = decisions.get(screening.pk, [])
        if effective_outcome(screening.reasons, steps) != "excluded":
            continue
        people += 1
        cleared = {rule for decision, rule_ids in steps if decision == "clear" for rule in rule_ids}
        rules = {r["rule"] for r in screening.reasons if r["severity"] == "exclude" and r["rule"] not in cleared}
        rules |= {rule for decision, rule_ids in steps if decision == "exclude" for rule in rule_ids}
        reasons.update(rules or {"clinician"})
    return people, dict(reasons)


def _adverse(
    organization: Organization, first: datetime.datetime, after: datetime.datetime, leave_out: set[int]
) -> dict[str, dict[str, int]]:
    table = {kind: {sev: 0 for sev in AdverseEvent.Severity.values} for kind in AdverseEvent.Kind.values}
    rows = AdverseEvent.objects.filter(organization=organization, onset_at__gte=first, onset_at__lt=after)
    for pid, kind, severity in rows.values_list("participant_id", "kind", "severity"):
        if pid not in leave_out:
            table[kind][severity] += 1
    return table


def as_rows(report: Sb303Report) -> list[list[str]]:
    """The report as (section, item, category, value) rows; hidden numbers read "suppressed"."""

    def cell(value: object) -> str:
        return "suppressed" if value is None else str(value)

    rows = [
        ["report", "organization", "", report.organization],
        ["report", "quarter", "", report.quarter],
        ["report", "due", "", report.due.isoformat()],
        ["report", "small_cell_threshold", "", str(report.k)],
        ["report", "opt_out_scope", "", report.opt_out_scope],
        ["center", "clients_served", "", cell(report.clients_served)],
        ["center", "clients_who_withheld_their_data", "", cell(report.clients_withheld)],
    ]
    rows += [["center", "administration_sessions", kind, cell(n)] for kind, n in report.sessions.items()]
    rows.append(["center", "denials", "total", cell(report.denials_total)])
    rows += [["center", "denial_reason", f"{code} {label}", cell(n)] for code, label, n in report.denial_reasons]
    for kind, severities in report.adverse.items():
        rows += [["center", f"adverse_{'all' if kind == '*' else kind}", sev, cell(n)] for sev, n in severities.items()]
    rows += [["averages", name, "", cell(value)] for name, value in report.averages.items()]
    for table in report.client_data:
        rows += [["client_data", table.code, code, cell(n)] for code, _label, n in table.rows]
        if not table.multiple:
            rows.append(["client_data", table.code, "total", cell(table.total)])
    return rows


def as_csv(report: Sb303Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "item", "category", "value"])
    writer.writerows(as_rows(report))
    return out.getvalue()


def as_json(report: Sb303Report) -> dict:
    return {
        "organization": report.organization,
        "quarter": report.quarter,
        "due": report.due.isoformat(),
        "small_cell_threshold": report.k,
        "opt_out_scope": report.opt_out_scope,
        "clients_served": report.clients_served,
        "clients_who_withheld_their_data": report.clients_withheld,
        "administration_sessions": report.sessions,
        "denials": {
            "total": report.denials_total,
            "reasons": [{"rule": c, "label": label, "count": n} for c, label, n in report.denial_reasons],
        },
        "adverse_reactions": report.adverse,
        "averages": report.averages,
        "client_data": {
            t.code: {
                "label": t.label,
                "multiple": t.multiple,
                "categories": [{"code": c, "label": label, "count": n} for c, label, n in t.rows],
                "total": t.total,
            }
            for t in report.client_data
        },
        "source": report.source,
    }


def sb303_report(
    *, organization: Organization, quarter: Quarter, actor, via: str, fmt: str = "csv"
) -> tuple[Sb303Report, str, ExportLog]:
    """Build the report, render it (``csv`` or ``json``) and log the export."""
    from communitas.interop.services import export_log_record

    if fmt not in ("csv", "json"):
        raise ReportError("format must be csv or json")
    report = sb303_build(organization, quarter)
    content = as_csv(report) if fmt == "csv" else json.dumps(as_json(report), indent=2)
    rows = as_rows(report)
    log = export_log_record(
        organization_id=organization.pk,
        kind=ExportLog.Kind.SB303,
        via=via,
        actor=actor,
        fields=sorted({row[1] for row in rows}),
        rows=len(rows),
        content=content,
        parameters={"quarter": quarter.label, "format": fmt, "k": report.k, "opt_out_scope": report.opt_out_scope},
    )
    return report, content, log
