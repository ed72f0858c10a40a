"""Retreats, circles and sessions for ``seed-scale``: per cohort a three-day retreat with a
preparation and an administration session (doses recorded), and an integration circle that meets
every two weeks after it; past sessions completed with attendance drawn from each member's
engagement, the next few planned with everyone expected."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from communitas.demo.reports_seed import PRODUCTS
from communitas.demo.scale_context import Context
from communitas.demo.scale_plan import LOCATIONS, MEETINGS, VENUES, Cohort, Person
from communitas.demo.scale_writer import Table
from communitas.programs.models import Attendance, Circle, DoseRecord, Retreat, Session

TIME_ZONE = ZoneInfo("America/Los_Angeles")
MEETING = datetime.timedelta(minutes=90)
SLACK = datetime.timedelta(minutes=15)
PLAN_AHEAD = datetime.timedelta(days=28)  # upcoming meetings already on the calendar
LEFT_EARLY = 0.07
DOSES = ["15", "20", "25", "25", "30"]
SECONDARY = 0.15
ROOMS = ["Cedar room", "Juniper room"]
SESSION_COLUMNS = ["id", "organization_id", "created_at", "updated_at", "program_id", "retreat_id", "circle_id",
                   "kind", "activity", "title", "location", "planned_start", "planned_end", "started_at", "ended_at",
                   "status", "validation"]  # fmt: skip


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TIME_ZONE)


def circle_name(ctx: Context, cohort: Cohort) -> str:
    spec = ctx.plan.programs[cohort.program]
    if cohort.language == "es":
        return f"Círculo de integración ({spec.short}, {cohort.starts_on:%d/%m/%Y})"
    return f"{cohort.slot[1]} circle ({spec.short}, {cohort.starts_on:%d %b %Y})"


def _at_retreat(ctx: Context, cohort: Cohort) -> list[Person]:
    return [p for p in ctx.plan.persons[_span(ctx, cohort)] if p.kind in "APWE"]


def _span(ctx: Context, cohort: Cohort) -> slice:
    """Persons of a cohort are consecutive in the plan."""
    n, c = len(ctx.plan.persons), len(ctx.plan.cohorts)
    return slice(-(-cohort.index * n // c), -(-(cohort.index + 1) * n // c))


def write_retreats_and_circles(ctx: Context) -> None:
    cohorts = ctx.plan.cohorts
    ctx.retreat_ids = ctx.writer.ids(Retreat, len(cohorts))
    ctx.circle_ids = ctx.writer.ids(Circle, len(cohorts))
    retreats = Table(
        Retreat,
        ["id", "organization_id", "created_at", "updated_at", "program_id", "name", "starts_on", "ends_on", "venue",
         "capacity", "rooms"],
    )  # fmt: skip
    circles = Table(
        Circle,
        ["id", "organization_id", "created_at", "updated_at", "program_id", "retreat_id", "name", "language",
         "affinity", "capacity"],
    )  # fmt: skip
    planned = {c.index: _local(c.starts_on - datetime.timedelta(days=80), 10) for c in cohorts}
    spec = ctx.plan.programs
    ctx.writer.write(
        retreats,
        (
            (ctx.retreat_ids[c.index], ctx.org_id, planned[c.index], planned[c.index], ctx.program_ids[c.program],
             f"{spec[c.program].short} retreat, {c.starts_on:%d %b %Y}", c.starts_on, c.ends_on,
             VENUES[c.index % len(VENUES)], len(_at_retreat(ctx, c)) + 10, ROOMS)
            for c in cohorts
        ),
    )  # fmt: skip
    ctx.writer.write(
        circles,
        (
            (ctx.circle_ids[c.index], ctx.org_id, planned[c.index], planned[c.index], ctx.program_ids[c.program],
             ctx.retreat_ids[c.index], circle_name(ctx, c), c.language, spec[c.program].affinity,
             max(12, len(c.members) + 10))
            for c in cohorts
        ),
    )  # fmt: skip
    _circle_links(ctx)


def _team(ctx: Context, cohort: Cohort) -> list[int]:
    """A lead and a co-facilitator (Spanish speakers for a Spanish-language circle)."""
    pool = ctx.staff.spanish_profiles if cohort.language == "es" and ctx.staff.spanish_profiles else ctx.staff.profiles
    lead = pool[cohort.index % len(pool)]
    others = [p for p in ctx.staff.profiles if p != lead]
    return [lead, others[(cohort.index * 7 + 3) % len(others)]] if others else [lead]


def _circle_links(ctx: Context) -> None:
    members = Table(Circle.members.through, ["circle_id", "participant_id"])
    ctx.writer.write(
        members,
        ((ctx.circle_ids[c.index], ctx.plan.persons[i].pk) for c in ctx.plan.cohorts for i in c.members),
    )
    facilitators = Table(Circle.facilitators.through, ["circle_id", "facilitatorprofile_id"])
    ctx.writer.write(
        facilitators,
        ((ctx.circle_ids[c.index], profile) for c in ctx.plan.cohorts for profile in _team(ctx, c)),
    )


def _status(ctx: Context, start: datetime.datetime, end: datetime.datetime) -> str:
    if end + SLACK < ctx.now:
        return Session.Status.COMPLETED
    return Session.Status.IN_PROGRESS if start <= ctx.now else Session.Status.PLANNED


def _meetings(ctx: Context, cohort: Cohort) -> list[tuple[datetime.datetime, str]]:
    out = []
    for m in range(MEETINGS):
        start = _local(cohort.first_meeting() + datetime.timedelta(days=14 * m), cohort.slot[2], cohort.slot[3])
        if start > ctx.now + PLAN_AHEAD:
            break
        out.append((start, _status(ctx, start, start + MEETING)))
    return out


def write_sessions(ctx: Context) -> None:
    """Sessions, their facilitators, attendance and doses, cohort by cohort."""
    sessions = Table(Session, SESSION_COLUMNS)
    attendance = Table(
        Attendance,
        ["organization_id", "created_at", "updated_at", "session_id", "participant_id", "status", "planned_dose_mg"],
    )
    staffing = Table(Session.facilitators.through, ["session_id", "facilitatorprofile_id"])
    doses = Table(
        DoseRecord,
        ["organization_id", "created_at", "updated_at", "session_id", "participant_id", "product", "unique_id",
         "amount_mg", "kind", "taken_at", "recorded_by_id"],
    )  # fmt: skip
    ctx.progress.start("retreats and circles", len(ctx.plan.cohorts))
    batch: list[Cohort] = []
    for cohort in ctx.plan.cohorts:
        batch.append(cohort)
        if len(batch) >= 50:
            _write_batch(ctx, batch, sessions, attendance, staffing, doses)
            batch = []
    if batch:
        _write_batch(ctx, batch, sessions, attendance, staffing, doses)
    ctx.progress.finish()


def _write_batch(ctx: Context, cohorts: list[Cohort], sessions, attendance, staffing, doses) -> None:
    planned = [(c, _meetings(ctx, c)) for c in cohorts]
    ids = iter(ctx.writer.ids(Session, sum(2 + len(m) for _c, m in planned)))
    session_rows, attendance_rows, staffing_rows, dose_rows = [], [], [], []
    for cohort, meetings in planned:
        team = _team(ctx, cohort)
        retreat_sessions = _retreat_sessions(ctx, cohort, ids)
        ctx.session_ids[cohort.index] = {kind: row[0] for kind, row, _a in retreat_sessions}
        for kind, row, rows in retreat_sessions:
            session_rows.append(row)
            attendance_rows += rows
            crew = [*team, ctx.staff.clinician_profile] if kind == "administration" else team
            staffing_rows += [(row[0], p) for p in dict.fromkeys(crew)]
        dose_rows += _doses(ctx, cohort, ctx.session_ids[cohort.index]["administration"], retreat_sessions[1][1])
        ctx.meeting_ids[cohort.index] = []
        for number, (start, status) in enumerate(meetings, start=1):
            row = _meeting(ctx, cohort, next(ids), number, start, status)
            ctx.meeting_ids[cohort.index].append(row[0])
            session_rows.append(row)
            staffing_rows += [(row[0], p) for p in team]
            attendance_rows += _meeting_attendance(ctx, cohort, row, status)
        ctx.progress.advance()
    ctx.writer.write(sessions, session_rows)
    ctx.writer.write(staffing, staffing_rows)
    ctx.writer.write(attendance, attendance_rows)
    ctx.writer.write(doses, dose_rows)


def _session_row(ctx, cohort, pk, kind, title, start, end, status, *, circle=True, location="", activity="") -> tuple:
    rng = ctx.rng
    began = start + datetime.timedelta(minutes=rng.randint(0, 10)) if status != "planned" else None
    ended = end + datetime.timedelta(minutes=rng.randint(-5, 15)) if status == "completed" else None
    created = min(start - datetime.timedelta(days=21), ctx.now)
    return (
        pk, ctx.org_id, created, ctx.cap(ended or created), ctx.program_ids[cohort.program],
        ctx.retreat_ids[cohort.index] if kind != "circle_meeting" else None,
        ctx.circle_ids[cohort.index] if circle else None, kind, activity, title, location, start, end, began, ended,
        status, {},
    )  # fmt: skip


def _retreat_sessions(ctx: Context, cohort: Cohort, ids) -> list[tuple[str, tuple, list[tuple]]]:
    name = circle_name(ctx, cohort)
    people = _at_retreat(ctx, cohort)
    out = []
    for kind, day, hour, hours, room in [
        ("preparation", cohort.starts_on, 18, 2, ROOMS[1]),
        ("administration", cohort.administration, 9, 7, ROOMS[0]),
    ]:
        start = _local(day, hour, 30)
        end = start + datetime.timedelta(hours=hours)
        status = _status(ctx, start, end)
        row = _session_row(ctx, cohort, next(ids), kind, f"{name}: {kind}", start, end, status, location=room)
        out.append((kind, row, _retreat_attendance(ctx, row, people, status)))
    return out


def _retreat_attendance(ctx: Context, row: tuple, people: list[Person], status: str) -> list[tuple]:
    created, updated = row[2], row[3]
    if status == "planned":
        return [(ctx.org_id, created, created, row[0], p.pk, "expected", None) for p in people]
    preparation = row[7] == "preparation"
    out = []
    for p in people:
        state = "absent" if preparation and ctx.rng.random() < 0.03 else "attended"
        out.append((ctx.org_id, created, updated, row[0], p.pk, state, None))
    return out


def _doses(ctx: Context, cohort: Cohort, session_id: int, row: tuple) -> list[tuple]:
    """The agreed and the taken doses of an administration session that has begun."""
    product, lot = PRODUCTS["US-OR"]
    began = row[13]
    if began is None:
        return []
    out = []
    for p in _at_retreat(ctx, cohort):
        unique_id = lot.format(n=cohort.index % 12 + 1)
        mg = Decimal(ctx.rng.choice(DOSES))
        out.append((ctx.org_id, began, began, session_id, p.pk, product, unique_id, mg, "initial", began,
                    ctx.staff.coordinator.pk))  # fmt: skip
        if ctx.rng.random() < SECONDARY:
            later = began + datetime.timedelta(hours=1, minutes=30)
            if later <= ctx.now:
                out.append((ctx.org_id, later, later, session_id, p.pk, product, unique_id, Decimal("5"),
                            "secondary", later, ctx.staff.coordinator.pk))  # fmt: skip
    return out


def _meeting(ctx: Context, cohort: Cohort, pk: int, number: int, start: datetime.datetime, status: str) -> tuple:
    name = circle_name(ctx, cohort)
    location = LOCATIONS[(cohort.index + number) % len(LOCATIONS)]
    title = f"{name}: meeting {number}"
    end = start + MEETING
    return _session_row(
        ctx, cohort, pk, "circle_meeting", title, start, end, status, location=location, activity="group_discussion"
    )


def _meeting_attendance(ctx: Context, cohort: Cohort, row: tuple, status: str) -> list[tuple]:
    rng = ctx.rng
    created, updated = row[2], row[3]
    out = []
    for index in cohort.members:
        person = ctx.plan.persons[index]
        if status == "planned":
            out.append((ctx.org_id, created, created, row[0], person.pk, "expected", None))
            continue
        if rng.random() >= person.propensity:
            state = "absent"
        else:
            state = "left_early" if rng.random() < LEFT_EARLY else "attended"
        out.append((ctx.org_id, created, updated, row[0], person.pk, state, None))
    return out
