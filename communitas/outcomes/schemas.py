import datetime
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints


class InstrumentSummary(Schema):
    code: str
    name: str
    version: str
    languages: list[str]
    item_text_included: bool
    items: int


class AssessmentOut(Schema):
    id: int
    instrument_code: str
    timepoint: str
    due_on: datetime.date
    opens_on: datetime.date
    closes_on: datetime.date
    status: str
    total: float | None
    band: str | None
    flags: list[str]
    submitted_at: datetime.datetime | None


class LinkOut(Schema):
    url: str
    expires_at: datetime.datetime


class ResponseIn(Schema):
    """Answers entered by staff (e.g. from a paper form), keyed by item id."""

    model_config = ConfigDict(extra="forbid")
    answers: dict[Annotated[str, StringConstraints(max_length=10)], float | None]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    submission_id: (
        Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None
    ) = None


class ScoreOut(Schema):
    response_id: int
    instrument: str
    complete: bool
    total: float | None
    band: str | None
    subscales: dict
    flags: list[str]
    extras: dict


class TimepointIn(Schema):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,30}$")]
    offset_days: Annotated[int, Field(ge=-3650, le=3650)]
    opens_before: Annotated[int, Field(ge=0, le=3650)] = 0
    closes_after: Annotated[int, Field(ge=0, le=3650)] = 0


class ScheduleIn(Schema):
    """Timepoints for one instrument in a program; omit ``timepoints`` for the defaults."""

    model_config = ConfigDict(extra="forbid")
    timepoints: Annotated[list[TimepointIn], Field(min_length=1, max_length=30)] | None = None


class ScheduleOut(Schema):
    instrument_code: str
    timepoints: list[dict]
