"""Compliance under /api/v1/compliance/: rule packs (shipped and the organization's own), the
legal-status registry and the lawfulness question. Every active member reads; administrators and
coordinators add versions of their organization's pack; only the deployment's staff add registry
rows (a row changes the answer for every organization)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Body, Query, Router, Schema, Status
from pydantic import ConfigDict

from communitas.compliance import selectors, services
from communitas.compliance.legal_status import LegalStatusInputError, StatusRow
from communitas.compliance.models import LegalStatusRow, OrganizationRulePack
from communitas.compliance.permissions import can_edit_legal_status, can_manage_rule_packs, can_view_compliance, require
from communitas.compliance.rulepacks import ComplianceInputError, shipped_packs
from communitas.participants.schemas import Message

router = Router(tags=["compliance"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}


class RulePackOut(Schema):
    id: int | None  # None for a shipped pack
    kind: str  # shipped | organization
    jurisdiction: str
    name: str
    effective_from: datetime.date
    pack: dict[str, Any]


class LawfulnessQuery(Schema):
    jurisdiction: str
    substance: str
    framework: str
    on: datetime.date | None = None


class LegalStatusRowOut(Schema):
    id: str
    origin: str
    jurisdiction: str
    substance: str
    statuses: list[str]
    frameworks: list[str]
    effective_from: datetime.date | None
    expires_on: datetime.date | None
    legal_basis: str
    source: str
    confidence: str
    conditions: str
    note: str


class LegalStatusRowIn(Schema):
    jurisdiction: str
    substance: str
    statuses: list[str]
    frameworks: list[str] = []
    effective_from: datetime.date
    expires_on: datetime.date | None = None
    legal_basis: str
    source: str
    confidence: LegalStatusRow.Confidence = LegalStatusRow.Confidence.HIGH
    conditions: str = ""
    note: str = ""

    model_config = ConfigDict(extra="forbid")


def _own(row: OrganizationRulePack) -> dict:
    return {
        "id": row.pk,
        "kind": "organization",
        "jurisdiction": row.jurisdiction,
        "name": row.name,
        "effective_from": row.effective_from,
        "pack": row.pack,
    }


def _invalid(message: str):
    return Status(422, {"error": "validation_error", "detail": message})


@router.get("/compliance/rule-packs", response={200: list[RulePackOut], **ERRORS})
def list_rule_packs(request):
    """The shipped packs, then every version of the organization's own packs."""
    membership = require(can_view_compliance, request.membership)
    shipped = [
        {
            "id": None,
            "kind": "shipped",
            "jurisdiction": pack.jurisdiction,
            "name": pack.name,
            "effective_from": pack.effective_from,
            "pack": pack.model_dump(mode="json"),
        }
        for pack in shipped_packs().packs
    ]
    return shipped + [_own(row) for row in selectors.organization_rule_packs(membership.organization_id)]


@router.post("/compliance/rule-packs", response={201: RulePackOut, **ERRORS})
def add_rule_pack(request, payload: Body[dict[str, Any]]):
    """A new version of the organization's own pack (the shape of ``data/rulepacks.json``'s packs,
    without ``kind``). Refused for a jurisdiction with a shipped pack."""
    membership = require(can_manage_rule_packs, request.membership)
    try:
        row = services.organization_rule_pack_add(
            actor=request.user, organization=membership.organization, data=payload
        )
    except ComplianceInputError as exc:
        return _invalid(str(exc))
    return Status(201, _own(row))


@router.get("/compliance/rule-packs/{pack_id}", response={200: RulePackOut, **ERRORS})
def get_rule_pack(request, pack_id: int):
    membership = require(can_view_compliance, request.membership)
    return _own(selectors.organization_rule_pack_get(membership.organization_id, pack_id))


@router.get("/compliance/lawfulness", response={200: dict[str, Any], **ERRORS})
def lawfulness(request, query: Query[LawfulnessQuery]):
    """Is ``framework`` lawful for ``substance`` in ``jurisdiction`` on ``on`` (default today)?
    The answer lists every layer consulted."""
    require(can_view_compliance, request.membership)
    try:
        answer = selectors.lawfulness_get(
            jurisdiction=query.jurisdiction,
            substance=query.substance,
            framework=query.framework,
            on=query.on or datetime.date.today(),
        )
    except LegalStatusInputError as exc:
        return _invalid(str(exc))
    return answer.as_dict()


def _row_out(row: StatusRow) -> dict:
    return {
        "id": row.id,
        "origin": row.origin,
        "jurisdiction": row.jurisdiction,
        "substance": row.substance,
        "statuses": list(row.statuses),
        "frameworks": list(row.frameworks),
        "effective_from": row.effective_from,
        "expires_on": row.expires_on,
        "legal_basis": row.legal_basis,
        "source": row.source,
        "confidence": row.confidence,
        "conditions": row.conditions,
        "note": row.note,
    }


@router.get("/compliance/legal-status", response={200: list[LegalStatusRowOut], **ERRORS})
def list_legal_status(request, substance: str | None = None):
    require(can_view_compliance, request.membership)
    return [_row_out(row) for row in selectors.legal_status_rows(substance=substance)]


@router.post("/compliance/legal-status", response={201: LegalStatusRowOut, **ERRORS})
def add_legal_status_row(request, payload: LegalStatusRowIn):
    require(can_view_compliance, request.membership)
    if not can_edit_legal_status(request.user):
        raise PermissionDenied
    try:
        row = services.legal_status_row_add(actor=request.user, **payload.model_dump())
    except ValidationError as exc:
        return _invalid("; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()))
    return Status(201, _row_out(selectors.as_status_row(row)))
