"""Integration-circle series, group agreements and waitlists under /api/v1/community/.

The same rules as the pages: coordinators and administrators write; facilitators, ceremonial
guides and peer supporters read the circles they facilitate; hospitality staff and researchers
get 403. A circle, series, meeting or waitlist entry the caller cannot see is 404. Participants
appear by id and pseudonym only."""

import datetime
import re
from typing import Annotated, Literal

from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator, Field, StrictInt, StringConstraints, WithJsonSchema, model_validator

from communitas.accounts.models import Membership
from communitas.community import circle_selectors as selectors
from communitas.community import circle_services as services
from communitas.community.circle_permissions import can_manage_community, can_open_circles
from communitas.community.models import CircleSeries
from communitas.community.models.circles import MAX_MEETINGS
from communitas.core.api import Pagination
from communitas.participants.schemas import Date, Message, StrictSchema, Text
from communitas.programs.permissions import require
from communitas.programs.schemas import Id, ParticipantRef, Title
from communitas.programs.session_services import CapacityFull, SessionRefused

router = Router(tags=["community"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 422: Message}
HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")


def _local_time(value):
    if isinstance(value, str) and HH_MM.fullmatch(value):
        return value
    raise ValueError("use a local time as HH:MM")


# A wall-clock time in the series' time zone, without an offset (so not JSON Schema's "time").
LOCAL_TIME_SCHEMA = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "18:30"}
LocalTime = Annotated[datetime.time, BeforeValidator(_local_time), WithJsonSchema(LOCAL_TIME_SCHEMA)]
LocalTimeOut = Annotated[datetime.time, WithJsonSchema({**LOCAL_TIME_SCHEMA, "example": "18:30:00"})]
Link = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), Text]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Text]
AgreementText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000), Text]
Zone = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]


# --- shapes -----------------------------------------------------------------------------------


class CircleSummaryOut(Schema):
    id: int
    program_id: int
    retreat_id: int | None
    name: str
    capacity: int
    member_count: int
    waiting_count: int


class MeetingOut(Schema):
    session_id: int
    number: int
    planned_start: datetime.datetime
    planned_end: datetime.datetime
    status: str

    @staticmethod
    def resolve_planned_start(obj) -> datetime.datetime:
        return obj.session.planned_start

    @staticmethod
    def resolve_planned_end(obj) -> datetime.datetime:
        return obj.session.planned_end

    @staticmethod
    def resolve_status(obj) -> str:
        return obj.session.status


class SeriesOut(Schema):
    id: int
    circle_id: int
    title: str
    cadence: str
    mode: str
    meeting_link: str
    location: str
    weekday: int
    start_time: LocalTimeOut
    duration_minutes: int
    time_zone: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    meeting_count: int | None
    cancelled_at: datetime.datetime | None
    meetings: list[MeetingOut]

    @staticmethod
    def resolve_meetings(obj) -> list:
        return list(obj.meetings.all())


class SeriesIn(StrictSchema):
    title: Title = "Integration circle"
    cadence: CircleSeries.Cadence = CircleSeries.Cadence.WEEKLY
    mode: CircleSeries.Mode
    meeting_link: Link = ""
    location: Place = ""
    weekday: Annotated[StrictInt, Field(ge=0, le=6)]
    start_time: LocalTime
    duration_minutes: Annotated[StrictInt, Field(ge=15, le=480)]
    time_zone: Zone
    starts_on: Date
    ends_on: Date | None = None
    meeting_count: Annotated[StrictInt, Field(ge=1, le=MAX_MEETINGS)] | None = None

    @model_validator(mode="after")
    def _one_end(self):
        if (self.ends_on is None) == (self.meeting_count is None):
            raise ValueError("give ends_on or meeting_count, not both")
        return self


class ExtendIn(StrictSchema):
    meetings: Annotated[StrictInt, Field(ge=1, le=MAX_MEETINGS)] | None = None
    until: Date | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.meetings is None) == (self.until is None):
            raise ValueError("give meetings or until, not both")
        return self


class CancelledOut(Schema):
    session_id: int
    status: str


class CircleAgreementIn(StrictSchema):
    body: AgreementText


class CircleAgreementOut(Schema):
    id: int
    circle_id: int
    version: int
    body: str
    body_hash: str
    created_at: datetime.datetime


class AcceptanceIn(StrictSchema):
    participant_id: Id


class AcceptanceOut(Schema):
    participant: ParticipantRef
    agreement_version: int
    accepted_at: datetime.datetime
    via: str
    recorded_by_id: int | None

    @staticmethod
    def resolve_agreement_version(obj) -> int:
        return obj.agreement.version


class MemberAcceptanceOut(Schema):
    participant: ParticipantRef
    accepted_at: datetime.datetime | None
    via: str | None
    recorded_by_id: int | None


class AgreementStatusOut(Schema):
    current: CircleAgreementOut | None
    members: list[MemberAcceptanceOut]


class WaitlistEntryOut(Schema):
    id: int
    participant: ParticipantRef
    status: str
    position: int | None
    joined_waitlist_at: datetime.datetime
    offered_at: datetime.datetime | None


class WaitlistOut(Schema):
    capacity: int
    members: list[ParticipantRef]
    entries: list[WaitlistEntryOut]


class JoinIn(StrictSchema):
    participant_id: Id


class JoinOut(Schema):
    joined: bool
    entry: WaitlistEntryOut | None


class OffersOut(Schema):
    offers: list[WaitlistEntryOut]


# --- helpers ----------------------------------------------------------------------------------


def _reader(request) -> Membership:
    return require(can_open_circles, request.membership)


def _manager(request) -> Membership:
    return require(can_manage_community, request.membership)


def _conflict(exc: Exception):
    return Status(409, {"error": "conflict", "detail": str(exc)})


def _refused(exc: SessionRefused):
    return Status(422, {"error": "validation_error", "detail": [v.as_dict() for v in exc.violations]})


def _entry_out(entry, position=None) -> dict:
    return {
        "id": entry.pk,
        "participant": entry.participant,
        "status": entry.status,
        "position": position if position is not None else services.waitlist_position(entry),
        "joined_waitlist_at": entry.created_at,
        "offered_at": entry.offered_at,
    }


def _series(series) -> CircleSeries:
    return selectors.series_get_for_circle(series.circle, series.pk)


# --- circles and series -----------------------------------------------------------------------


@router.get("/community/circles", response={200: list[CircleSummaryOut], **ERRORS})
@paginate(Pagination)
def list_circles(request):
    return selectors.circles_for(_reader(request))


@router.get("/community/circles/{circle_id}/series", response={200: list[SeriesOut], **ERRORS})
def list_series(request, circle_id: int):
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    return list(selectors.series_for_circle(circle))


@router.post("/community/circles/{circle_id}/series", response={201: SeriesOut, **ERRORS})
def create_series(request, circle_id: int, payload: SeriesIn):
    """Plan a weekly or biweekly series and all its meetings (they may run past the retreat)."""
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    _manager(request)
    try:
        series = services.series_create(circle=circle, actor=request.user, **payload.model_dump())
    except SessionRefused as exc:
        return _refused(exc)
    except services.CircleRefused as exc:
        return _conflict(exc)
    return Status(201, _series(series))


@router.get("/community/series/{series_id}", response={200: SeriesOut, **ERRORS})
def get_series(request, series_id: int):
    return selectors.series_get_for_user(_reader(request), series_id)


@router.post("/community/series/{series_id}/extend", response={200: SeriesOut, **ERRORS})
def extend_series(request, series_id: int, payload: ExtendIn):
    series = selectors.series_get_for_user(_reader(request), series_id)
    _manager(request)
    try:
        services.series_extend(series=series, actor=request.user, **payload.model_dump())
    except SessionRefused as exc:
        return _refused(exc)
    except services.CircleRefused as exc:
        return _conflict(exc)
    return _series(series)


@router.post("/community/series/{series_id}/cancel", response={200: SeriesOut, **ERRORS})
def cancel_series(request, series_id: int):
    """Cancel every meeting of the series that has not started yet."""
    series = selectors.series_get_for_user(_reader(request), series_id)
    _manager(request)
    try:
        services.series_cancel(series=series, actor=request.user)
    except services.CircleRefused as exc:
        return _conflict(exc)
    return _series(series)


@router.post("/community/meetings/{session_id}/cancel", response={200: CancelledOut, **ERRORS})
def cancel_meeting(request, session_id: int):
    session = selectors.meeting_get_for_user(_reader(request), session_id)
    _manager(request)
    try:
        session = services.meeting_cancel(session=session, actor=request.user)
    except services.CircleRefused as exc:
        return _conflict(exc)
    return {"session_id": session.pk, "status": session.status}


# --- agreements -------------------------------------------------------------------------------


@router.get("/community/circles/{circle_id}/agreement", response={200: AgreementStatusOut, **ERRORS})
def get_agreement(request, circle_id: int):
    """The current agreement and who has (not) accepted it."""
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    current, rows = selectors.agreement_status(circle)
    members = [
        {
            "participant": row.participant,
            "accepted_at": row.acceptance.accepted_at if row.acceptance else None,
            "via": row.acceptance.via if row.acceptance else None,
            "recorded_by_id": row.acceptance.recorded_by_id if row.acceptance else None,
        }
        for row in rows
    ]
    return {"current": current, "members": members}


@router.post("/community/circles/{circle_id}/agreement", response={201: CircleAgreementOut, **ERRORS})
def publish_agreement(request, circle_id: int, payload: CircleAgreementIn):
    """Publish a new version; members accept it again."""
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    _manager(request)
    try:
        agreement = services.agreement_publish(circle=circle, actor=request.user, body=payload.body)
    except services.CircleRefused as exc:
        return _conflict(exc)
    return Status(201, agreement)


@router.post("/community/circles/{circle_id}/agreement/acceptances", response={201: AcceptanceOut, **ERRORS})
def record_acceptance(request, circle_id: int, payload: AcceptanceIn):
    """Record that a member accepted the current agreement in person."""
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    _manager(request)
    person = selectors.member_get_for_circle(circle, payload.participant_id)
    agreement = services.agreement_current(circle)
    if agreement is None:
        return _conflict(ValueError("the circle has no agreement yet"))
    try:
        acceptance = services.agreement_accept(agreement=agreement, participant=person, actor=request.user)
    except services.CircleRefused as exc:
        return _conflict(exc)
    return Status(201, acceptance)


# --- membership and the waitlist --------------------------------------------------------------


@router.get("/community/circles/{circle_id}/waitlist", response={200: WaitlistOut, **ERRORS})
def get_waitlist(request, circle_id: int):
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    entries = [_entry_out(row.entry, row.position) for row in selectors.waitlist_for(circle)]
    return {"capacity": circle.capacity, "members": selectors.members_of(circle), "entries": entries}


@router.post("/community/circles/{circle_id}/join", response={201: JoinOut, **ERRORS})
def join_circle(request, circle_id: int, payload: JoinIn):
    """Add someone to the circle, or to its waitlist when it is full (``joined`` false)."""
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    _manager(request)
    person = selectors.participant_get_for_circle(circle, payload.participant_id)
    try:
        result = services.circle_join(circle=circle, participant=person, actor=request.user)
    except (services.CircleRefused, CapacityFull) as exc:
        return _conflict(exc)
    entry = _entry_out(result.entry, result.position) if result.entry else None
    return Status(201, {"joined": result.joined, "entry": entry})


@router.post("/community/circles/{circle_id}/leave", response={200: OffersOut, **ERRORS})
def leave_circle(request, circle_id: int, payload: JoinIn):
    """Take a member out; the freed place is offered to the first person waiting."""
    circle = selectors.circle_get_for_user(_reader(request), circle_id)
    _manager(request)
    person = selectors.member_get_for_circle(circle, payload.participant_id)
    offers = services.circle_leave(circle=circle, participant=person, actor=request.user)
    return {"offers": [_entry_out(e) for e in offers]}


@router.post("/community/waitlist/{entry_id}/{action}", response={200: WaitlistEntryOut, **ERRORS})
def waitlist_action(request, entry_id: int, action: Literal["confirm", "decline", "withdraw"]):
    """confirm: the person offered a place joins; decline: they do not (the next is offered);
    withdraw: they leave the waitlist."""
    entry = selectors.waitlist_entry_get_for_user(_reader(request), entry_id)
    _manager(request)
    act = {
        "confirm": services.waitlist_confirm,
        "decline": services.waitlist_decline,
        "withdraw": services.waitlist_withdraw,
    }[action]
    try:
        act(entry=entry, actor=request.user)
    except (services.CircleRefused, CapacityFull) as exc:
        return _conflict(exc)
    entry.refresh_from_db()
    return _entry_out(entry)
