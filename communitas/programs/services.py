from __future__ import annotations

import datetime

from django.db import transaction

from communitas.accounts.models import Organization, User
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.programs.models import Enrollment, Program


@transaction.atomic
def program_create(
    *,
    organization: Organization,
    actor: User | None,
    name: str,
    substance: str,
    jurisdiction: str,
    description: str = "",
) -> Program:
    program = Program(
        organization=organization, name=name, substance=substance, jurisdiction=jurisdiction, description=description
    )
    program.full_clean()
    program.save()
    audit_record(
        action="programs.program.created",
        actor=actor,
        organization_id=organization.pk,
        obj=program,
        data={"substance": substance, "jurisdiction": jurisdiction},
    )
    return program


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
