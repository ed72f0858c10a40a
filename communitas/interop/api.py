"""FHIR R4 read API for outcomes under /api/v1/fhir/ (the same roles as the outcomes pages)."""

import re

from django.conf import settings
from django.http import Http404
from ninja import Router

from communitas.interop import fhir, selectors
from communitas.outcomes.definitions import Instrument, InstrumentError
from communitas.outcomes.permissions import require_outcomes_viewer
from communitas.outcomes.registry import instrument_for, instruments_for
from communitas.participants.schemas import Message
from communitas.participants.selectors import participant_get_for_user

router = Router(tags=["fhir"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}
CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")  # definitions.Code; anything else (NUL included) never reaches SQL


def _base_url() -> str:
    return settings.COMMUNITAS_BASE_URL.rstrip("/") + "/api/v1"


def _viewer(request):
    return require_outcomes_viewer(request.membership)


def _instrument(organization_id: int, code: str) -> Instrument:
    if not CODE.fullmatch(code):
        raise Http404("no such questionnaire")
    try:
        return instrument_for(organization_id, code)
    except InstrumentError:
        raise Http404("no such questionnaire") from None


def _searchset(resources: list[dict]) -> dict:
    return fhir.bundle(resources, "searchset", base_url=_base_url())


@router.get("/Questionnaire", response={200: dict, **ERRORS})
def list_questionnaires(request):
    membership = _viewer(request)
    instruments = instruments_for(membership.organization_id).values()
    return _searchset([fhir.questionnaire(i, _base_url()) for i in instruments])


@router.get("/Questionnaire/{code}", response={200: dict, **ERRORS})
def get_questionnaire(request, code: str):
    membership = _viewer(request)
    return fhir.questionnaire(_instrument(membership.organization_id, code), _base_url())


@router.get("/QuestionnaireResponse", response={200: dict, **ERRORS})
def search_questionnaire_responses(request, patient: int):
    membership = _viewer(request)
    rows = selectors.responses_for_participant(membership, participant_get_for_user(membership, patient))
    instruments = instruments_for(membership.organization_id)
    return _searchset([fhir.questionnaire_response(r, instruments[r["instrument"]], _base_url()) for r in rows])


@router.get("/QuestionnaireResponse/{response_id}", response={200: dict, **ERRORS})
def get_questionnaire_response(request, response_id: int):
    membership = _viewer(request)
    row = selectors.response_get_for_user(membership, response_id)
    return fhir.questionnaire_response(row, _instrument(membership.organization_id, row["instrument"]), _base_url())


@router.get("/Observation", response={200: dict, **ERRORS})
def search_observations(request, patient: int):
    membership = _viewer(request)
    rows = selectors.scores_for_participant(membership, participant_get_for_user(membership, patient))
    instruments = instruments_for(membership.organization_id)
    return _searchset([fhir.observation(r, instruments[r["instrument"]]) for r in rows])


@router.get("/Observation/{score_id}", response={200: dict, **ERRORS})
def get_observation(request, score_id: int):
    membership = _viewer(request)
    row = selectors.score_get_for_user(membership, score_id)
    return fhir.observation(row, _instrument(membership.organization_id, row["instrument"]))
