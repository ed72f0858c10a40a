"""Gather the facts about a session from the database and run the pure staffing checks."""

from __future__ import annotations

import datetime
from decimal import Decimal

from communitas.programs.models import Attendance, DoseRecord, Session
from communitas.programs.selectors import needs_medical_oversight
from communitas.programs.staffing import Attendee, SessionFacts, StaffMember, Violation
from communitas.programs.staffing import validate_session as _validate


def _staff(session: Session, on: datetime.date) -> list[StaffMember]:
    from communitas.facilitators.models import Credential
    from communitas.facilitators.rules import licence_problem, medically_qualified

    profiles = list(session.facilitators.all())
    credentials: dict[int, list] = {}
    for credential in Credential.objects.filter(profile__in=profiles):
        credentials.setdefault(credential.profile_id, []).append(credential)
    jurisdiction = session.program.jurisdiction
    out = []
    for profile in profiles:
        mine = credentials.get(profile.pk, [])
        problem = licence_problem(mine, jurisdiction=jurisdiction, on=on)
        out.append(
            StaffMember(
                name=profile.display_name,
                languages=tuple(profile.languages),
                licensed=not problem,
                medically_qualified=medically_qualified(mine, on=on),
                licence_problem=problem or "",
            )
        )
    return out


def _doses(session: Session) -> dict[int, Decimal]:
    """Each person's total: recorded doses once given, else the agreed estimate."""
    given: dict[int, Decimal] = {}
    for dose in DoseRecord.objects.filter(session=session):
        given[dose.participant_id] = given.get(dose.participant_id, Decimal(0)) + dose.amount_mg
    return given


def _as_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _preparation(session: Session, rows: list[Attendance], starts: datetime.datetime, pack) -> list[Violation]:
    """Each person's latest preparation session must fall in the pack's window before this
    administration session (Oregon: at least 24 h and at most 90 days; an organization pack may set
    none)."""
    from communitas.compliance.rulepacks import check_preparation_window

    jurisdiction = session.program.jurisdiction
    if pack.preparation_window is None:
        return []
    latest: dict[int, datetime.datetime] = {}
    prepared = (
        Attendance.objects.filter(
            participant_id__in=[a.participant_id for a in rows],
            session__kind=Session.Kind.PREPARATION,
            session__program=session.program,
            session__planned_start__lt=starts,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .values_list("participant_id", "session__planned_start", "session__started_at")
    )
    for participant_id, planned, started in prepared:
        held = started or planned
        if participant_id not in latest or held > latest[participant_id]:
            latest[participant_id] = held
    out = []
    for a in rows:
        if a.participant_id not in latest:
            out.append(
                Violation(
                    "PREP-MISSING",
                    f"{a.participant.pseudonym} has no preparation session before this administration session.",
                    pack.cite(pack.preparation_window.source, pack.preparation_window.also),
                )
            )
            continue
        out += [
            Violation(v.rule, f"{a.participant.pseudonym}: {v.message}", v.source)
            for v in check_preparation_window(
                jurisdiction=jurisdiction, preparation_at=latest[a.participant_id], administration_at=starts, pack=pack
            )
        ]
    return out


def session_violations(session: Session, *, when: datetime.datetime) -> list[Violation]:
    from communitas.compliance.legal import program_lawfulness
    from communitas.compliance.rulepacks import UnknownJurisdiction, check_group_session
    from communitas.compliance.selectors import rule_pack_for
    from communitas.programs.selectors import roster_statuses

    program = session.program
    rows = list(Attendance.objects.filter(session=session).select_related("participant"))
    ids = [a.participant_id for a in rows]
    medical = needs_medical_oversight(ids, program.substance)
    ready = roster_statuses(program, ids)
    given = _doses(session)
    doses = {a.participant_id: _as_float(given.get(a.participant_id, a.planned_dose_mg)) for a in rows}
    attendees = [
        Attendee(
            label=a.participant.pseudonym,
            language=a.participant.preferred_language,
            needs_medical=a.participant_id in medical,
            ready=ready.get(a.participant_id) == "ready",
            dose_mg=doses[a.participant_id],
        )
        for a in rows
    ]
    staff = _staff(session, when.date())
    lawfulness = program_lawfulness(program, on=when.date())
    group: list[Violation] = []
    if session.kind == Session.Kind.ADMINISTRATION and rows:
        if any(p.dose_mg is None for p in attendees):
            group.append(
                Violation(
                    "DOSE-PLAN",
                    "Record each participant's agreed estimated dose before dosing.",
                    "regulatory.md 1.3 [R18b] (agreed estimated doses at preparation)",
                )
            )
        starts = session.started_at or max(when, session.planned_start)
        try:
            pack = rule_pack_for(
                organization_id=program.organization_id, jurisdiction=program.jurisdiction, on=starts.date()
            )
        except UnknownJurisdiction as exc:
            group.append(Violation("JURISDICTION", str(exc), "compliance rule packs"))
        else:
            group += _preparation(session, rows, starts, pack)
            check = check_group_session(
                jurisdiction=program.jurisdiction,
                doses_mg=[p.dose_mg or 0.0 for p in attendees],
                facilitators=len(staff),
                pack=pack,
            )
            group += [Violation(v.rule, v.message, v.source) for v in check.violations]
    facts = SessionFacts(
        kind=session.kind,
        jurisdiction=program.jurisdiction,
        lawful=lawfulness.lawful,
        lawfulness=lawfulness.explanation,
        staff=staff,
        attendees=attendees,
        group_violations=group,
    )
    return _validate(facts)


def dose_violations(session: Session, *, total_mg: Decimal) -> list[Violation]:
    from django.utils import timezone

    from communitas.compliance.rulepacks import UnknownJurisdiction
    from communitas.compliance.selectors import rule_pack_for

    program = session.program
    on = (session.started_at or timezone.now()).date()
    try:
        pack = rule_pack_for(organization_id=program.organization_id, jurisdiction=program.jurisdiction, on=on)
    except UnknownJurisdiction:
        return []  # the session cannot have started: session_violations refuses it without a pack
    limit = pack.dose_limit
    if limit is not None and float(total_mg) > limit.max_mg:
        return [
            Violation(
                "MAX-DOSE",
                f"This dose would bring the person to {total_mg} mg; the session maximum is "
                f"{limit.max_mg:g} mg. Do not give it.",
                pack.cite(limit.source, limit.also),
            )
        ]
    return []
