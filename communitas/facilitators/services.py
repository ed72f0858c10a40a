"""Writes for facilitator profiles and their records. Every function is atomic, re-checks that
the actor manages facilitators in that organization, validates the whole row before saving, and
writes an audit entry with codes and field names only (never names, numbers or notes)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitas.accounts.models import Membership, Organization, User
from communitas.core.audit import audit_record
from communitas.facilitators.models import Competency, Credential, FacilitatorProfile, SupervisionEntry, Training
from communitas.facilitators.permissions import FACILITATOR_MANAGERS

PROFILE_FIELDS = frozenset({"user", "display_name", "languages", "bio", "active"})
CREDENTIAL_FIELDS = frozenset({"kind", "number", "issuing_jurisdiction", "valid_from", "valid_to"})
TRAINING_FIELDS = frozenset({"program_name", "hours", "practicum_hours", "completed_on"})
COMPETENCY_FIELDS = frozenset({"code", "attained_on"})
SUPERVISION_FIELDS = frozenset({"supervisor", "met_on", "minutes", "notes"})


def _unknown(fields: dict, allowed: frozenset[str]) -> None:
    extra = set(fields) - allowed
    if extra:
        raise ValueError(f"unknown fields: {', '.join(sorted(extra))}")


def _require_manager(actor: User | None, organization_id: int) -> None:
    allowed = Membership.objects.filter(
        user=actor, organization_id=organization_id, role__in=FACILITATOR_MANAGERS, is_active=True
    )
    if actor is None or not actor.is_active or not allowed.exists():
        raise PermissionDenied


def _is_member(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(user=user, organization_id=organization_id, is_active=True).exists()


def _check_user(profile: FacilitatorProfile) -> None:
    if profile.user is not None and not _is_member(profile.user, profile.organization_id):
        raise ValidationError({"user": _("Choose a member of this organization.")})


def _filled(fields: dict) -> list[str]:
    return sorted(k for k, v in fields.items() if v not in ("", None, []))


def _record(action: str, actor: User | None, obj, data: dict) -> None:
    audit_record(action=action, actor=actor, organization_id=obj.organization_id, obj=obj, data=data)


@transaction.atomic
def profile_create(*, organization: Organization, actor: User | None, **fields) -> FacilitatorProfile:
    _unknown(fields, PROFILE_FIELDS)
    _require_manager(actor, organization.pk)
    profile = FacilitatorProfile(organization=organization, **fields)
    profile.full_clean()
    _check_user(profile)
    profile.save()
    _record("facilitators.profile.created", actor, profile, {"fields": _filled(fields), "user": profile.user_id})
    return profile


@transaction.atomic
def profile_update(*, profile: FacilitatorProfile, actor: User | None, **changes) -> FacilitatorProfile:
    _unknown(changes, PROFILE_FIELDS)
    _require_manager(actor, profile.organization_id)
    changed = sorted(k for k, v in changes.items() if getattr(profile, k) != v)
    if not changed:
        return profile
    for name in changed:
        setattr(profile, name, changes[name])
    profile.full_clean()
    _check_user(profile)
    profile.save(update_fields=[*changed, "updated_at"])
    data: dict = {"fields": changed}
    if "user" in changed:
        data["user"] = profile.user_id
    if "active" in changed:
        data["active"] = profile.active
    _record("facilitators.profile.updated", actor, profile, data)
    return profile


@transaction.atomic
def credential_add(*, profile: FacilitatorProfile, actor: User | None, **fields) -> Credential:
    _unknown(fields, CREDENTIAL_FIELDS)
    _require_manager(actor, profile.organization_id)
    credential = Credential(organization_id=profile.organization_id, profile=profile, **fields)
    credential.full_clean()
    credential.save()
    data = {"profile": profile.pk, "kind": credential.kind, "jurisdiction": credential.issuing_jurisdiction}
    _record("facilitators.credential.added", actor, credential, {**data, "fields": _filled(fields)})
    return credential


@transaction.atomic
def credential_verify(*, credential: Credential, actor: User) -> Credential:
    """Record who checked the credential with its issuer, and when. Nobody verifies their own."""
    _require_manager(actor, credential.organization_id)
    if credential.profile.user_id is not None and credential.profile.user_id == actor.pk:
        raise PermissionDenied
    again = credential.verified_at is not None
    credential.verified_by, credential.verified_at = actor, timezone.now()
    credential.save(update_fields=["verified_by", "verified_at", "updated_at"])
    data = {"profile": credential.profile_id, "kind": credential.kind, "again": again}
    _record("facilitators.credential.verified", actor, credential, data)
    return credential


@transaction.atomic
def training_add(*, profile: FacilitatorProfile, actor: User | None, **fields) -> Training:
    _unknown(fields, TRAINING_FIELDS)
    _require_manager(actor, profile.organization_id)
    training = Training(organization_id=profile.organization_id, profile=profile, **fields)
    training.full_clean()
    training.save()
    data = {"profile": profile.pk, "hours": str(training.hours), "practicum_hours": str(training.practicum_hours)}
    _record("facilitators.training.added", actor, training, data)
    return training


@transaction.atomic
def competency_add(*, profile: FacilitatorProfile, actor: User | None, **fields) -> Competency:
    _unknown(fields, COMPETENCY_FIELDS)
    _require_manager(actor, profile.organization_id)
    competency = Competency(organization_id=profile.organization_id, profile=profile, **fields)
    competency.full_clean()
    competency.save()
    _record("facilitators.competency.added", actor, competency, {"profile": profile.pk, "code": competency.code})
    return competency


@transaction.atomic
def supervision_entry_add(*, profile: FacilitatorProfile, actor: User | None, **fields) -> SupervisionEntry:
    """A supervisor is a member of the organization and not the person supervised."""
    _unknown(fields, SUPERVISION_FIELDS)
    _require_manager(actor, profile.organization_id)
    entry = SupervisionEntry(organization_id=profile.organization_id, profile=profile, **fields)
    entry.full_clean()
    if not _is_member(entry.supervisor, profile.organization_id):
        raise ValidationError({"supervisor": _("Choose a member of this organization.")})
    if entry.supervisor_id == profile.user_id:
        raise ValidationError({"supervisor": _("A person cannot supervise themself.")})
    entry.save()
    data = {"profile": profile.pk, "supervisor": entry.supervisor_id, "minutes": entry.minutes}
    _record("facilitators.supervision_entry.added", actor, entry, data)
    return entry
