from django.db.models import QuerySet
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.programs.models import Enrollment, Program


def programs_for_membership(membership: Membership) -> QuerySet[Program]:
    return Program.objects.filter(organization_id=membership.organization_id).order_by("name")


def program_get_for_user(membership: Membership | None, program_id) -> Program:
    program = None if membership is None else programs_for_membership(membership).filter(pk=program_id).first()
    if program is None:
        raise Http404("no such program")
    return program


def enrollments_for_program(program: Program) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(program=program, organization_id=program.organization_id).select_related(
        "participant"
    )
