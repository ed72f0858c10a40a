"""Programs, the readiness roster, retreats, circles and sessions under /api/v1/.

Readers need ``can_view_clinical``, writers ``can_manage_programs``. Retreat, hospitality and
peer-support staff read what the programs page shows them: each program's name, substance and
jurisdiction, and the status-only roster. Another organization's ids answer 404."""

from django.db.models import Count, Prefetch, Q, QuerySet
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from communitas.accounts.models import Membership
from communitas.core.api import Pagination
from communitas.facilitators.models import FacilitatorProfile
from communitas.participants.models import Participant
from communitas.participants.schemas import Message, changes_from
from communitas.programs import selectors, services, session_services
from communitas.programs.models import Attendance, Circle, DoseRecord, Enrollment, Program, Retreat, Session, VitalSigns
from communitas.programs.permissions import can_manage_programs, can_view_clinical, can_view_roster, require
from communitas.programs.schemas import (
    CircleIn,
    CircleMembersIn,
    CircleOut,
    DoseIn,
    DoseOut,
    EnrollmentIn,
    EnrollmentOut,
    ProgramIn,
    ProgramOut,
    ProgramPatch,
    ProgramSummaryOut,
    RetreatDetailOut,
    RetreatIn,
    RetreatOut,
    RosterRowOut,
    SessionActionIn,
    SessionDetailOut,
    SessionIn,
    SessionOut,
    VitalsIn,
    VitalsOut,
)

router = Router(tags=["programs"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 422: Message}
LIVE = Q(enrollments__status__in=[Enrollment.Status.APPLICANT, Enrollment.Status.ENROLLED])


def _reader(request) -> Membership:
    return require(can_view_clinical, request.membership)


def _lister(request) -> Membership:
    """Whoever sees the programs page may list and look up programs (see ``_as_seen_by``)."""
    return require(can_view_roster, request.membership)


def _manager(request) -> Membership:
    return require(can_manage_programs, request.membership)


def _refused(exc: session_services.SessionRefused):
    return Status(422, {"error": "validation_error", "detail": [v.as_dict() for v in exc.violations]})


def _conflict(exc: ValueError):
    return Status(409, {"error": "conflict", "detail": str(exc)})


# --- lookups, scoped to the caller's organization ---------------------------------------------


def _one(qs: QuerySet, pk: int, what: str):
    found = qs.filter(pk=pk).first()
    if found is None:
        raise HttpError(404, f"No such {what}.")
    return found


def _all(qs: QuerySet, ids: list[int], what: str) -> list:
    """Every named row, in the order named; 404 naming the ids that are not there."""
    found = {obj.pk: obj for obj in qs.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise HttpError(404, f"No such {what}: {', '.join(map(str, missing))}.")
    return [found[i] for i in ids]


def _enrolled(program: Program) -> QuerySet[Participant]:
    """The people a retreat, circle or session of this program may take (as on the pages)."""
    return Participant.objects.filter(
        LIVE, organization_id=program.organization_id, enrollments__program=program, archived_at__isnull=True
    )


def _staff(organization_id: int) -> QuerySet[FacilitatorProfile]:
    return FacilitatorProfile.objects.filter(organization_id=organization_id, active=True)


def _retreats(organization_id: int) -> QuerySet[Retreat]:
    taken = Count("enrollments", filter=~Q(enrollments__status=Enrollment.Status.WITHDRAWN))
    return Retreat.objects.filter(organization_id=organization_id).annotate(places_taken=taken).order_by("starts_on")


def _circles(organization_id: int) -> QuerySet[Circle]:
    return (
        Circle.objects.filter(organization_id=organization_id)
        .prefetch_related(
            Prefetch("members", queryset=Participant.objects.order_by("id")),
            Prefetch("facilitators", queryset=FacilitatorProfile.objects.order_by("display_name", "id")),
        )
        .order_by("name", "id")
    )


def _sessions(organization_id: int, *, detail: bool = False) -> QuerySet[Session]:
    related = [
        Prefetch("facilitators", queryset=FacilitatorProfile.objects.order_by("display_name", "id")),
        Prefetch("attendance", queryset=Attendance.objects.select_related("participant").order_by("id")),
    ]
    if detail:
        related += [
            Prefetch("doses", queryset=DoseRecord.objects.select_related("participant").order_by("taken_at", "id")),
            Prefetch("vitals", queryset=VitalSigns.objects.select_related("participant").order_by("taken_at", "id")),
        ]
    return (
        Session.objects.filter(organization_id=organization_id)
        .prefetch_related(*related)
        .order_by("planned_start", "id")
    )


def _retreat(membership: Membership, retreat_id: int) -> Retreat:
    return _one(_retreats(membership.organization_id), retreat_id, "retreat")


def _retreat_detail(membership: Membership, retreat_id: int) -> Retreat:
    live = Enrollment.objects.exclude(status=Enrollment.Status.WITHDRAWN).select_related("participant").order_by("id")
    qs = _retreats(membership.organization_id).prefetch_related(Prefetch("enrollments", live, to_attr="live"))
    return _one(qs, retreat_id, "retreat")


def _circle(membership: Membership, circle_id: int) -> Circle:
    return _one(_circles(membership.organization_id), circle_id, "circle")


def _session(membership: Membership, session_id: int, *, detail: bool = False) -> Session:
    return _one(_sessions(membership.organization_id, detail=detail), session_id, "session")


def _attendee(session: Session, participant_id: int) -> Participant:
    people = Participant.objects.filter(organization_id=session.organization_id, attendance__session=session)
    return _one(people, participant_id, "participant in this session")


# --- programs and the roster ------------------------------------------------------------------


def _as_seen_by(membership: Membership, program: Program) -> ProgramOut | ProgramSummaryOut:
    """The whole program for the care team; its name, substance and jurisdiction for retreat,
    hospitality and peer-support staff, as on the programs page."""
    if can_view_clinical(membership):
        return ProgramOut.model_validate(program)
    return ProgramSummaryOut.model_validate(program)


@router.get("/programs", response={200: list[ProgramOut | ProgramSummaryOut], **ERRORS})
@paginate(Pagination)
def list_programs(request):
    membership = _lister(request)
    return [_as_seen_by(membership, p) for p in selectors.programs_for_membership(membership)]


@router.post("/programs", response={201: ProgramOut, **ERRORS})
def create_program(request, payload: ProgramIn):
    """Create a program in the caller's organization (coordinators and administrators)."""
    membership = _manager(request)
    program = services.program_create(organization=membership.organization, actor=request.user, **payload.model_dump())
    return Status(201, program)


@router.get("/programs/{program_id}", response={200: ProgramOut | ProgramSummaryOut, **ERRORS})
def get_program(request, program_id: int):
    membership = _lister(request)
    return _as_seen_by(membership, selectors.program_get_for_user(membership, program_id))


@router.patch("/programs/{program_id}", response={200: ProgramOut, **ERRORS})
def update_program(request, program_id: int, payload: ProgramPatch):
    """Change some of a program's fields (coordinators and administrators). Changing jurisdiction,
    substance or framework while sessions are planned or under way answers 409."""
    program = selectors.program_get_for_user(_lister(request), program_id)
    _manager(request)
    try:
        return services.program_update(actor=request.user, program=program, **changes_from(payload))
    except services.ProgramChangeRefused as exc:
        return _conflict(exc)


@router.get("/programs/{program_id}/roster", response={200: list[RosterRowOut], **ERRORS})
@paginate(Pagination)
def get_roster(request, program_id: int):
    program = selectors.program_get_for_user(require(can_view_roster, request.membership), program_id)
    return selectors.RosterRows(
        program, row=lambda e, status: {"enrollment_id": e.pk, "participant": e.participant, "readiness": status}
    )


# --- retreats ---------------------------------------------------------------------------------


@router.get("/programs/{program_id}/retreats", response={200: list[RetreatOut], **ERRORS})
@paginate(Pagination)
def list_retreats(request, program_id: int):
    membership = _reader(request)
    program = selectors.program_get_for_user(membership, program_id)
    return _retreats(membership.organization_id).filter(program=program)


@router.post("/programs/{program_id}/retreats", response={201: RetreatDetailOut, **ERRORS})
def create_retreat(request, program_id: int, payload: RetreatIn):
    program = selectors.program_get_for_user(_reader(request), program_id)
    membership = _manager(request)
    retreat = session_services.retreat_create(program=program, actor=request.user, **payload.model_dump())
    return Status(201, _retreat_detail(membership, retreat.pk))


@router.get("/retreats/{retreat_id}", response={200: RetreatDetailOut, **ERRORS})
def get_retreat(request, retreat_id: int):
    return _retreat_detail(_reader(request), retreat_id)


@router.post("/retreats/{retreat_id}/enrollments", response={200: EnrollmentOut, 201: EnrollmentOut, **ERRORS})
def enroll_in_retreat(request, retreat_id: int, payload: EnrollmentIn):
    retreat = _retreat(_reader(request), retreat_id)
    _manager(request)
    participant = _one(_enrolled(retreat.program), payload.participant_id, "participant enrolled in this program")
    already = Enrollment.objects.filter(retreat=retreat, participant=participant).exists()
    try:
        enrollment = session_services.retreat_enroll(retreat=retreat, participant=participant, actor=request.user)
    except session_services.CapacityFull as exc:
        return _conflict(exc)
    return Status(200 if already else 201, enrollment)


# --- circles ----------------------------------------------------------------------------------


@router.get("/programs/{program_id}/circles", response={200: list[CircleOut], **ERRORS})
@paginate(Pagination)
def list_circles(request, program_id: int):
    membership = _reader(request)
    program = selectors.program_get_for_user(membership, program_id)
    return _circles(membership.organization_id).filter(program=program)


@router.post("/programs/{program_id}/circles", response={201: CircleOut, **ERRORS})
def create_circle(request, program_id: int, payload: CircleIn):
    program = selectors.program_get_for_user(_reader(request), program_id)
    membership = _manager(request)
    fields = payload.model_dump()
    retreat_id = fields.pop("retreat_id")
    retreat = None if retreat_id is None else _one(Retreat.objects.filter(program=program), retreat_id, "retreat")
    circle = session_services.circle_create(program=program, retreat=retreat, actor=request.user, **fields)
    return Status(201, _circle(membership, circle.pk))


@router.get("/circles/{circle_id}", response={200: CircleOut, **ERRORS})
def get_circle(request, circle_id: int):
    return _circle(_reader(request), circle_id)


@router.put("/circles/{circle_id}/members", response={200: CircleOut, **ERRORS})
def set_circle_members(request, circle_id: int, payload: CircleMembersIn):
    circle = _circle(_reader(request), circle_id)
    membership = _manager(request)
    participants = _all(_enrolled(circle.program), payload.participant_ids, "participant enrolled in this program")
    facilitators = _all(_staff(circle.organization_id), payload.facilitator_ids, "active facilitator")
    try:
        session_services.circle_set_members(
            circle=circle, actor=request.user, participants=participants, facilitators=facilitators
        )
    except session_services.CapacityFull as exc:
        return _conflict(exc)
    return _circle(membership, circle.pk)


# --- sessions ---------------------------------------------------------------------------------


@router.get("/programs/{program_id}/sessions", response={200: list[SessionOut], **ERRORS})
@paginate(Pagination)
def list_sessions(request, program_id: int):
    membership = _reader(request)
    program = selectors.program_get_for_user(membership, program_id)
    return _sessions(membership.organization_id).filter(program=program)


def _session_parts(program: Program, payload: SessionIn) -> dict:
    """The circle, retreat, staff, people and agreed doses a plan names, each from this program
    (a circle's session takes its members and, unless told otherwise, its retreat)."""
    circle = None
    if payload.circle_id is not None:
        circle = _one(Circle.objects.filter(program=program), payload.circle_id, "circle")
    retreat = circle.retreat if circle else None
    if payload.retreat_id is not None:
        retreat = _one(Retreat.objects.filter(program=program), payload.retreat_id, "retreat")
    pool = circle.members.filter(archived_at__isnull=True) if circle else _enrolled(program)
    ids = [p.participant_id for p in payload.participants]
    return {
        "circle": circle,
        "retreat": retreat,
        "facilitators": _all(_staff(program.organization_id), payload.facilitator_ids, "active facilitator"),
        "participants": _all(pool, ids, "member of this circle" if circle else "participant enrolled in this program"),
        "planned_doses": {p.participant_id: p.planned_dose_mg for p in payload.participants if p.planned_dose_mg},
    }


@router.post("/programs/{program_id}/sessions", response={201: SessionDetailOut, **ERRORS})
def plan_session(request, program_id: int, payload: SessionIn):
    program = selectors.program_get_for_user(_reader(request), program_id)
    membership = _manager(request)
    fields = payload.model_dump(exclude={"facilitator_ids", "participants", "circle_id", "retreat_id"})
    parts = _session_parts(program, payload)
    try:
        session = session_services.session_plan(program=program, actor=request.user, **parts, **fields)
    except session_services.SessionRefused as exc:
        return _refused(exc)
    return Status(201, _session(membership, session.pk, detail=True))


@router.get("/sessions/{session_id}", response={200: SessionDetailOut, **ERRORS})
def get_session(request, session_id: int):
    return _session(_reader(request), session_id, detail=True)


@router.post("/sessions/{session_id}/start", response={200: SessionDetailOut, **ERRORS})
def start_session(request, session_id: int, payload: SessionActionIn | None = None):
    session = _session(_reader(request), session_id)
    membership = _reader(request)
    try:
        session_services.session_start(session=session, actor=request.user)
    except session_services.SessionRefused as exc:
        return _refused(exc)
    except ValueError as exc:
        return _conflict(exc)
    return _session(membership, session.pk, detail=True)


@router.post("/sessions/{session_id}/end", response={200: SessionDetailOut, **ERRORS})
def end_session(request, session_id: int, payload: SessionActionIn | None = None):
    session = _session(_reader(request), session_id)
    membership = _reader(request)
    try:
        session_services.session_end(session=session, actor=request.user)
    except ValueError as exc:
        return _conflict(exc)
    return _session(membership, session.pk, detail=True)


@router.post("/sessions/{session_id}/doses", response={201: DoseOut, **ERRORS})
def record_dose(request, session_id: int, payload: DoseIn):
    session = _session(_reader(request), session_id)
    _reader(request)
    fields = payload.model_dump(exclude={"participant_id"})
    participant = _attendee(session, payload.participant_id)
    try:
        dose = session_services.dose_record(session=session, participant=participant, actor=request.user, **fields)
    except session_services.SessionRefused as exc:
        return _refused(exc)
    except ValueError as exc:
        return _conflict(exc)
    dose.refresh_from_db()  # the stored amount, as every later read shows it
    return Status(201, dose)


@router.post("/sessions/{session_id}/vitals", response={201: VitalsOut, **ERRORS})
def record_vitals(request, session_id: int, payload: VitalsIn):
    session = _session(_reader(request), session_id)
    _reader(request)
    fields = payload.model_dump(exclude={"participant_id"})
    participant = _attendee(session, payload.participant_id)
    try:
        vitals = session_services.vitals_record(session=session, participant=participant, actor=request.user, **fields)
    except ValueError as exc:
        return _conflict(exc)
    vitals.refresh_from_db()
    return Status(201, vitals)
