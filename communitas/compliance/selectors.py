from __future__ import annotations

import datetime

from communitas.compliance.legal_status import Lawfulness, StatusRow, evaluate, shipped_rows
from communitas.compliance.models import LegalStatusRow


def _as_status_row(row: LegalStatusRow) -> StatusRow:
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
    return shipped + [_as_status_row(row) for row in registry]


def lawfulness_get(*, jurisdiction: str, substance: str, framework: str, on: datetime.date) -> Lawfulness:
    """``legal_status.evaluate`` over the shipped and registry rows."""
    rows = legal_status_rows(substance=substance)
    return evaluate(jurisdiction=jurisdiction, substance=substance, framework=framework, on=on, rows=rows)
