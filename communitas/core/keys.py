"""Field-key rotation: re-encrypt every encrypted column under the newest key."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from communitas.core.audit import audit_record
from communitas.core.fields import EncryptedMixin


def encrypted_fields_by_model() -> dict:
    found = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if names:
            found[model] = names
    return found


@transaction.atomic
def field_key_rotate(*, batch_size: int = 500) -> dict[str, int]:
    """Rewrite every encrypted value; returns rows rewritten per model label."""
    counts = {}
    for model, names in encrypted_fields_by_model().items():
        manager = model._base_manager
        n = 0
        for obj in manager.only("pk", *names).iterator(chunk_size=batch_size):
            manager.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in names})
            n += 1
        counts[model._meta.label_lower] = n
    audit_record(action="core.field_key.rotated", data={"rows": counts})
    return counts
