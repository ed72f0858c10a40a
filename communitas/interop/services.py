"""Interop writes: every export or report leaves one ``ExportLog`` row and one audit entry."""

from __future__ import annotations

import hashlib

from django.db import transaction

from communitas.core.audit import audit_record
from communitas.interop.models import ExportLog


def export_log_record(
    *,
    organization_id: int,
    kind: str,
    via: str,
    actor,
    fields: list[str],
    rows: int,
    content: str | bytes,
    parameters: dict | None = None,
    k_achieved: int | None = None,
) -> ExportLog:
    """Log what left: kind, who, how (web, command line, API), which fields, how many rows, the
    protection parameters and a SHA-256 of the exact bytes handed out (no content is kept)."""
    data = content.encode() if isinstance(content, str) else content
    with transaction.atomic():
        log = ExportLog.objects.create(
            organization_id=organization_id,
            kind=kind,
            via=via,
            actor=actor,
            fields=list(fields),
            rows=rows,
            k_achieved=k_achieved,
            parameters=parameters or {},
            sha256=hashlib.sha256(data).hexdigest(),
        )
        audit_record(
            action=f"interop.{kind}.exported",
            actor=actor,
            organization_id=organization_id,
            obj=log,
            data={"via": via, "rows": rows, "fields": list(fields), **(parameters or {})},
        )
    return log
