"""Explicit API input and output shapes for participants and support people."""

import datetime
import re
from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from ninja.errors import ValidationError
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from communitas.participants.models import SupportPerson


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no name or note needs one.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value):
    """Only a calendar date as YYYY-MM-DD: pydantic would otherwise read 86400 or "0" as a Unix
    time (1970-01-02, 1970-01-01) and cut a datetime down to its date."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    raise ValueError("use a date as YYYY-MM-DD")


Text = AfterValidator(_no_nul)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150), Text]
OptionalName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=150), Text]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), Text]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^([0-9+().\- ]{4,40})?$")]
Language = Annotated[str, StringConstraints(max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), Text]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), Text]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), Text]
Date = Annotated[datetime.date, BeforeValidator(_iso_date)]


def _check_email(value):
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError("not a valid email address") from exc
    return value


NULLABLE = frozenset({"date_of_birth"})


def changes_from(patch: Schema) -> dict:
    """The fields a PATCH sent; null only where the field may be empty."""
    changes = patch.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k not in NULLABLE)
    if nulls:
        raise ValidationError(
            [
                {"loc": ["body", "payload", k], "msg": 'null is not allowed; send "" to clear', "type": "null"}
                for k in nulls
            ]
        )
    return changes


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class ParticipantIn(StrictSchema):
    display_name: Name
    legal_name: OptionalName = ""
    email: Email = ""
    phone: Phone = ""
    date_of_birth: Date | None = None
    preferred_language: Language = "en"
    pronouns: ShortText = ""
    cultural_background: LongText = ""
    accessibility_needs: LongText = ""

    _email = field_validator("email")(_check_email)


class ParticipantPatch(StrictSchema):
    display_name: Name | None = None
    legal_name: OptionalName | None = None
    email: Email | None = None
    phone: Phone | None = None
    date_of_birth: Date | None = None
    preferred_language: Language | None = None
    pronouns: ShortText | None = None
    cultural_background: LongText | None = None
    accessibility_needs: LongText | None = None

    _email = field_validator("email")(_check_email)


class ParticipantOut(Schema):
    id: int
    pseudonym: str
    display_name: str
    legal_name: str
    email: str
    phone: str
    date_of_birth: datetime.date | None
    preferred_language: str
    pronouns: str
    cultural_background: str
    accessibility_needs: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SupportPersonIn(StrictSchema):
    name: Name
    relationship: SupportPerson.Relationship
    email: Email = ""
    phone: Phone = ""
    may_contact: StrictBool = False
    notes: Notes = ""

    _email = field_validator("email")(_check_email)


class SupportPersonPatch(StrictSchema):
    name: Name | None = None
    relationship: SupportPerson.Relationship | None = None
    email: Email | None = None
    phone: Phone | None = None
    may_contact: StrictBool | None = None
    notes: Notes | None = None

    _email = field_validator("email")(_check_email)


class SupportPersonOut(Schema):
    id: int
    participant_id: int
    name: str
    relationship: str
    email: str
    phone: str
    may_contact: bool
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class Message(Schema):
    error: str
    detail: str | list[dict] = Field(default="")
