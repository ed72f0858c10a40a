from __future__ import annotations

import datetime

from django.db import transaction

from communitas.accounts.models import User
from communitas.compliance.models import LegalStatusRow
from communitas.compliance.permissions import require_legal_status_editor
from communitas.core.audit import audit_record


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
