from django.core.exceptions import ValidationError
from ninja import Router, Status
from ninja.pagination import paginate

from communitas.core.api import Pagination
from communitas.facilitators import selectors, services
from communitas.facilitators.permissions import (
    require_facilitator_manager,
    require_facilitator_viewer,
    require_profile_viewer,
)
from communitas.facilitators.schemas import (
    CredentialIn,
    CredentialOut,
    ProfileIn,
    ProfileOut,
    ProfilePatch,
    changes_from,
)
from communitas.participants.schemas import Message

router = Router(tags=["facilitators"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}


def _viewer(request):
    return require_facilitator_viewer(request.membership)


def _manager(request):
    return require_facilitator_manager(request.membership)


def _profile(request, profile_id: int):
    """The profile if the caller may see it: 404 for another organization, 403 for a colleague's."""
    membership = _viewer(request)
    return require_profile_viewer(membership, selectors.profile_get_for_user(membership, profile_id))


def _linked_user(membership, fields: dict) -> dict:
    """Swap ``user_id`` for the member it names; a non-member is a validation error, not a 404."""
    if "user_id" not in fields:
        return fields
    user_id = fields.pop("user_id")
    user = None if user_id is None else selectors.member_get(membership.organization_id, user_id)
    if user_id is not None and user is None:
        raise ValidationError({"user_id": "Choose a member of this organization."})
    return {**fields, "user": user}


@router.get("/facilitators", response={200: list[ProfileOut], **ERRORS})
@paginate(Pagination)
def list_facilitators(request):
    return selectors.facilitators_for_membership(_viewer(request))


@router.post("/facilitators", response={201: ProfileOut, **ERRORS})
def create_facilitator(request, payload: ProfileIn):
    membership = _manager(request)
    fields = _linked_user(membership, payload.model_dump())
    profile = services.profile_create(organization=membership.organization, actor=request.user, **fields)
    return Status(201, selectors.profile_get_for_user(membership, profile.pk))


@router.get("/facilitators/{profile_id}", response={200: ProfileOut, **ERRORS})
def get_facilitator(request, profile_id: int):
    return _profile(request, profile_id)


@router.patch("/facilitators/{profile_id}", response={200: ProfileOut, **ERRORS})
def update_facilitator(request, profile_id: int, payload: ProfilePatch):
    profile = _profile(request, profile_id)
    membership = _manager(request)
    changes = _linked_user(membership, changes_from(payload, nullable=frozenset({"user_id"})))
    services.profile_update(profile=profile, actor=request.user, **changes)
    return selectors.profile_get_for_user(membership, profile_id)


@router.get("/facilitators/{profile_id}/credentials", response={200: list[CredentialOut], **ERRORS})
@paginate(Pagination)
def list_credentials(request, profile_id: int):
    return selectors.credentials_for_profile(_profile(request, profile_id))


@router.post("/facilitators/{profile_id}/credentials", response={201: CredentialOut, **ERRORS})
def add_credential(request, profile_id: int, payload: CredentialIn):
    profile = selectors.profile_get_for_user(_viewer(request), profile_id)
    _manager(request)
    credential = services.credential_add(profile=profile, actor=request.user, **payload.model_dump())
    return Status(201, credential)
