"""Compliance under /api/v1/compliance/: rule packs (shipped and the organization's own), the
legal-status registry and the lawfulness question. Every active member reads; administrators and
coordinators add versions of their organization's pack; only the deployment's staff add registry
rows (a row changes the answer for every organization).

A client's 303 Client Data Form (Oregon SB 303) is read and recorded by whoever may view the
participant; reporting settings by coordinators and administrators."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Body, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool

from communitas.compliance import selectors, services
from communitas.compliance.legal_status import LegalStatusInputError, StatusRow
from communitas.compliance.models import ClientDataForm, LegalStatusRow, OrganizationRulePack, ReportingSettings
from communitas.compliance.permissions import (
    can_edit_legal_status,
    can_manage_reporting_settings,
    can_manage_rule_packs,
    can_record_client_data,
    can_view_compliance,
    require,
)
from communitas.compliance.rulepacks import ComplianceInputError, shipped_packs
from communitas.compliance.sb303 import ClientDataError
from communitas.participants.schemas import Message, Text
from communitas.participants.selectors import participant_get_for_user

router = Router(tags=["compliance"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Message}
# Any text but NUL, which PostgreSQL cannot store or compare (a 422 here, not a 500 there); an
# unknown code is still the registry's own answer.
Clean = Annotated[str, Text]


class RulePackOut(Schema):
    id: int | None  # None for a shipped pack
    kind: str  # shipped | organization
    jurisdiction: str
    name: str
    effective_from: datetime.date
    pack: dict[str, Any]


class LawfulnessQuery(Schema):
    jurisdiction: Clean
    substance: Clean
    framework: Clean
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
    jurisdiction: Clean
    substance: Clean
    statuses: list[Clean]
    frameworks: list[Clean] = []
    effective_from: datetime.date
    expires_on: datetime.date | None = None
    legal_basis: Clean
    source: Clean
    confidence: LegalStatusRow.Confidence = LegalStatusRow.Confidence.HIGH
    conditions: Clean = ""
    note: Clean = ""

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


def _has_nul(value: Any) -> bool:
    """Whether NUL hides anywhere in a JSON value: PostgreSQL stores none, in text or in jsonb."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
    if _has_nul(payload):
        return _invalid("a rule pack must not contain NUL characters")
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
def list_legal_status(request, substance: Clean | None = None):
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


# --- Oregon's 303 Client Data Form (SB 303) ---------------------------------------------------


class ClientDataIn(Schema):
    withheld: StrictBool
    answers: dict[str, Any] = {}  # field code -> a choice code, a list of codes, or a language tag
    collected_on: datetime.date | None = None  # default today

    model_config = ConfigDict(extra="forbid")


class ClientDataOut(Schema):
    participant_id: int
    on_file: bool
    id: int | None = None
    withheld: bool | None = None
    collected_on: datetime.date | None = None
    via: str | None = None
    recorded_at: datetime.datetime | None = None
    answers: dict[str, Any] | None = None  # empty when withheld


def _client_data_out(participant, form: ClientDataForm | None) -> dict:
    if form is None:
        return {"participant_id": participant.pk, "on_file": False}
    return {
        "participant_id": participant.pk,
        "on_file": True,
        "id": form.pk,
        "withheld": form.withheld,
        "collected_on": form.collected_on,
        "via": form.via,
        "recorded_at": form.created_at,
        "answers": form.answers,
    }


def _bad(detail: str):
    return Status(400, {"error": "invalid", "detail": detail})


@router.get("/compliance/participants/{participant_id}/client-data", response={200: ClientDataOut, **ERRORS})
def get_client_data(request, participant_id: int):
    """The participant's newest form (the one that counts); ``on_file`` false when there is none."""
    membership = require(can_record_client_data, request.membership)
    participant = participant_get_for_user(membership, participant_id)
    return _client_data_out(participant, selectors.client_data_newest(participant))


@router.post("/compliance/participants/{participant_id}/client-data", response={201: ClientDataOut, **ERRORS})
def record_client_data(request, participant_id: int, payload: ClientDataIn):
    """Record a new form. When ``withheld`` is true no answers are kept (and none are checked)."""
    membership = require(can_record_client_data, request.membership)
    participant = participant_get_for_user(membership, participant_id)
    if payload.collected_on is not None and payload.collected_on > timezone.localdate():
        return _bad("collected_on cannot be in the future")
    try:
        form = services.client_data_record(
            participant=participant,
            answers=payload.answers,
            withheld=payload.withheld,
            actor=request.user,
            via=ClientDataForm.Via.STAFF,
            collected_on=payload.collected_on,
        )
    except ClientDataError as exc:
        return _bad(str(exc))
    return Status(201, _client_data_out(participant, form))


# --- Reporting settings -------------------------------------------------------------------------


class ReportingSettingsIn(Schema):
    opt_out_scope: str  # everything | demographics
    threshold: int  # the small-cell threshold, 2 to 100

    model_config = ConfigDict(extra="forbid")


class ReportingSettingsOut(Schema):
    opt_out_scope: str
    threshold: int
    saved: bool  # false: the organization has saved none and the defaults apply


def _settings_out(row: ReportingSettings) -> dict:
    return {
        "opt_out_scope": row.sb303_opt_out_scope,
        "threshold": row.small_cell_threshold,
        "saved": row.pk is not None,
    }


@router.get("/compliance/reporting-settings", response={200: ReportingSettingsOut, **ERRORS})
def get_reporting_settings(request):
    membership = require(can_manage_reporting_settings, request.membership)
    return _settings_out(selectors.reporting_settings_get(membership.organization_id))


@router.put("/compliance/reporting-settings", response={200: ReportingSettingsOut, **ERRORS})
def put_reporting_settings(request, payload: ReportingSettingsIn):
    membership = require(can_manage_reporting_settings, request.membership)
    try:
        row = services.reporting_settings_set(
            organization=membership.organization,
            actor=request.user,
            opt_out_scope=payload.opt_out_scope,
            threshold=payload.threshold,
        )
    except ComplianceInputError as exc:
        return _bad(str(exc))
    return _settings_out(row)
