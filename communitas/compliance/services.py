from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction

from communitas.accounts.models import Membership, Organization, User
from communitas.compliance.models import LegalStatusRow, OrganizationRulePack
from communitas.compliance.permissions import can_manage_rule_packs, require_legal_status_editor
from communitas.compliance.rulepacks import ComplianceInputError, has_shipped_pack, organization_pack
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
