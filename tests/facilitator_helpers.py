"""Helpers for the facilitator tests: profiles made through the services, and database snapshots."""

from datetime import timedelta

from django.utils import timezone

from communitas.core.models import AuditEntry
from communitas.facilitators import services
from communitas.facilitators.models import Competency, Credential, FacilitatorProfile, SupervisionEntry, Training


def make_profile(organization, actor, **overrides) -> FacilitatorProfile:
    fields = {"display_name": "Ana Lucía Ramos", "languages": ["es", "en"], "bio": "Hospice chaplain."}
    fields.update(overrides)
    return services.profile_create(organization=organization, actor=actor, **fields)


def add_credential(profile, actor, *, kind="oregon_facilitator_license", jurisdiction="US-OR", days_left=300, **kw):
    today = timezone.localdate()
    fields = {
        "kind": kind,
        "number": "PSF-000123",
        "issuing_jurisdiction": jurisdiction,
        "valid_from": today - timedelta(days=30),
        "valid_to": None if days_left is None else today + timedelta(days=days_left),
    }
    fields.update(kw)
    return services.credential_add(profile=profile, actor=actor, **fields)


def row(obj) -> dict:
    fresh = type(obj).objects.get(pk=obj.pk)
    return {field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields}


def snapshot(*objs) -> dict:
    """Row counts of everything a facilitator write touches, plus the full rows of ``objs``."""
    return {
        "profiles": FacilitatorProfile.objects.count(),
        "credentials": sorted(Credential.objects.values_list("pk", "verified_at")),
        "trainings": Training.objects.count(),
        "competencies": Competency.objects.count(),
        "supervision": SupervisionEntry.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
        "rows": [row(obj) for obj in objs],
    }
