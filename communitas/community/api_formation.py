"""Group formation under /api/v1/community/: form circles for a retreat (a run is kept with its
input and result), read a run, apply it. Coordinators and administrators only; another
organization's retreat or run answers 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from communitas.community import formation_services as services
from communitas.community.formation import FormationInputError
from communitas.community.models import FormationRun
from communitas.participants.schemas import Message
from communitas.programs.models import Retreat
from communitas.programs.permissions import can_manage_programs, require

router = Router(tags=["community"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 422: Message}


class FormationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    min_sizes: dict[int, int] = Field(default_factory=dict, description="circle id -> fewest members (default 1)")
    facilitators_per_circle: int = Field(1, ge=1, le=4)
    max_circles_per_facilitator: int = Field(1, ge=1, le=4)
    no_isolation: list[str] = []
    balance: list[str] = []
    weights: dict[str, int] = {}
    locks: dict[str, str] = Field(default_factory=dict, description="participant pseudonym -> 'c<circle id>'")
    time_limit_s: int = Field(10, ge=1, le=services.MAX_TIME_LIMIT_S)


class FormationRunOut(Schema):
    id: int
    retreat_id: int
    status: str
    applied_at: Any = None
    problem: dict[str, Any]
    result: dict[str, Any]


def _manager(request):
    return require(can_manage_programs, request.membership)


def _run(membership, run_id: int) -> FormationRun:
    run = FormationRun.objects.filter(organization_id=membership.organization_id, pk=run_id).first()
    if run is None:
        raise Http404("no such run")
    return run


@router.post("/community/retreats/{retreat_id}/formation-runs", response={201: FormationRunOut, **ERRORS})
def create_run(request, retreat_id: int, payload: FormationIn):
    membership = _manager(request)
    retreat = Retreat.objects.filter(organization_id=membership.organization_id, pk=retreat_id).first()
    if retreat is None:
        raise Http404("no such retreat")
    choices = payload.model_dump()
    time_limit = choices.pop("time_limit_s")
    if any(value < 0 for value in choices["weights"].values()):
        return Status(422, {"error": "validation_error", "detail": "weights are 0 or more"})
    try:
        run = services.formation_run_create(retreat=retreat, actor=request.user, time_limit_s=time_limit, **choices)
    except FormationInputError as exc:
        return Status(422, {"error": "validation_error", "detail": str(exc)})
    return Status(201, run)


@router.get("/community/formation-runs/{run_id}", response={200: FormationRunOut, **ERRORS})
def get_run(request, run_id: int):
    return _run(_manager(request), run_id)


@router.post("/community/formation-runs/{run_id}/apply", response={200: FormationRunOut, **ERRORS})
def apply_run(request, run_id: int):
    run = _run(_manager(request), run_id)
    try:
        return services.formation_run_apply(run=run, actor=request.user)
    except ValidationError as exc:
        return Status(409, {"error": "conflict", "detail": " ".join(exc.messages)})
