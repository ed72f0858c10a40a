"""Explicit API input and output shapes for facilitator profiles and credentials."""

import datetime
from typing import Annotated, cast

from django.utils import timezone
from ninja import Schema
from ninja.errors import ValidationError
from pydantic import Field, StrictBool, StrictInt, StringConstraints

from communitas.core.api import inline_choices
from communitas.facilitators import selectors
from communitas.facilitators.models import MAX_LANGUAGES, Credential
from communitas.participants.schemas import Date, Language, Name, StrictSchema, Text

Bio = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), Text]
Number = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), Text]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
Languages = Annotated[list[Language], Field(max_length=MAX_LANGUAGES)]


def changes_from(patch: Schema, nullable: frozenset[str] = frozenset()) -> dict:
    """The fields a PATCH sent; null only where the field may be empty."""
    changes = patch.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k not in nullable)
    if nulls:
        raise ValidationError(
            [{"loc": ["body", "payload", k], "msg": "null is not allowed", "type": "null"} for k in nulls]
        )
    return changes


class ProfileIn(StrictSchema):
    display_name: Name
    user_id: StrictInt | None = None
    languages: Languages = Field(default_factory=list)
    bio: Bio = ""
    active: StrictBool = True


class ProfilePatch(StrictSchema):
    display_name: Name | None = None
    user_id: StrictInt | None = None
    languages: Languages | None = None
    bio: Bio | None = None
    active: StrictBool | None = None


class ExpiryWarningOut(Schema):
    credential_id: int
    kind: str
    days_left: int
    level: str


class LicenceOut(Schema):
    jurisdiction: str
    licensed: bool
    gaps: list[str]
    medically_qualified: bool
    expiry_warnings: list[ExpiryWarningOut]


class ProfileOut(Schema):
    id: int
    user_id: int | None
    display_name: str
    languages: list[str]
    bio: str
    active: bool
    licence: LicenceOut
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_licence(obj, context) -> dict:
        """Today, in the caller's organization's jurisdiction (rules.py)."""
        jurisdiction = context["request"].organization.jurisdiction
        status = selectors.licence_status(obj, jurisdiction=jurisdiction, today=timezone.localdate())
        return {
            "jurisdiction": status.jurisdiction,
            "licensed": status.licensed,
            "gaps": list(status.gaps),
            "medically_qualified": status.medically_qualified,
            "expiry_warnings": [
                {
                    "credential_id": cast(Credential, w.credential).pk,
                    "kind": w.credential.kind,
                    "days_left": w.days_left,
                    "level": w.level,
                }
                for w in status.warnings
            ],
        }


class CredentialIn(StrictSchema):
    kind: Annotated[Credential.Kind, inline_choices(Credential.Kind)]
    number: Number = ""
    issuing_jurisdiction: Jurisdiction
    valid_from: Date
    valid_to: Date | None = None


class CredentialOut(Schema):
    id: int
    profile_id: int
    kind: str
    number: str
    issuing_jurisdiction: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    verified_by_id: int | None
    verified_at: datetime.datetime | None
    created_at: datetime.datetime
