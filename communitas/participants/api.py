from ninja import Router, Status
from ninja.pagination import paginate

from communitas.core.api import Pagination
from communitas.participants import selectors, services
from communitas.participants.permissions import (
    require_participant_editor,
    require_participant_viewer,
)
from communitas.participants.schemas import (
    Message,
    ParticipantIn,
    ParticipantOut,
    ParticipantPatch,
    SupportPersonIn,
    SupportPersonOut,
    SupportPersonPatch,
    changes_from,
)

router = Router(tags=["participants"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}


def _viewer(request):
    return require_participant_viewer(request.membership)


def _editor(request):
    return require_participant_editor(request.membership)


@router.get("/participants", response={200: list[ParticipantOut], **ERRORS})
@paginate(Pagination)
def list_participants(request, q: str = ""):
    # NUL cannot be sent to PostgreSQL (the pseudonym lookup would fail with a 500).
    return selectors.participants_for_membership(_viewer(request), q.replace("\x00", "")[:200])


@router.post("/participants", response={201: ParticipantOut, **ERRORS})
def create_participant(request, payload: ParticipantIn):
    membership = _editor(request)
    participant = services.participant_create(
        organization=membership.organization, actor=request.user, **payload.model_dump()
    )
    return Status(201, participant)


@router.get("/participants/{participant_id}", response={200: ParticipantOut, **ERRORS})
def get_participant(request, participant_id: int):
    return selectors.participant_get_for_user(_viewer(request), participant_id)


@router.patch("/participants/{participant_id}", response={200: ParticipantOut, **ERRORS})
def update_participant(request, participant_id: int, payload: ParticipantPatch):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    _editor(request)
    return services.participant_update(participant=participant, actor=request.user, **changes_from(payload))


@router.delete("/participants/{participant_id}", response={204: None, **ERRORS})
def archive_participant(request, participant_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    _editor(request)
    services.participant_archive(participant=participant, actor=request.user)
    return Status(204, None)


@router.get("/participants/{participant_id}/support-persons", response={200: list[SupportPersonOut], **ERRORS})
@paginate(Pagination)
def list_support_persons(request, participant_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    return selectors.support_persons_for_participant(participant)


@router.post("/participants/{participant_id}/support-persons", response={201: SupportPersonOut, **ERRORS})
def create_support_person(request, participant_id: int, payload: SupportPersonIn):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    _editor(request)
    person = services.support_person_create(participant=participant, actor=request.user, **payload.model_dump())
    return Status(201, person)


@router.get("/participants/{participant_id}/support-persons/{person_id}", response={200: SupportPersonOut, **ERRORS})
def get_support_person(request, participant_id: int, person_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    return selectors.support_person_get(participant, person_id)


@router.patch("/participants/{participant_id}/support-persons/{person_id}", response={200: SupportPersonOut, **ERRORS})
def update_support_person(request, participant_id: int, person_id: int, payload: SupportPersonPatch):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    person = selectors.support_person_get(participant, person_id)
    _editor(request)
    return services.support_person_update(person=person, actor=request.user, **changes_from(payload))


@router.delete("/participants/{participant_id}/support-persons/{person_id}", response={204: None, **ERRORS})
def archive_support_person(request, participant_id: int, person_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    person = selectors.support_person_get(participant, person_id)
    _editor(request)
    services.support_person_archive(person=person, actor=request.user)
    return Status(204, None)
