"""API for reflections under /api/v1/community/.

There is one route, and it answers only what ``reflections_visible_to`` lets the caller read:
reflections shared with the facilitators of the participant's circles or with the circle, when
the caller facilitates one of those circles. No route returns an ``only_me`` or withdrawn
reflection's text to anyone; participants read their own in their community space."""

import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from communitas.community import selectors
from communitas.community.permissions import can_read_reflections
from communitas.core.api import Pagination
from communitas.participants.schemas import Message
from communitas.programs.permissions import require

router = Router(tags=["community"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}


class ReflectionOut(Schema):
    id: int
    participant_id: int
    visibility: str
    body: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@router.get("/community/participants/{participant_id}/reflections", response={200: list[ReflectionOut], **ERRORS})
@paginate(Pagination)
def list_reflections(request, participant_id: int):
    """Reflections this participant shared with the caller, newest first. A peer supporter reaches
    only members of circles they facilitate (404 for anyone else, as on the page)."""
    membership = require(can_read_reflections, request.membership)
    participant = selectors.reflection_author_get_for_user(membership, participant_id)
    return selectors.reflections_of(participant, membership)
