from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction

from communitas.accounts.models import Membership, Organization, User
from communitas.compliance.models import ClientDataForm, LegalStatusRow, OrganizationRulePack, ReportingSettings
from communitas.compliance.permissions import can_manage_rule_packs, require_legal_status_editor
from communitas.compliance.rulepacks import ComplianceInputError, has_shipped_pack, organization_pack
from communitas.compliance.sb303 import ClientDataError, clean_answers
from communitas.core.audit import audit_record

OPTIONAL_SECTIONS = ("group_cap", "dose_limit", "duration", "preparation_window")


@transaction.atomic
def legal_status_row_add(
    *,
    actor: User,
    jurisdiction: str,
    substance: str,
    statuses: list[str],
    effective_from: datetime.date,
    legal_basis: str,
    source: str,
    expires_on: datetime.date | None = None,
    frameworks: list[str] | None = None,
    confidence: str = LegalStatusRow.Confidence.HIGH,
    conditions: str = "",
    note: str = "",
) -> LegalStatusRow:
    """Add a registry row. It extends the shipped rows, or overrides one: the newest row in effect
    of a layer wins (a registry row wins a tie with a shipped row of the same date)."""
    require_legal_status_editor(actor)
    row = LegalStatusRow(
        jurisdiction=jurisdiction,
        substance=substance,
        statuses=statuses,
        frameworks=frameworks or [],
        effective_from=effective_from,
        expires_on=expires_on,
        legal_basis=legal_basis,
        source=source,
        confidence=confidence,
        conditions=conditions,
        note=note,
        created_by=actor,
    )
    row.full_clean()
    row.save()
    given = ["jurisdiction", "substance", "statuses", "effective_from", "legal_basis", "source", "confidence"]
    optional = {"expires_on": expires_on, "frameworks": frameworks, "conditions": conditions, "note": note}
    audit_record(
        action="compliance.legal_status_row.added",
        actor=actor,
        organization_id=None,
        obj=row,
        data={
            "jurisdiction": jurisdiction,
            "substance": substance,
            "fields": given + [name for name, value in optional.items() if value],
        },
    )
    return row


def _require_rule_pack_editor(actor: User, organization: Organization) -> None:
    membership = Membership.objects.filter(user=actor, organization=organization, is_active=True).first()
    if not actor.is_active or not can_manage_rule_packs(membership):
        raise PermissionDenied


@transaction.atomic
def organization_rule_pack_add(*, actor: User, organization: Organization, data: dict) -> OrganizationRulePack:
    """Save a new version of the organization's own rule pack for a jurisdiction.

    ``data`` is a pack in the shape ``rulepacks.organization_pack`` reads. Refused (with a
    ComplianceInputError, nothing saved) when it is malformed, or when the jurisdiction has a
    shipped pack: an organization's numbers never replace the law's (regulatory.md 1.4; 2 says
    Colorado's ratios were not found, so Colorado organizations bring their own)."""
    _require_rule_pack_editor(actor, organization)
    if not isinstance(data, dict):
        raise ComplianceInputError("a rule pack is a JSON object")
    pack = organization_pack(data)
    if has_shipped_pack(pack.jurisdiction):
        raise ComplianceInputError(
            f"{pack.jurisdiction} has a shipped rule pack from its regulations; an organization pack cannot replace it"
        )
    row = OrganizationRulePack(
        organization=organization,
        jurisdiction=pack.jurisdiction,
        effective_from=pack.effective_from,
        name=pack.name,
        pack=pack.model_dump(mode="json", exclude={"kind"}),
        created_by=actor,
    )
    row.full_clean()
    row.save()
    audit_record(
        action="compliance.rule_pack.added",
        actor=actor,
        organization_id=organization.pk,
        obj=row,
        data={
            "jurisdiction": pack.jurisdiction,
            "effective_from": pack.effective_from.isoformat(),
            "ratio_bands": len(pack.group_ratio.bands),
            "documents": [d.kind for d in pack.documents],
            "sections": [name for name in OPTIONAL_SECTIONS if getattr(pack, name) is not None],
        },
    )
    return row


def client_data_record(
    *,
    participant,
    answers: dict,
    withheld: bool,
    actor: User | None,
    via: str = ClientDataForm.Via.STAFF,
    collected_on: datetime.date | None = None,
) -> ClientDataForm:
    """Record one 303 Client Data Form (a new row; the newest counts). A client who withholds their
    data keeps no answers on file at all. Bad answers raise ``ClientDataError``; nothing is saved."""
    clean = {} if withheld else clean_answers(answers)
    if via not in ClientDataForm.Via.values:
        raise ClientDataError(f"via must be one of {', '.join(ClientDataForm.Via.values)}")
    if collected_on is not None and collected_on > datetime.date.today():
        raise ClientDataError("the form cannot be dated in the future")
    if actor is not None:  # staff record it; the participant's own link records with no actor
        from communitas.participants.permissions import can_view_participants

        membership = Membership.objects.filter(
            user=actor, organization_id=participant.organization_id, is_active=True
        ).first()
        if not can_view_participants(membership):
            raise PermissionDenied
    with transaction.atomic():
        form = ClientDataForm.objects.create(
            organization_id=participant.organization_id,
            participant=participant,
            withheld=withheld,
            answers=clean,
            collected_on=collected_on or datetime.date.today(),
            via=via,
            recorded_by=actor,
        )
        audit_record(
            action="compliance.client_data.recorded",
            actor=actor,
            organization_id=participant.organization_id,
            obj=form,
            data={"participant": participant.pk, "withheld": withheld, "fields": sorted(clean), "via": via},
        )
    return form


def reporting_settings_set(*, organization: Organization, actor: User, opt_out_scope: str, threshold: int):
    """Set how regulator reports are built (coordinators and administrators)."""
    membership = Membership.objects.filter(user=actor, organization=organization, is_active=True).first()
    if membership is None or membership.role not in (Membership.Role.COORDINATOR, Membership.Role.ADMIN):
        raise PermissionDenied
    if opt_out_scope not in ReportingSettings.OptOutScope.values:
        raise ComplianceInputError(f"opt-out scope must be one of {', '.join(ReportingSettings.OptOutScope.values)}")
    if not 2 <= threshold <= 100:
        raise ComplianceInputError("the small-cell threshold must be between 2 and 100")
    with transaction.atomic():
        row, _created = ReportingSettings.objects.update_or_create(
            organization=organization,
            defaults={"sb303_opt_out_scope": opt_out_scope, "small_cell_threshold": threshold},
        )
        audit_record(
            action="compliance.reporting_settings.set",
            actor=actor,
            organization_id=organization.pk,
            obj=row,
            data={"opt_out_scope": opt_out_scope, "threshold": threshold},
        )
    return row
