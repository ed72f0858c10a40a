"""Explicit API input and output shapes for programs, retreats, circles and sessions.

Participants appear by id and pseudonym only, facilitators by id and display name."""

import datetime
import re
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from communitas.core.api import inline_choices
from communitas.participants.schemas import Date, StrictSchema, Text
from communitas.programs.models import DoseRecord, Program, Session

ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)
EARLIEST, LATEST = 2000, 2100


def _iso_datetime(value):
    """Only an ISO 8601 date and time with its offset: pydantic would otherwise read 86400 as a
    Unix time, and a naive time is ambiguous (timezone-aware datetimes only)."""
    if isinstance(value, str) and ISO_DATETIME.fullmatch(value):
        return value
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value
    raise ValueError("use a date and time with its offset, e.g. 2026-05-01T10:00:00-07:00")


def _plausible_year(value: datetime.datetime) -> datetime.datetime:
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"use a year between {EARLIEST} and {LATEST}")
    return value


def _not_bool(value):
    # pydantic reads true as 1; a measurement or a dose is never a yes/no.
    if isinstance(value, bool):
        raise ValueError("must be a number")
    return value


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("list each id once")
    return values


Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
When = Annotated[datetime.datetime, BeforeValidator(_iso_datetime), AfterValidator(_plausible_year)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Text]
Optional200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Text]
Room = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Text]
CircleLanguage = Annotated[str, StringConstraints(max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Affinity = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60), Text]
Milligrams = Annotated[
    Decimal, BeforeValidator(_not_bool), Field(gt=0, le=1000, max_digits=6, decimal_places=2, allow_inf_nan=False)
]
Ids = Annotated[list[Id], Field(max_length=200), AfterValidator(_unique)]
StaffIds = Annotated[list[Id], Field(max_length=50), AfterValidator(_unique)]
Systolic = Annotated[StrictInt, Field(ge=40, le=300)]
Diastolic = Annotated[StrictInt, Field(ge=20, le=200)]
HeartRate = Annotated[StrictInt, Field(ge=20, le=250)]
Temperature = Annotated[Decimal, BeforeValidator(_not_bool), Field(ge=30, le=45, max_digits=4, decimal_places=1)]
Saturation = Annotated[StrictInt, Field(ge=50, le=100)]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
Description = Annotated[str, StringConstraints(max_length=4000), Text]


# --- references -------------------------------------------------------------------------------


class ParticipantRef(Schema):
    id: int
    pseudonym: str


class FacilitatorRef(Schema):
    id: int
    display_name: str


class Violation(Schema):
    rule: str
    message: str
    source: str


# --- programs ---------------------------------------------------------------------------------


class ProgramSummaryOut(Schema):
    """What the programs page shows retreat, hospitality and peer-support staff: no legal framework,
    description or registration settings."""

    id: int
    name: str
    substance: str
    jurisdiction: str


class ProgramOut(Schema):
    id: int
    name: str
    substance: str
    framework: str
    model: str
    jurisdiction: str
    description: str
    registration_open: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RosterRowOut(Schema):
    """Ready, not ready or paused: no clinical reasons, no names."""

    enrollment_id: int
    participant: ParticipantRef
    readiness: str


# --- retreats ---------------------------------------------------------------------------------


class RetreatIn(StrictSchema):
    name: Title
    starts_on: Date
    ends_on: Date
    venue: Optional200 = ""
    capacity: Annotated[StrictInt, Field(ge=1, le=500)]
    rooms: Annotated[list[Room], Field(max_length=100)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self):
        if self.ends_on < self.starts_on:
            raise ValueError("a retreat cannot end before it starts")
        return self


class RetreatOut(Schema):
    id: int
    program_id: int
    name: str
    starts_on: datetime.date
    ends_on: datetime.date
    venue: str
    capacity: int
    rooms: list[str]
    places_taken: int
    created_at: datetime.datetime


class RetreatDetailOut(RetreatOut):
    participants: list[ParticipantRef]

    @staticmethod
    def resolve_participants(obj) -> list:
        """From the enrolments prefetched as ``live`` (withdrawn ones left out)."""
        return [e.participant for e in obj.live]


class EnrollmentIn(StrictSchema):
    participant_id: Id


class EnrollmentOut(Schema):
    id: int
    program_id: int
    retreat_id: int | None
    participant: ParticipantRef
    status: str


# --- circles ----------------------------------------------------------------------------------


class CircleIn(StrictSchema):
    name: Title
    language: CircleLanguage = "en"
    affinity: Affinity = ""
    capacity: Annotated[StrictInt, Field(ge=2, le=60)] = 10
    retreat_id: Id | None = None


class CircleMembersIn(StrictSchema):
    participant_ids: Ids
    facilitator_ids: StaffIds


class CircleOut(Schema):
    id: int
    program_id: int
    retreat_id: int | None
    name: str
    language: str
    affinity: str
    capacity: int
    members: list[ParticipantRef]
    facilitators: list[FacilitatorRef]

    @staticmethod
    def resolve_members(obj) -> list:
        return list(obj.members.all())

    @staticmethod
    def resolve_facilitators(obj) -> list:
        return list(obj.facilitators.all())


# --- sessions ---------------------------------------------------------------------------------


class PlannedParticipant(StrictSchema):
    participant_id: Id
    planned_dose_mg: Milligrams | None = None


class SessionIn(StrictSchema):
    kind: Annotated[Session.Kind, inline_choices(Session.Kind)]
    activity: Session.Activity | Literal[""] = ""
    title: Title
    location: Optional200 = ""
    planned_start: When
    planned_end: When
    facilitator_ids: StaffIds = Field(default_factory=list)
    participants: Annotated[list[PlannedParticipant], Field(max_length=200)] = Field(default_factory=list)
    circle_id: Id | None = None
    retreat_id: Id | None = None

    @field_validator("participants")
    @classmethod
    def _each_once(cls, value: list[PlannedParticipant]) -> list[PlannedParticipant]:
        _unique([p.participant_id for p in value])
        return value

    @model_validator(mode="after")
    def _ordered(self):
        if self.planned_end <= self.planned_start:
            raise ValueError("a session must end after it starts")
        return self


class SessionActionIn(StrictSchema):
    """Start and end take no fields; an empty body or ``{}``."""


class AttendanceOut(Schema):
    participant: ParticipantRef
    status: str
    planned_dose_mg: Decimal | None


class ValidationOut(Schema):
    checked_at: str | None = None
    at: str | None = None
    violations: list[Violation] = Field(default_factory=list)


class SessionOut(Schema):
    id: int
    program_id: int
    retreat_id: int | None
    circle_id: int | None
    kind: str
    activity: str
    title: str
    location: str
    planned_start: datetime.datetime
    planned_end: datetime.datetime
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    status: str
    staff: list[FacilitatorRef]
    attendance: list[AttendanceOut]
    validation: ValidationOut

    @staticmethod
    def resolve_staff(obj) -> list:
        return list(obj.facilitators.all())

    @staticmethod
    def resolve_attendance(obj) -> list:
        return list(obj.attendance.all())


class DoseIn(StrictSchema):
    participant_id: Id
    product: Title
    unique_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Text]
    amount_mg: Milligrams
    kind: Annotated[DoseRecord.Kind, inline_choices(DoseRecord.Kind)]
    taken_at: When


class DoseOut(Schema):
    id: int
    session_id: int
    participant: ParticipantRef
    product: str
    unique_id: str
    amount_mg: Decimal
    kind: str
    taken_at: datetime.datetime
    recorded_by_id: int


class VitalsIn(StrictSchema):
    participant_id: Id
    taken_at: When
    systolic: Systolic | None = None
    diastolic: Diastolic | None = None
    heart_rate: HeartRate | None = None
    temperature_c: Temperature | None = None
    spo2: Saturation | None = None

    @model_validator(mode="after")
    def _complete(self):
        values = (self.systolic, self.diastolic, self.heart_rate, self.temperature_c, self.spo2)
        if all(v is None for v in values):
            raise ValueError("enter at least one measurement")
        if (self.systolic is None) != (self.diastolic is None):
            raise ValueError("enter both blood-pressure numbers, or neither")
        return self


class VitalsOut(Schema):
    id: int
    session_id: int
    participant: ParticipantRef
    taken_at: datetime.datetime
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    temperature_c: Decimal | None
    spo2: int | None
    recorded_by_id: int


class SessionDetailOut(SessionOut):
    doses: list[DoseOut]
    vitals: list[VitalsOut]

    @staticmethod
    def resolve_doses(obj) -> list:
        return list(obj.doses.all())

    @staticmethod
    def resolve_vitals(obj) -> list:
        return list(obj.vitals.all())


class ProgramIn(StrictSchema):
    name: Title
    substance: Program.Substance
    jurisdiction: Jurisdiction
    framework: Program.Framework = Program.Framework.LICENSED_SERVICE_CENTER
    model: Program.Model = Program.Model.SERVICE_CENTER_GROUP
    description: Description = ""


class ProgramPatch(StrictSchema):
    """The fields of ``ProgramIn`` a PATCH sends; none may be null (send "" to clear the description)."""

    name: Title | None = None
    substance: Program.Substance | None = None
    jurisdiction: Jurisdiction | None = None
    framework: Program.Framework | None = None
    model: Program.Model | None = None
    description: Description | None = None
