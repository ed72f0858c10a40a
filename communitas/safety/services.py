"""Raising and acknowledging safety alerts. Automation may raise an alert; only a person closes it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from communitas.accounts.models import Membership, User
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.safety.models import SafetyAlert, SafetySettings

ALERT_ROLES = (Membership.Role.ADMIN, Membership.Role.COORDINATOR)


def safety_contact_for(organization_id: int) -> User | None:
    """The organization's named safety contact, else its first active coordinator or admin."""
    settings_row = (
        SafetySettings.objects.filter(organization_id=organization_id).select_related("safety_contact").first()
    )
    if settings_row and settings_row.safety_contact and settings_row.safety_contact.is_active:
        return settings_row.safety_contact
    membership = (
        Membership.objects.filter(
            organization_id=organization_id, role__in=ALERT_ROLES, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("role", "created_at")
        .first()
    )
    return membership.user if membership else None


def safety_alert_raise(*, participant: Participant, flag: str, summary: str, source) -> SafetyAlert:
    """Open an alert for ``flag`` raised by ``source`` (once per source and flag) and page the contact."""
    from communitas.safety.tasks import notify_safety_alert

    source_type, source_id = source._meta.label_lower, str(source.pk)
    existing = SafetyAlert.objects.filter(source_type=source_type, source_id=source_id, flag=flag).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            alert = SafetyAlert.objects.create(
                organization_id=participant.organization_id,
                participant=participant,
                flag=flag,
                summary=summary,
                source_type=source_type,
                source_id=source_id,
                assigned_to=safety_contact_for(participant.organization_id),
            )
    except IntegrityError:
        return SafetyAlert.objects.get(source_type=source_type, source_id=source_id, flag=flag)
    audit_record(
        action="safety.alert.raised",
        organization_id=participant.organization_id,
        obj=alert,
        data={"flag": flag, "participant": participant.pseudonym, "assigned_to": alert.assigned_to_id},
    )
    transaction.on_commit(lambda: notify_safety_alert.enqueue(alert.pk))
    return alert


@transaction.atomic
def safety_alert_acknowledge(*, alert: SafetyAlert, actor: User, note: str) -> SafetyAlert:
    if not note.strip():
        raise ValueError("say what was done before acknowledging")
    locked = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.acknowledged_at is not None:
        return locked
    locked.acknowledged_at, locked.acknowledged_by, locked.acknowledgement_note = timezone.now(), actor, note.strip()
    locked.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note", "updated_at"])
    audit_record(action="safety.alert.acknowledged", actor=actor, organization_id=locked.organization_id, obj=locked)
    return locked


def parse_crisis_lines(text: str) -> list[dict]:
    """'Name | contact | detail' per line -> resource dicts; blank lines are skipped."""
    resources = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ValueError(f"line {n}: write 'name | phone or address | what it offers'")
        resources.append({"name": parts[0][:120], "contact": parts[1][:120], "detail": parts[2][:400]})
    if len(resources) > 10:
        raise ValueError("at most 10 crisis resources")
    return resources


@transaction.atomic
def safety_settings_update(
    *, organization_id: int, actor: User, safety_contact: User | None, crisis_resources: list[dict]
):
    row, _created = SafetySettings.objects.get_or_create(organization_id=organization_id)
    row.safety_contact, row.crisis_resources = safety_contact, crisis_resources
    row.save(update_fields=["safety_contact", "crisis_resources", "updated_at"])
    audit_record(
        action="safety.settings.updated",
        actor=actor,
        organization_id=organization_id,
        obj=row,
        data={
            "safety_contact": safety_contact.pk if safety_contact else None,
            "crisis_resources": len(crisis_resources),
        },
    )
    return row
