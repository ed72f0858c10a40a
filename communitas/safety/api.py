from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import ConfigDict

from communitas.participants.schemas import Message
from communitas.safety.screening.engine import ScreeningInputError, screen
from communitas.safety.screening.schema import Answers
from communitas.safety.screening_permissions import require_screening_viewer

router = Router(tags=["safety"])
ERRORS = {400: Message, 401: Message, 403: Message, 422: Message}


class ScreenIn(Schema):
    model_config = ConfigDict(extra="forbid")
    substance: str
    jurisdiction: str
    answers: Answers


class ReasonOut(Schema):
    rule: str
    severity: str
    explanation: str
    source: str
    overridable: bool
    escalate: bool


class ScreenOut(Schema):
    outcome: str
    reasons: list[ReasonOut]
    escalate: bool
    rules_version: str
    unrecognised_medications: list[str]


@router.post("/screen", response={200: ScreenOut, **ERRORS})
def screen_answers(request, payload: ScreenIn):
    """Run the screening rules over answers without storing anything (decision support)."""
    require_screening_viewer(request.membership)
    try:
        result = screen(payload.answers, substance=payload.substance, jurisdiction=payload.jurisdiction)
    except ScreeningInputError as exc:
        raise HttpError(422, str(exc)) from None
    return result.as_dict()
