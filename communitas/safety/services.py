"""Raising and acknowledging safety alerts (automation may raise an alert; only a person closes
it), and recording adverse events with their follow-up tasks."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from communitas.accounts.models import Membership, User
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.safety import regulator
from communitas.safety.models import AdverseEvent, FollowUpTask, SafetyAlert, SafetySettings
from communitas.safety.permissions import ADVERSE_EVENT_RECORDERS

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


# --- adverse events ----------------------------------------------------------------------------

ADVERSE_EVENT_FIELDS = frozenset(
    {
        "session_ref",
        "during_administration",
        "kind",
        "onset_at",
        "description",
        "severity",
        "serious",
        "emergency_services",
        "medical_care",
        "hospital_transport",
        "outcome",
        "relatedness",
    }
)
URGENT_SEVERITIES = frozenset({AdverseEvent.Severity.SEVERE, AdverseEvent.Severity.LIFE_THREATENING})
# Stored in English and shown through {% translate %}, so each reader sees their own language.
CLINICAL_FOLLOW_UP = gettext_noop("Clinical follow-up call")
SB303_FOLLOW_UP = gettext_noop("Record for the quarterly SB 303 report")
ONSET_LEEWAY = datetime.timedelta(days=1)  # clocks and time zones differ; a later onset is a typo


def _require_recorder(actor: User, organization_id: int) -> None:
    allowed = Membership.objects.filter(
        user=actor, organization_id=organization_id, role__in=ADVERSE_EVENT_RECORDERS, is_active=True
    )
    if not actor.is_active or not allowed.exists():
        raise PermissionDenied


def _validate_event(event: AdverseEvent) -> None:
    event.full_clean()
    if event.onset_at > timezone.now() + ONSET_LEEWAY:
        raise ValidationError({"onset_at": _("The onset cannot be more than a day in the future.")})


def _categorise(event: AdverseEvent, jurisdiction: str) -> str:
    return regulator.regulator_category(
        jurisdiction=jurisdiction,
        kind=event.kind,
        during_administration=event.during_administration,
        emergency_services=event.emergency_services,
        medical_care=event.medical_care,
        hospital_transport=event.hospital_transport,
    )


def _event_audit_data(event: AdverseEvent) -> dict:
    """Codes only: no description, session reference or other free text."""
    return {
        "participant": event.participant.pseudonym,
        "kind": event.kind,
        "severity": event.severity,
        "serious": event.serious,
        "regulator_category": event.regulator_category,
    }


@transaction.atomic
def adverse_event_record(*, participant: Participant, actor: User, jurisdiction: str, **fields) -> AdverseEvent:
    """Record an event, classify it for ``jurisdiction`` (regulator.py) and open the follow-ups it needs."""
    _unknown_fields(fields)
    _require_recorder(actor, participant.organization_id)
    event = AdverseEvent(
        organization_id=participant.organization_id, participant=participant, reported_by=actor, **fields
    )
    _validate_event(event)
    event.regulator_category = _categorise(event, jurisdiction)
    event.save()
    audit_record(
        action="safety.adverse_event.recorded",
        actor=actor,
        organization_id=event.organization_id,
        obj=event,
        data=_event_audit_data(event),
    )
    _open_automatic_follow_ups(event, actor)
    return event


@transaction.atomic
def adverse_event_update(
    *, event: AdverseEvent, actor: User, jurisdiction: str | None = None, **changes
) -> AdverseEvent:
    """Change an event and re-classify it (for the organization's jurisdiction unless given)."""
    _unknown_fields(changes)
    _require_recorder(actor, event.organization_id)
    locked = AdverseEvent.objects.select_for_update().select_related("organization", "participant").get(pk=event.pk)
    changed = sorted(name for name, value in changes.items() if getattr(locked, name) != value)
    for name in changed:
        setattr(locked, name, changes[name])
    _validate_event(locked)
    category = _categorise(locked, locked.organization.jurisdiction if jurisdiction is None else jurisdiction)
    if category != locked.regulator_category:
        locked.regulator_category = category
        changed.append("regulator_category")
    if not changed:
        return locked
    locked.save(update_fields=[*changed, "updated_at"])
    audit_record(
        action="safety.adverse_event.updated",
        actor=actor,
        organization_id=locked.organization_id,
        obj=locked,
        data={"fields": sorted(changed)},
    )
    _open_automatic_follow_ups(locked, actor)
    return locked


def _unknown_fields(fields: dict) -> None:
    extra = set(fields) - ADVERSE_EVENT_FIELDS
    if extra:
        raise ValueError(f"unknown fields: {', '.join(sorted(extra))}")


def _automatic_follow_ups(event: AdverseEvent, today: datetime.date) -> list[tuple[str, datetime.date]]:
    """The tasks an event needs: a clinical call the next day for severe or serious events, and
    for an Oregon adverse behavioral/medical reaction an entry in the quarterly SB 303 count
    (regulatory.md 1.6 [R8][R12]; the report is due 15 days after the quarter ends)."""
    tasks = []
    if event.severity in URGENT_SEVERITIES or event.serious:
        tasks.append((CLINICAL_FOLLOW_UP, today + datetime.timedelta(days=1)))
    if event.regulator_category in regulator.OREGON_REPORTABLE:
        tasks.append((SB303_FOLLOW_UP, today + datetime.timedelta(days=7)))
    return tasks


def _open_automatic_follow_ups(event: AdverseEvent, actor: User) -> None:
    """Open each needed task the event does not have yet, for the organization's safety contact."""
    needed = _automatic_follow_ups(event, timezone.localdate())
    existing = set(event.follow_ups.values_list("title", flat=True)) if needed else set()
    missing = [(title, due_on) for title, due_on in needed if title not in existing]
    contact = safety_contact_for(event.organization_id) if missing else None
    for title, due_on in missing:
        _follow_up_create(event=event, actor=actor, title=title, due_on=due_on, assigned_to=contact, automatic=True)


def _follow_up_create(
    *, event: AdverseEvent, actor: User, title: str, due_on: datetime.date, assigned_to: User | None, automatic: bool
) -> FollowUpTask:
    task = FollowUpTask(
        organization_id=event.organization_id,
        adverse_event=event,
        title=title.strip(),
        due_on=due_on,
        assigned_to=assigned_to,
    )
    # An automatic task is opened even when nobody can be assigned (no coordinator yet).
    task.full_clean(exclude=["assigned_to"] if automatic and assigned_to is None else None)
    task.save()
    audit_record(
        action="safety.follow_up.added",
        actor=actor,
        organization_id=event.organization_id,
        obj=task,
        data={
            "adverse_event": event.pk,
            "due_on": due_on.isoformat(),
            "assigned_to": assigned_to.pk if assigned_to else None,
            "automatic": automatic,
        },
    )
    return task


@transaction.atomic
def follow_up_add(
    *, event: AdverseEvent, actor: User, title: str, due_on: datetime.date, assigned_to: User
) -> FollowUpTask:
    _require_recorder(actor, event.organization_id)
    on_team = Membership.objects.filter(
        user=assigned_to,
        organization_id=event.organization_id,
        role__in=ADVERSE_EVENT_RECORDERS,
        is_active=True,
        user__is_active=True,
    ).exists()
    if not on_team:
        raise ValidationError({"assigned_to": _("Assign the task to an active member of the care team.")})
    return _follow_up_create(
        event=event, actor=actor, title=title, due_on=due_on, assigned_to=assigned_to, automatic=False
    )


@transaction.atomic
def follow_up_complete(*, task: FollowUpTask, actor: User, note: str) -> FollowUpTask:
    """Mark a task done with a note saying what was done. Completing it again changes nothing."""
    if not note.strip():
        raise ValueError("say what was done before completing a follow-up")
    _require_recorder(actor, task.organization_id)
    locked = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        return locked
    locked.done_at, locked.done_by, locked.note = timezone.now(), actor, note.strip()
    locked.full_clean(exclude=["assigned_to"])  # automatic tasks may have nobody assigned
    locked.save(update_fields=["done_at", "done_by", "note", "updated_at"])
    audit_record(
        action="safety.follow_up.completed",
        actor=actor,
        organization_id=locked.organization_id,
        obj=locked,
        data={"adverse_event": locked.adverse_event_id},
    )
    return locked
