from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.http import Http404

from communitas.compliance.legal_status import Lawfulness, StatusRow, evaluate, shipped_rows
from communitas.compliance.models import ClientDataForm, LegalStatusRow, OrganizationRulePack, ReportingSettings
from communitas.compliance.rulepacks import (
    JURISDICTION,
    RulePack,
    UnknownJurisdiction,
    ancestors,
    has_shipped_pack,
    resolve_pack,
)


def as_status_row(row: LegalStatusRow) -> StatusRow:
    return StatusRow(
        id=f"registry-{row.pk}",
        jurisdiction=row.jurisdiction,
        substance=row.substance,
        statuses=row.statuses,
        frameworks=row.frameworks,
        effective_from=row.effective_from,
        expires_on=row.expires_on,
        legal_basis=row.legal_basis,
        source=row.source,
        confidence=row.confidence,  # type: ignore[arg-type]  # a Confidence choice
        conditions=row.conditions,
        note=row.note,
        origin="registry",
        seq=row.pk,
    )


def legal_status_rows(*, substance: str | None = None) -> list[StatusRow]:
    """The shipped rows and the registry rows together (one query)."""
    registry = LegalStatusRow.objects.order_by("pk")
    shipped = list(shipped_rows())
    if substance is not None:
        registry = registry.filter(substance=substance)
        shipped = [row for row in shipped if row.substance == substance]
    return shipped + [as_status_row(row) for row in registry]


def lawfulness_get(*, jurisdiction: str, substance: str, framework: str, on: datetime.date) -> Lawfulness:
    """``legal_status.evaluate`` over the shipped and registry rows."""
    rows = legal_status_rows(substance=substance)
    return evaluate(jurisdiction=jurisdiction, substance=substance, framework=framework, on=on, rows=rows)


def organization_rule_packs(organization_id: int) -> QuerySet[OrganizationRulePack]:
    """Every version of the organization's own packs, newest first within a jurisdiction."""
    return OrganizationRulePack.objects.filter(organization_id=organization_id).order_by(
        "jurisdiction", "-effective_from", "-pk"
    )


def organization_rule_pack_get(organization_id: int, pack_id: int) -> OrganizationRulePack:
    pack = OrganizationRulePack.objects.filter(organization_id=organization_id, pk=pack_id).first()
    if pack is None:
        raise Http404("no such rule pack")
    return pack


def organization_rule_pack(
    organization_id: int, jurisdiction: str, *, on: datetime.date | None = None
) -> OrganizationRulePack | None:
    """The organization's version in effect on ``on`` (default: the newest) for the jurisdiction
    or, failing that, its nearest parent (a US-CO pack covers US-CO-DEN)."""
    if not JURISDICTION.fullmatch(jurisdiction or ""):
        return None
    for code in ancestors(jurisdiction):
        versions = OrganizationRulePack.objects.filter(organization_id=organization_id, jurisdiction=code)
        if on is not None:
            versions = versions.filter(effective_from__lte=on)
        newest = versions.order_by("-effective_from", "-pk").first()
        if newest is not None:
            return newest
    return None


def rule_pack_for(*, organization_id: int, jurisdiction: str, on: datetime.date | None = None) -> RulePack:
    """The pack that governs the organization's sessions in ``jurisdiction`` on ``on``: the
    shipped pack where there is one, else the organization's own. Raises UnknownJurisdiction with
    what to do when there is neither."""
    try:
        return resolve_pack(jurisdiction, on=on)
    except UnknownJurisdiction as exc:
        if has_shipped_pack(jurisdiction):  # a shipped pack exists but not yet in effect: no substitute
            raise
        own = organization_rule_pack(organization_id, jurisdiction, on=on)
        if own is None:
            raise UnknownJurisdiction(
                f"{exc} An administrator or coordinator sets one under Compliance, Rule packs."
            ) from None
        return own.rule_pack()


def organization_documents(*, organization_id: int, jurisdiction: str, on: datetime.date | None = None) -> list[dict]:
    """Documents the organization's own pack requires (empty where the pack is shipped or unset)."""
    if has_shipped_pack(jurisdiction):
        return []
    own = organization_rule_pack(organization_id, jurisdiction, on=on)
    if own is None:
        return []
    pack = own.rule_pack()
    return [{"kind": d.kind, "label": d.label, "source": pack.cite(d.source)} for d in pack.documents]


def client_data_newest(participant) -> ClientDataForm | None:
    """The participant's newest 303 Client Data Form (the one that counts), or None."""
    return (
        ClientDataForm.objects.filter(organization_id=participant.organization_id, participant=participant)
        .select_related("recorded_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def reporting_settings_get(organization_id: int) -> ReportingSettings:
    """The organization's reporting settings, or the defaults (unsaved) when it has set none."""
    row = ReportingSettings.objects.filter(organization_id=organization_id).first()
    return row if row is not None else ReportingSettings(organization_id=organization_id)
