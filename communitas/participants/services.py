"""Writes for participants and their support people. Every function is atomic, validates
the whole row before saving, and writes an audit entry naming changed fields (never values)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import Organization, User
from communitas.core.audit import audit_record
from communitas.participants import search
from communitas.participants.models import Participant, ParticipantSearchToken, SupportPerson

PARTICIPANT_FIELDS = frozenset(
    {
        "display_name",
        "legal_name",
        "email",
        "phone",
        "date_of_birth",
        "preferred_language",
        "pronouns",
        "cultural_background",
        "accessibility_needs",
    }
)
SUPPORT_PERSON_FIELDS = frozenset({"name", "relationship", "email", "phone", "may_contact", "notes"})
IDENTITY_FIELDS = frozenset({"display_name", "legal_name", "email", "phone"})
PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _new_pseudonym(organization: Organization) -> str:
    while True:
        candidate = "P-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(6))
        if not Participant.objects.filter(organization=organization, pseudonym=candidate).exists():
            return candidate


def _reindex(participant: Participant) -> None:
    terms = search.index_terms(
        names=[participant.display_name, participant.legal_name],
        email=participant.email,
        phone=participant.phone,
    )
    ParticipantSearchToken.objects.filter(participant=participant).delete()
    ParticipantSearchToken.objects.bulk_create(
        ParticipantSearchToken(organization_id=participant.organization_id, participant=participant, token=t)
        for t in set(search.tokens(participant.organization_id, terms))
    )


def _unknown(fields: dict, allowed: frozenset[str]) -> None:
    extra = set(fields) - allowed
    if extra:
        raise ValueError(f"unknown fields: {', '.join(sorted(extra))}")


def _apply_changes(obj, changes: dict, allowed: frozenset[str]) -> list[str]:
    """Set the fields that differ, validate the whole row and save only those; return their names."""
    _unknown(changes, allowed)
    changed = sorted(k for k, v in changes.items() if getattr(obj, k) != v)
    if changed:
        for name in changed:
            setattr(obj, name, changes[name])
        obj.full_clean()
        obj.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def participant_create(*, organization: Organization, actor: User | None, **fields) -> Participant:
    _unknown(fields, PARTICIPANT_FIELDS)
    participant = Participant(organization=organization, pseudonym=_new_pseudonym(organization), **fields)
    participant.full_clean()
    participant.save()
    _reindex(participant)
    audit_record(
        action="participants.participant.created",
        actor=actor,
        organization_id=organization.pk,
        obj=participant,
        data={"fields": sorted(k for k, v in fields.items() if v not in ("", None))},
    )
    return participant


@transaction.atomic
def participant_update(*, participant: Participant, actor: User | None, **changes) -> Participant:
    changed = _apply_changes(participant, changes, PARTICIPANT_FIELDS)
    if not changed:
        return participant
    if IDENTITY_FIELDS & set(changed):
        _reindex(participant)
    audit_record(
        action="participants.participant.updated",
        actor=actor,
        organization_id=participant.organization_id,
        obj=participant,
        data={"fields": changed},
    )
    return participant


@transaction.atomic
def participant_archive(*, participant: Participant, actor: User | None) -> Participant:
    """Removes a participant from lists and the API. The record is kept for the retention
    period records law requires (see compliance) rather than destroyed."""
    participant.archived_at = timezone.now()
    participant.save(update_fields=["archived_at", "updated_at"])
    ParticipantSearchToken.objects.filter(participant=participant).delete()
    audit_record(
        action="participants.participant.archived",
        actor=actor,
        organization_id=participant.organization_id,
        obj=participant,
    )
    return participant


@transaction.atomic
def support_person_create(*, participant: Participant, actor: User | None, **fields) -> SupportPerson:
    _unknown(fields, SUPPORT_PERSON_FIELDS)
    person = SupportPerson(organization_id=participant.organization_id, participant=participant, **fields)
    person.full_clean()
    person.save()
    audit_record(
        action="participants.support_person.created",
        actor=actor,
        organization_id=participant.organization_id,
        obj=person,
        data={"participant": participant.pseudonym, "may_contact": person.may_contact},
    )
    return person


@transaction.atomic
def support_person_update(*, person: SupportPerson, actor: User | None, **changes) -> SupportPerson:
    changed = _apply_changes(person, changes, SUPPORT_PERSON_FIELDS)
    if not changed:
        return person
    audit_record(
        action="participants.support_person.updated",
        actor=actor,
        organization_id=person.organization_id,
        obj=person,
        data={"fields": changed},
    )
    return person


@transaction.atomic
def support_person_archive(*, person: SupportPerson, actor: User | None) -> SupportPerson:
    person.archived_at = timezone.now()
    person.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        action="participants.support_person.archived", actor=actor, organization_id=person.organization_id, obj=person
    )
    return person


class ConsentError(ValueError):
    """A consent action that cannot be taken (e.g. a required scope declined)."""


@transaction.atomic
def consent_document_publish(
    *,
    organization: Organization,
    actor: User | None,
    title: str,
    version: str,
    language: str,
    body: str,
    scopes: list[str],
    required_scopes: list[str],
):
    from communitas.participants.models import ConsentDocument, ConsentScope

    valid = set(ConsentScope.values)
    if not scopes or set(scopes) - valid or set(required_scopes) - set(scopes):
        raise ConsentError(f"scopes must be a non-empty subset of {sorted(valid)}, required ones among them")
    document = ConsentDocument(
        organization=organization,
        title=title,
        version=version,
        language=language,
        body=body,
        scopes=list(dict.fromkeys(scopes)),
        required_scopes=list(dict.fromkeys(required_scopes)),
        body_hash=hashlib.sha256(body.encode()).hexdigest(),
    )
    document.full_clean()
    document.save()
    audit_record(
        action="participants.consent_document.published",
        actor=actor,
        organization_id=organization.pk,
        obj=document,
        data={"title": title, "version": version, "language": language, "hash": document.body_hash},
    )
    return document


@transaction.atomic
def consent_sign(
    *, participant: Participant, document, typed_name: str, granted: set[str], via: str, actor: User | None = None
):
    """Record a signature and a yes or no for every scope the document asks about."""
    from communitas.participants.models import ConsentDecision, ConsentSignature

    name = typed_name.strip()
    if len(name) < 2 or len(name) > 150:
        raise ConsentError("type your full name to sign")
    if document.organization_id != participant.organization_id or document.retired_at is not None:
        raise ConsentError("this consent document is not available")
    declined_required = sorted(set(document.required_scopes) - set(granted))
    if declined_required:
        raise ConsentError(f"agreeing to {', '.join(declined_required)} is needed to take part")
    now = timezone.now()
    signature = ConsentSignature.objects.create(
        organization_id=participant.organization_id,
        participant=participant,
        document=document,
        typed_name=name,
        document_hash=document.body_hash,
        signed_at=now,
        via=via,
    )
    ConsentDecision.objects.bulk_create(
        ConsentDecision(
            organization_id=participant.organization_id,
            participant=participant,
            signature=signature,
            scope=scope,
            granted=scope in granted,
        )
        for scope in document.scopes
    )
    audit_record(
        action="participants.consent.signed",
        actor=actor,
        organization_id=participant.organization_id,
        obj=signature,
        data={
            "document": document.pk,
            "hash": document.body_hash,
            "via": via,
            "granted": sorted(set(granted) & set(document.scopes)),
            "declined": sorted(set(document.scopes) - set(granted)),
        },
    )
    return signature


@transaction.atomic
def consent_withdraw(*, participant: Participant, scope: str, actor: User | None = None) -> int:
    """End every current yes for ``scope``; effective immediately. Returns how many were ended."""
    from communitas.participants.models import ConsentDecision, ConsentScope

    if scope not in ConsentScope.values:
        raise ConsentError(f"unknown consent scope {scope!r}")
    ended = ConsentDecision.objects.filter(
        participant=participant, scope=scope, granted=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    if ended:
        audit_record(
            action="participants.consent.withdrawn",
            actor=actor,
            organization_id=participant.organization_id,
            obj=participant,
            data={"scope": scope},
        )
    return ended
