from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import cast

from django.core.paginator import Page, Paginator
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


def enrollment_get_for_program(program: Program, enrollment_id) -> Enrollment:
    enrollment = (
        enrollments_for_program(program)
        .filter(pk=enrollment_id, participant__archived_at__isnull=True)
        .select_related("program")
        .first()
    )
    if enrollment is None:
        raise Http404("no such enrollment")
    return enrollment


def required_documents(program: Program) -> list[dict]:
    """Documents each participant needs before dosing: the jurisdiction's (``required_documents.json``)
    and any more the organization's own rule pack lists (it may add documents, never remove them)."""
    from communitas.compliance.selectors import organization_documents
    from communitas.programs.readiness import documents_for

    documents = list(documents_for(program.jurisdiction))
    kinds = {d["kind"] for d in documents}
    own = organization_documents(organization_id=program.organization_id, jurisdiction=program.jurisdiction)
    return documents + [d for d in own if d["kind"] not in kinds]


def enrollment_readiness(enrollment: Enrollment, *, consent=None, screening_outcome=None):
    """The readiness gate for one enrolment (see ``readiness.py``)."""
    from communitas.participants.selectors import consent_state
    from communitas.programs.readiness import readiness
    from communitas.safety.screening_selectors import screening_status

    program = enrollment.program
    required_scopes = {s for d in program.consent_documents.all() for s in d.required_scopes}
    outcome = screening_outcome or screening_status(enrollment.participant, program.substance).outcome
    return readiness(
        enrollment_status=enrollment.status,
        screening_outcome=outcome,
        consent=consent if consent is not None else consent_state(enrollment.participant),
        required_scopes=required_scopes,
        required_document_kinds=[d["kind"] for d in required_documents(program)],
        completed_document_kinds=set(enrollment.documents.values_list("kind", flat=True)),
    )


def roster_enrollments(program: Program) -> QuerySet[Enrollment]:
    """A program's current enrolments in roster order (not yet with their readiness)."""
    from communitas.participants.models import Participant

    # "not one of the (few) archived people" rather than a join on every enrolment's participant:
    # the page's count then reads the enrolment index alone.
    archived = Participant.objects.filter(organization_id=program.organization_id, archived_at__isnull=False)
    return (
        enrollments_for_program(program)
        .exclude(participant_id__in=archived.values("pk"))
        .prefetch_related("documents")
        .order_by("id")
    )


def roster(program: Program, enrollments: Iterable[Enrollment] | None = None) -> list[tuple[Enrollment, str]]:
    """Each enrolment (all current ones by default) with its readiness status, in a fixed number
    of queries for however many it is given."""
    from communitas.participants.selectors import consent_states_for
    from communitas.programs.readiness import readiness
    from communitas.safety.screening_selectors import screening_outcomes_for

    rows = list(enrollments if enrollments is not None else roster_enrollments(program))
    ids = [e.participant_id for e in rows]
    consents, outcomes = consent_states_for(ids), screening_outcomes_for(ids, program.substance)
    required_scopes = {s for d in program.consent_documents.all() for s in d.required_scopes}
    kinds = [d["kind"] for d in required_documents(program)]
    return [
        (
            e,
            readiness(
                enrollment_status=e.status,
                screening_outcome=outcomes.get(e.participant_id, "not_screened"),
                consent=consents.get(e.participant_id, {}),
                required_scopes=required_scopes,
                required_document_kinds=kinds,
                completed_document_kinds={d.kind for d in e.documents.all()},
            ).status,
        )
        for e in rows
    ]


class RosterRows:
    """The roster as a lazy sequence for a paginator: counting is one COUNT, and a slice computes
    readiness for its own rows only, so a page costs the same at 50 or 50,000 enrolments."""

    def __init__(self, program: Program, row: Callable[[Enrollment, str], object] | None = None):
        self.program, self.row = program, row
        self.enrollments = roster_enrollments(program)

    def count(self) -> int:
        return self.enrollments.count()

    def __len__(self) -> int:
        return self.count()

    def all(self) -> RosterRows:  # django-ninja counts with ``.all().count()``
        return self

    def __getitem__(self, index):
        if not isinstance(index, slice):
            index = index + len(self) if index < 0 else index
            return self[index : index + 1][0]
        rows = roster(self.program, self.enrollments[index])
        return [self.row(e, status) for e, status in rows] if self.row else rows


def roster_page(program: Program, number, per_page: int = 50) -> Page:
    """One page of the roster (``number`` as given in the query string; bad values give page 1)."""
    rows = cast("Sequence[tuple[Enrollment, str]]", RosterRows(program))
    return Paginator(rows, per_page).get_page(number)


def roster_statuses(program: Program, participant_ids: list[int]) -> dict[int, str]:
    """Readiness status of the named participants in this program."""
    rows = roster(program, roster_enrollments(program).filter(participant_id__in=participant_ids))
    return {e.participant_id: status for e, status in rows}


def notes_visible_to(user, *, session) -> QuerySet:
    """A session's facilitator notes that ``user`` wrote or that were shared with them."""
    from django.db.models import Q

    from communitas.programs.models import FacilitatorNote

    return (
        FacilitatorNote.objects.filter(session=session, organization_id=session.organization_id)
        .filter(Q(author=user) | Q(shared_with=user))
        .select_related("participant", "author")
        .distinct()
        .order_by("created_at")
    )


def care_team_colleagues(organization_id: int, *, exclude_user) -> QuerySet:
    from communitas.accounts.models import Membership, User
    from communitas.programs.permissions import ROSTER_ROLES

    clinical = [r for r in ROSTER_ROLES if r not in (Membership.Role.HOSPITALITY, Membership.Role.PEER_SUPPORTER)]
    return (
        User.objects.filter(
            memberships__organization_id=organization_id,
            memberships__is_active=True,
            memberships__role__in=clinical,
            is_active=True,
        )
        .exclude(pk=exclude_user.pk)
        .order_by("full_name", "email")
        .distinct()
    )


def needs_medical_oversight(participant_ids: list[int], substance: str) -> set[int]:
    """People whose newest screening for ``substance`` was cleared on condition of medical oversight
    (staffing and group formation place them only with medically qualified staff)."""
    from communitas.programs.staffing import MEDICAL_OVERSIGHT_RULES
    from communitas.safety.models import Screening, ScreeningDecision

    newest: dict[int, int] = {}
    for screening in Screening.objects.filter(participant_id__in=participant_ids, substance=substance).order_by(
        "created_at", "id"
    ):
        newest[screening.participant_id] = screening.pk
    cleared: set[int] = set()
    for decision in ScreeningDecision.objects.filter(screening_id__in=newest.values(), decision="clear"):
        if MEDICAL_OVERSIGHT_RULES & set(decision.rule_ids):
            cleared.add(decision.screening_id)
    return {pid for pid, sid in newest.items() if sid in cleared}
