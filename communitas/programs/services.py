from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communitas.accounts.models import Membership, Organization, User
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.programs.models import Enrollment, Program, Session
from communitas.programs.permissions import can_manage_programs

PROGRAM_FIELDS = frozenset({"name", "substance", "jurisdiction", "framework", "model", "description"})
LAWFULNESS_FIELDS = frozenset({"jurisdiction", "substance", "framework"})
ACTIVE_SESSIONS = (Session.Status.PLANNED, Session.Status.IN_PROGRESS)


class ProgramChangeRefused(ValueError):
    """A valid change that the program's current state does not allow; nothing was saved."""


def _program_validate(program: Program) -> None:
    """What a program must pass before it is saved, new or changed: the model's choices and lengths
    and its name unique in the organization (raises ``ValidationError``)."""
    program.full_clean()


@transaction.atomic
def program_create(
    *,
    organization: Organization,
    actor: User | None,
    name: str,
    substance: str,
    jurisdiction: str,
    description: str = "",
    framework: str = Program.Framework.LICENSED_SERVICE_CENTER,
    model: str = Program.Model.SERVICE_CENTER_GROUP,
) -> Program:
    program = Program(
        organization=organization,
        name=name,
        substance=substance,
        jurisdiction=jurisdiction,
        description=description,
        framework=framework,
        model=model,
    )
    _program_validate(program)
    program.save()
    audit_record(
        action="programs.program.created",
        actor=actor,
        organization_id=organization.pk,
        obj=program,
        data={"substance": substance, "jurisdiction": jurisdiction, "framework": framework, "model": model},
    )
    return program


@transaction.atomic
def program_update(*, actor: User, program: Program, **fields) -> Program:
    """Change any of ``PROGRAM_FIELDS``, validated as on create; audit the changed field names only.

    Jurisdiction, substance and legal framework decide whether the program is lawful (compliance)
    and which documents, screening and session rules apply. They may change, but not while the
    program has a session planned or under way: those were checked against the old values, so
    they must be cancelled or ended first (``ProgramChangeRefused``). Completed and cancelled
    sessions keep the checks recorded when they ran. Enrolments stay; their readiness is worked
    out again under the new values (e.g. a new substance needs a new screening).

    Refused or invalid input saves nothing and leaves ``program`` as it was."""
    unknown = set(fields) - PROGRAM_FIELDS
    if unknown:
        raise TypeError(f"program_update() got unknown fields: {', '.join(sorted(unknown))}")
    _require_manager(actor, program.organization_id)
    changed = sorted(k for k, v in fields.items() if getattr(program, k) != v)
    if not changed:
        return program
    if LAWFULNESS_FIELDS & set(changed) and program.sessions.filter(status__in=ACTIVE_SESSIONS).exists():
        raise ProgramChangeRefused(
            _(
                "This program has sessions planned or under way. Cancel or end them before changing its "
                "jurisdiction, substance or legal framework."
            )
        )
    before = {k: getattr(program, k) for k in changed}
    for name in changed:
        setattr(program, name, fields[name])
    try:
        _program_validate(program)
    except ValidationError:
        for name, value in before.items():
            setattr(program, name, value)
        raise
    program.save(update_fields=[*changed, "updated_at"])
    audit_record(
        action="programs.program.updated",
        actor=actor,
        organization_id=program.organization_id,
        obj=program,
        data={"fields": changed},
    )
    return program


def _require_manager(actor: User | None, organization_id: int) -> None:
    """Services re-check: the actor manages programs in this organization."""
    membership = Membership.objects.filter(user=actor, organization_id=organization_id).first() if actor else None
    if actor is None or not actor.is_active or not can_manage_programs(membership):
        raise PermissionDenied


@transaction.atomic
def enrollment_create(*, program: Program, participant: Participant, actor: User | None) -> Enrollment:
    if participant.organization_id != program.organization_id:
        raise ValueError("participant and program belong to different organizations")
    enrollment = Enrollment(organization_id=program.organization_id, program=program, participant=participant)
    enrollment.full_clean()
    enrollment.save()
    audit_record(
        action="programs.enrollment.created",
        actor=actor,
        organization_id=program.organization_id,
        obj=enrollment,
        data={"program": program.pk, "participant": participant.pseudonym},
    )
    return enrollment


@transaction.atomic
def enrollment_set_administration_date(
    *, enrollment: Enrollment, actor: User | None, administration_date: datetime.date | None
) -> Enrollment:
    enrollment.administration_date = administration_date
    enrollment.save(update_fields=["administration_date", "updated_at"])
    audit_record(
        action="programs.enrollment.administration_date_set",
        actor=actor,
        organization_id=enrollment.organization_id,
        obj=enrollment,
        data={"administration_date": administration_date.isoformat() if administration_date else None},
    )
    return enrollment


@transaction.atomic
def invitation_create(*, program: Program, actor: User | None, days: int = 21):
    import secrets

    from django.utils import timezone

    from communitas.programs.models import Invitation

    invitation = Invitation.objects.create(
        organization_id=program.organization_id,
        program=program,
        nonce=secrets.token_urlsafe(16),
        expires_at=timezone.now() + datetime.timedelta(days=days),
        created_by=actor,
    )
    audit_record(
        action="programs.invitation.created",
        actor=actor,
        organization_id=program.organization_id,
        obj=invitation,
        data={"program": program.pk, "days": days},
    )
    return invitation


@transaction.atomic
def program_registration_set(*, program: Program, actor: User, open_: bool) -> Program:
    import secrets

    program.registration_open = open_
    if open_ and not program.registration_key:
        program.registration_key = secrets.token_urlsafe(18)
    program.save(update_fields=["registration_open", "registration_key", "updated_at"])
    audit_record(
        action="programs.program.registration_changed",
        actor=actor,
        organization_id=program.organization_id,
        obj=program,
        data={"open": open_},
    )
    return program


@transaction.atomic
def participant_register(*, invitation, identity: dict) -> Enrollment:
    """Someone opened an invitation and told us who they are: create the participant and an
    applicant enrolment (once; a second submit returns the same enrolment)."""
    from communitas.participants.services import participant_create
    from communitas.programs.models import Invitation

    locked = Invitation.objects.select_for_update().select_related("program").get(pk=invitation.pk)
    if locked.participant_id:
        return Enrollment.objects.get(program=locked.program, participant_id=locked.participant_id)
    participant = participant_create(organization=locked.program.organization, actor=None, **identity)
    enrollment = Enrollment(
        organization_id=locked.organization_id,
        program=locked.program,
        participant=participant,
        status=Enrollment.Status.APPLICANT,
    )
    enrollment.save()
    locked.participant = participant
    locked.save(update_fields=["participant", "updated_at"])
    audit_record(
        action="programs.enrollment.applied",
        organization_id=locked.organization_id,
        obj=enrollment,
        data={"invitation": locked.pk, "participant": participant.pseudonym},
    )
    return enrollment


@transaction.atomic
def document_complete(*, enrollment: Enrollment, kind: str, actor: User):
    from django.utils import timezone

    from communitas.programs.models import ParticipantDocument
    from communitas.programs.selectors import required_documents

    kinds = {d["kind"] for d in required_documents(enrollment.program)}
    if kind not in kinds:
        raise ValueError(f"{kind!r} is not a document {enrollment.program.jurisdiction} requires")
    document, created = ParticipantDocument.objects.get_or_create(
        enrollment=enrollment,
        kind=kind,
        defaults={"organization_id": enrollment.organization_id, "completed_at": timezone.now(), "completed_by": actor},
    )
    if created:
        audit_record(
            action="programs.document.completed",
            actor=actor,
            organization_id=enrollment.organization_id,
            obj=document,
            data={"kind": kind, "enrollment": enrollment.pk},
        )
    return document


@transaction.atomic
def enrollment_set_status(*, enrollment: Enrollment, status: str, actor: User) -> Enrollment:
    if status not in Enrollment.Status.values:
        raise ValueError(f"unknown status {status!r}")
    previous = enrollment.status
    enrollment.status = status
    enrollment.save(update_fields=["status", "updated_at"])
    audit_record(
        action="programs.enrollment.status_changed",
        actor=actor,
        organization_id=enrollment.organization_id,
        obj=enrollment,
        data={"from": previous, "to": status},
    )
    return enrollment
