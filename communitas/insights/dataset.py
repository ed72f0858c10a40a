"""The analysis dataset of a program: one row per participant and wave of one instrument, the
long format the mixed model reads (statistics.md 1.1), with its data dictionary.

De-identified by construction: only participants whose newest research consent is a yes
(``participants.selectors.research_participants``); the participant appears by pseudonym, never
by name, contact or date of birth; time is the wave and days from the person's own baseline, never
a calendar date; no free text. Missing waves are simply absent rows (the mixed model's likelihood
uses what was observed, under MAR; nothing is carried forward).

Grouping: ``group`` is the person's circle in the program; someone in no circle is their own
pseudo-group ``solo-<pseudonym>`` with ``grouped`` 0 (the partially nested design of Bauer,
Sterba & Hallfors 2008); someone in several circles keeps the first and ``n_circles`` says so
(crossed memberships: the analysis must not treat them as nested).

Engagement: circle sessions attended / offered from the participant's own baseline to the end of
the period, and pod check-ins, from ``community.engagement``. Circle membership carries no joining
date, so every meeting of their circle after their baseline counts as offered.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from communitas.community.engagement import engagement_for
from communitas.outcomes.models import Response
from communitas.outcomes.schedules import ORDER
from communitas.participants.selectors import research_participants
from communitas.programs.models import Circle, Program


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


DICTIONARY: tuple[Column, ...] = (
    Column(
        "participant", "string", "Pseudonym of the participant (stable within the organization; no name or contact)."
    ),
    Column("group", "string", "Circle the participant belongs to in this program (c<id>), or solo-<pseudonym>."),
    Column("grouped", "integer", "1 if the participant is in a circle, 0 if not (partially nested designs)."),
    Column("n_circles", "integer", "Number of circles the participant belongs to in this program (>1: crossed)."),
    Column("instrument", "string", "Instrument code (e.g. phq9)."),
    Column("timepoint", "string", "Timepoint code of the assessment (baseline, week_1, month_1, ...)."),
    Column("wave", "integer", "Order of the timepoint: 0 = baseline."),
    Column("days_from_baseline", "integer", "Days between the participant's baseline due date and this one."),
    Column("score", "number", "Total score of the response (blank when the response was incomplete)."),
    Column("baseline_score", "number", "The participant's baseline total (blank when missing)."),
    Column("engagement", "number", "Circle sessions attended / offered in the period (blank when none offered)."),
    Column("circle_sessions_attended", "integer", "Circle sessions attended in the period."),
    Column("circle_sessions_offered", "integer", "Circle sessions offered to the participant in the period."),
    Column("pod_check_ins", "integer", "Check-ins logged in the participant's peer-support pods in the period."),
)
FIELDS = [column.name for column in DICTIONARY]


def _groups(program: Program, ids: list[int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    through = Circle.members.through.objects.filter(circle__program=program, participant_id__in=ids)
    for participant_id, circle_id in through.order_by("circle_id").values_list("participant_id", "circle_id"):
        groups.setdefault(participant_id, []).append(circle_id)
    return groups


def analysis_rows(program: Program, *, instrument: str, until: datetime.date | None = None) -> list[dict]:
    """Rows for ``instrument`` in ``program`` (see the module docstring), ordered by participant
    and wave, in a fixed number of queries."""
    until = until or datetime.date.today()
    consenting = (
        research_participants(program.organization_id)
        .filter(enrollments__program=program)
        .values_list("pk", "pseudonym")
    )
    pseudonym = dict(consenting)
    ids = sorted(pseudonym)
    responses = list(
        Response.objects.filter(
            participant_id__in=ids,
            instrument_code=instrument,
            assessment__enrollment__program=program,
            assessment__cancelled_at__isnull=True,
        )
        .select_related("assessment", "score")
        .order_by("participant_id", "assessment__due_on", "pk")
    )
    baseline_due: dict[int, datetime.date] = {}
    for response in responses:  # the baseline wave's due date, else the earliest response's
        if response.assessment.timepoint == "baseline" or response.participant_id not in baseline_due:
            baseline_due[response.participant_id] = response.assessment.due_on
    groups = _groups(program, ids)
    starts = list(baseline_due.values())
    engagement = engagement_for(list(baseline_due), min(starts), until, starts=baseline_due) if starts else {}
    totals = {r.participant_id: _total(r) for r in responses if r.assessment.timepoint == "baseline"}
    rows = []
    for response in responses:
        pid = response.participant_id
        circles = groups.get(pid, [])
        e = engagement.get(pid)
        offered = e.circle_sessions_offered if e else 0
        attended = e.circle_sessions_attended if e else 0
        rows.append(
            {
                "participant": pseudonym[pid],
                "group": f"c{circles[0]}" if circles else f"solo-{pseudonym[pid]}",
                "grouped": 1 if circles else 0,
                "n_circles": len(circles),
                "instrument": instrument,
                "timepoint": response.assessment.timepoint,
                "wave": ORDER.get(response.assessment.timepoint, len(ORDER)),
                "days_from_baseline": (response.assessment.due_on - baseline_due[pid]).days,
                "score": _total(response),
                "baseline_score": totals.get(pid),
                "engagement": round(attended / offered, 4) if offered else None,
                "circle_sessions_attended": attended,
                "circle_sessions_offered": offered,
                "pod_check_ins": e.pod_check_ins if e else 0,
            }
        )
    rows.sort(key=lambda row: (row["participant"], row["wave"], row["days_from_baseline"]))
    return rows


def _total(response: Response) -> float | None:
    score = getattr(response, "score", None)
    if score is None or not score.complete:
        return None
    return score.total


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in FIELDS})
    return out.getvalue()


ARROW_TYPES = {"string": "string", "integer": "int64", "number": "float64"}


def as_parquet(rows: list[dict]) -> bytes:
    """The same rows as Parquet, typed from the data dictionary (blank numbers are nulls, never 0),
    each column's description stored in its field metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            pa.field(c.name, ARROW_TYPES[c.type], nullable=True, metadata={"description": c.description})
            for c in DICTIONARY
        ],
        metadata={"source": "Communitas analysis dataset", "rows": "one per participant and wave"},
    )
    table = pa.Table.from_pylist([{k: row[k] for k in FIELDS} for row in rows], schema=schema)
    out = pa.BufferOutputStream()
    pq.write_table(table, out)
    return out.getvalue().to_pybytes()


def dictionary_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["column", "type", "description"])
    for column in DICTIONARY:
        writer.writerow([column.name, column.type, column.description])
    return out.getvalue()
