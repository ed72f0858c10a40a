"""Retreats, circles, sessions, attendance, doses, vital signs and facilitator notes.

Every write is atomic and audited (ids and codes only). Planning and starting a session run the
staffing validation; a session that fails it is refused with the reasons and nothing is saved.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import User
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.programs.models import (
    Attendance,
    Circle,
    DoseRecord,
    Enrollment,
    FacilitatorNote,
    Program,
    Retreat,
    Session,
    VitalSigns,
)
from communitas.programs.staffing import Violation


class SessionRefused(ValueError):
    def __init__(self, violations: list[Violation]):
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


class CapacityFull(ValueError):
    pass


def _audit(action: str, actor, obj, **data) -> None:
    audit_record(action=action, actor=actor, organization_id=obj.organization_id, obj=obj, data=data)


@transaction.atomic
def retreat_create(
    *,
    program: Program,
    actor: User,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    capacity: int,
    venue: str = "",
    rooms: list[str] | None = None,
) -> Retreat:
    retreat = Retreat(
        organization_id=program.organization_id,
        program=program,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        capacity=capacity,
        venue=venue,
        rooms=rooms or [],
    )
    retreat.full_clean()
    retreat.save()
    _audit("programs.retreat.created", actor, retreat, program=program.pk, capacity=capacity)
    return retreat


@transaction.atomic
def retreat_enroll(*, retreat: Retreat, participant: Participant, actor: User) -> Enrollment:
    """Enrol someone into a retreat's places. The retreat row is locked while places are
    counted, so two coordinators taking the last place get one enrolment and one clear refusal."""
    locked = Retreat.objects.select_for_update().get(pk=retreat.pk)
    if participant.organization_id != locked.organization_id:
        raise ValueError("participant and retreat belong to different organizations")
    taken = Enrollment.objects.filter(retreat=locked).exclude(status=Enrollment.Status.WITHDRAWN).count()
    existing = Enrollment.objects.filter(program_id=locked.program_id, participant=participant).first()
    if existing is not None and existing.retreat_id == locked.pk and existing.status != Enrollment.Status.WITHDRAWN:
        return existing
    if taken >= locked.capacity:
        raise CapacityFull(f"{locked.name} is full ({locked.capacity} places)")
    if existing is None:
        existing = Enrollment(
            organization_id=locked.organization_id,
            program_id=locked.program_id,
            participant=participant,
            status=Enrollment.Status.ENROLLED,
        )
    existing.retreat = locked
    if existing.pk is None:
        existing.full_clean()
        existing.save()
    else:
        if existing.status == Enrollment.Status.WITHDRAWN:
            existing.status = Enrollment.Status.ENROLLED
        existing.save(update_fields=["retreat", "status", "updated_at"])
    _audit(
        "programs.enrollment.retreat_assigned", actor, existing, retreat=locked.pk, participant=participant.pseudonym
    )
    return existing


@transaction.atomic
def circle_create(
    *,
    program: Program,
    actor: User,
    name: str,
    language: str = "en",
    affinity: str = "",
    capacity: int = 12,
    retreat: Retreat | None = None,
) -> Circle:
    circle = Circle(
        organization_id=program.organization_id,
        program=program,
        retreat=retreat,
        name=name,
        language=language,
        affinity=affinity,
        capacity=capacity,
    )
    circle.full_clean()
    circle.save()
    _audit("programs.circle.created", actor, circle, program=program.pk)
    return circle


@transaction.atomic
def circle_set_members(*, circle: Circle, actor: User, participants: list[Participant], facilitators: list) -> Circle:
    if len(participants) > circle.capacity:
        raise CapacityFull(f"{circle.name} holds {circle.capacity} people")
    if any(p.organization_id != circle.organization_id for p in participants) or any(
        f.organization_id != circle.organization_id for f in facilitators
    ):
        raise ValueError("everyone in a circle must belong to its organization")
    circle.members.set(participants)
    circle.facilitators.set(facilitators)
    _audit("programs.circle.members_set", actor, circle, members=len(participants), facilitators=len(facilitators))
    return circle


def _validate(session: Session, *, when: datetime.datetime) -> list[Violation]:
    from communitas.programs.validation import session_violations

    return session_violations(session, when=when)


@transaction.atomic
def session_plan(
    *,
    program: Program,
    actor: User,
    kind: str,
    title: str,
    planned_start: datetime.datetime,
    planned_end: datetime.datetime,
    facilitators: list,
    participants: list[Participant],
    planned_doses: dict[int, Decimal] | None = None,
    circle: Circle | None = None,
    retreat: Retreat | None = None,
    location: str = "",
    activity: str = "",
) -> Session:
    """Plan a session with its staff and expected participants. Refused (nothing saved) when the
    staffing validation finds a violation."""
    org = program.organization_id
    if any(p.organization_id != org for p in participants) or any(f.organization_id != org for f in facilitators):
        raise ValueError("everyone in a session must belong to the program's organization")
    if (circle is not None and circle.program_id != program.pk) or (
        retreat is not None and retreat.program_id != program.pk
    ):
        raise ValueError("the circle and retreat must belong to the program")
    session = Session(
        organization_id=program.organization_id,
        program=program,
        circle=circle,
        retreat=retreat,
        kind=kind,
        activity=activity,
        title=title,
        location=location,
        planned_start=planned_start,
        planned_end=planned_end,
    )
    session.full_clean()
    session.save()
    session.facilitators.set(facilitators)
    doses = planned_doses or {}
    Attendance.objects.bulk_create(
        Attendance(
            organization_id=program.organization_id, session=session, participant=p, planned_dose_mg=doses.get(p.pk)
        )
        for p in participants
    )
    violations = _validate(session, when=planned_start)
    if violations:
        raise SessionRefused(violations)
    session.validation = {"checked_at": timezone.now().isoformat(), "at": "plan", "violations": []}
    session.save(update_fields=["validation", "updated_at"])
    _audit(
        "programs.session.planned",
        actor,
        session,
        kind=kind,
        facilitators=len(facilitators),
        participants=len(participants),
    )
    return session


@transaction.atomic
def session_start(*, session: Session, actor: User) -> Session:
    locked = Session.objects.select_for_update().get(pk=session.pk)
    if locked.status != Session.Status.PLANNED:
        raise ValueError(f"the session is {locked.status}")
    now = timezone.now()
    violations = _validate(locked, when=now)
    if violations:
        raise SessionRefused(violations)
    locked.status, locked.started_at = Session.Status.IN_PROGRESS, now
    locked.validation = {"checked_at": now.isoformat(), "at": "start", "violations": []}
    locked.save(update_fields=["status", "started_at", "validation", "updated_at"])
    _audit("programs.session.started", actor, locked)
    return locked


@transaction.atomic
def session_end(*, session: Session, actor: User) -> Session:
    locked = Session.objects.select_for_update().get(pk=session.pk)
    if locked.status != Session.Status.IN_PROGRESS:
        raise ValueError(f"the session is {locked.status}")
    locked.status, locked.ended_at = Session.Status.COMPLETED, timezone.now()
    locked.save(update_fields=["status", "ended_at", "updated_at"])
    _audit("programs.session.ended", actor, locked)
    return locked


@transaction.atomic
def dose_record(
    *,
    session: Session,
    participant: Participant,
    actor: User,
    product: str,
    unique_id: str,
    amount_mg: Decimal,
    kind: str,
    taken_at: datetime.datetime,
) -> DoseRecord:
    """Record product given in an administration session. A dose that would take the person over
    the jurisdiction's per-session maximum is refused (do not give it)."""
    from communitas.programs.validation import dose_violations

    session = Session.objects.select_for_update().select_related("program").get(pk=session.pk)  # one dose at a time
    if session.kind != Session.Kind.ADMINISTRATION or session.status != Session.Status.IN_PROGRESS:
        raise ValueError("doses are recorded only in an administration session that has started")
    if not Attendance.objects.filter(session=session, participant=participant).exists():
        raise ValueError("this person is not in the session")
    given = sum((d.amount_mg for d in DoseRecord.objects.filter(session=session, participant=participant)), Decimal(0))
    violations = dose_violations(session, total_mg=given + Decimal(amount_mg))
    if violations:
        raise SessionRefused(violations)
    record = DoseRecord(
        organization_id=session.organization_id,
        session=session,
        participant=participant,
        product=product,
        unique_id=unique_id,
        amount_mg=amount_mg,
        kind=kind,
        taken_at=taken_at,
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    _audit(
        "programs.dose.recorded",
        actor,
        record,
        session=session.pk,
        participant=participant.pseudonym,
        amount_mg=str(amount_mg),
        kind=kind,
    )
    return record


@transaction.atomic
def vitals_record(
    *, session: Session, participant: Participant, actor: User, taken_at: datetime.datetime, **values
) -> VitalSigns:
    if not Attendance.objects.filter(session=session, participant=participant).exists():
        raise ValueError("this person is not in the session")
    vitals = VitalSigns(
        organization_id=session.organization_id,
        session=session,
        participant=participant,
        taken_at=taken_at,
        recorded_by=actor,
        **values,
    )
    vitals.full_clean()
    vitals.save()
    _audit("programs.vitals.recorded", actor, vitals, session=session.pk, participant=participant.pseudonym)
    return vitals


@transaction.atomic
def attendance_set(*, session: Session, participant_id: int, status: str, actor: User) -> Attendance:
    if status not in Attendance.Status.values:
        raise ValueError(f"unknown attendance status {status!r}")
    row = Attendance.objects.filter(session=session, participant_id=participant_id).first()
    if row is None:
        raise ValueError("this person is not in the session")
    if row.status != status:
        previous, row.status = row.status, status
        row.save(update_fields=["status", "updated_at"])
        _audit("programs.attendance.changed", actor, row, session=session.pk, status=status, previous=previous)
    return row


@transaction.atomic
def note_add(
    *,
    participant: Participant,
    author: User,
    body: str,
    session: Session | None = None,
    shared_with: list[User] | None = None,
) -> FacilitatorNote:
    note = FacilitatorNote(
        organization_id=participant.organization_id,
        participant=participant,
        author=author,
        session=session,
        body=body.strip(),
    )
    note.full_clean()
    note.save()
    if shared_with:
        note.shared_with.set(shared_with)
    _audit("programs.note.added", author, note, participant=participant.pseudonym, shared_with=len(shared_with or []))
    return note
