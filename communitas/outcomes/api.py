import re

from django.urls import reverse
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from communitas.core.api import Pagination
from communitas.outcomes import selectors, services
from communitas.outcomes.definitions import InstrumentError
from communitas.outcomes.links import token_for
from communitas.outcomes.permissions import require_assessment_manager, require_outcomes_viewer
from communitas.outcomes.registry import instrument_for, instruments_for
from communitas.outcomes.schedules import ScheduleError
from communitas.outcomes.schemas import (
    AssessmentOut,
    InstrumentSummary,
    LinkOut,
    ResponseIn,
    ScheduleIn,
    ScheduleOut,
    ScoreOut,
)
from communitas.outcomes.scoring import ScoringError
from communitas.participants.schemas import Message
from communitas.participants.selectors import participant_get_for_user

router = Router(tags=["outcomes"])
CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}


@router.get("/instruments", response={200: list[InstrumentSummary], **ERRORS})
def list_instruments(request):
    membership = require_outcomes_viewer(request.membership)
    return [
        {
            "code": i.code,
            "name": i.name,
            "version": i.version,
            "languages": i.languages,
            "item_text_included": i.licence.item_text_included,
            "items": len(i.items),
        }
        for i in instruments_for(membership.organization_id).values()
    ]


@router.get("/instruments/{code}", response={200: dict, **ERRORS})
def get_instrument(request, code: str):
    membership = require_outcomes_viewer(request.membership)
    if not CODE.fullmatch(code):
        raise HttpError(404, "No such instrument.")
    try:
        return instrument_for(membership.organization_id, code).model_dump(mode="json")
    except InstrumentError:
        raise HttpError(404, "No such instrument.") from None


def _assessment_out(assessment, status: str) -> dict:
    response = getattr(assessment, "response", None) if status == "completed" else None
    score = response.score if response is not None else None
    return {
        "id": assessment.pk,
        "instrument_code": assessment.instrument_code,
        "timepoint": assessment.timepoint,
        "due_on": assessment.due_on,
        "opens_on": assessment.opens_on,
        "closes_on": assessment.closes_on,
        "status": status,
        "total": score.total if score else None,
        "band": (score.band or None) if score else None,
        "flags": score.flags if score else [],
        "submitted_at": response.submitted_at if response else None,
    }


@router.get("/participants/{participant_id}/assessments", response={200: list[AssessmentOut], **ERRORS})
@paginate(Pagination)
def list_assessments(request, participant_id: int):
    participant = participant_get_for_user(require_outcomes_viewer(request.membership), participant_id)
    return [_assessment_out(a, s) for a, s in selectors.with_status(selectors.participant_assessments(participant))]


@router.post("/assessments/{assessment_id}/links", response={201: LinkOut, **ERRORS})
def create_link(request, assessment_id: int):
    assessment = selectors.assessment_get_for_user(require_outcomes_viewer(request.membership), assessment_id)
    require_assessment_manager(request.membership)
    link = services.assessment_link_create(assessment=assessment, actor=request.user)
    url = request.build_absolute_uri(reverse("outcomes_public:form", args=[token_for(link)]))
    return Status(201, {"url": url, "expires_at": link.expires_at})


@router.post("/assessments/{assessment_id}/response", response={200: ScoreOut, 201: ScoreOut, **ERRORS})
def enter_response(request, assessment_id: int, payload: ResponseIn):
    """Staff enter answers given on paper. A second call returns the first response unchanged (200)."""
    assessment = selectors.assessment_get_for_user(require_outcomes_viewer(request.membership), assessment_id)
    require_assessment_manager(request.membership)
    try:
        response, created = services.response_submit(
            assessment=assessment,
            answers=payload.answers,
            language=payload.language,
            source="staff",
            submission_id=payload.submission_id,
            entered_by=request.user,
        )
    except services.IncompleteResponse as exc:
        raise HttpError(422, f"Unanswered required items: {', '.join(exc.missing)}.") from None
    except ScoringError as exc:
        raise HttpError(422, str(exc)) from None
    score = response.score
    body = {
        "response_id": response.pk,
        "instrument": response.instrument_code,
        "complete": score.complete,
        "total": score.total,
        "band": score.band or None,
        "subscales": score.subscales,
        "flags": score.flags,
        "extras": score.extras,
    }
    return Status(201 if created else 200, body)


@router.get("/programs/{program_id}/schedules", response={200: list[ScheduleOut], **ERRORS})
def list_schedules(request, program_id: int):
    program = selectors.program_get_for_user(require_outcomes_viewer(request.membership), program_id)
    return list(selectors.program_schedules(program))


@router.put("/programs/{program_id}/schedules/{code}", response={200: ScheduleOut, **ERRORS})
def set_schedule(request, program_id: int, code: str, payload: ScheduleIn):
    """Give ``code`` at these timepoints (offsets and windows in days from the administration session)."""
    program = selectors.program_get_for_user(require_outcomes_viewer(request.membership), program_id)
    require_assessment_manager(request.membership)
    if not CODE.fullmatch(code):
        raise HttpError(404, "No such instrument.")
    timepoints = [tp.model_dump() for tp in payload.timepoints] if payload.timepoints is not None else None
    try:
        return services.schedule_set(program=program, instrument_code=code, actor=request.user, timepoints=timepoints)
    except InstrumentError:
        raise HttpError(404, "No such instrument.") from None
    except ScheduleError as exc:
        raise HttpError(422, str(exc)) from None
