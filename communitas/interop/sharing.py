"""Data-sharing agreements between organizations: which participants, which consent scopes,
from when until when. Nothing crosses without one.

The owner's coordinators and administrators make and revoke agreements (``agreement_create``,
``agreement_revoke``); the recipient's coordinators and administrators download, per active
agreement, a pseudonymous FHIR Bundle (``agreement_bundle_export``). Every cross-organization
read goes through one gate, ``shared_participants``: a participant crosses for a scope only when
an agreement from the owner to the recipient lists them and that scope, is active today (started,
not ended, not revoked) and their newest consent to that scope is still a yes, so a withdrawal
after the agreement stops the sharing at once. Which resource types each scope carries is in
``sharing_bundle``.

Each download leaves an ``ExportLog`` (kind ``sharing``, with the agreement and recipient in its
parameters) and an ``interop.sharing.exported`` audit entry on the owner's side, which is what left,
and an ``interop.data_sharing_agreement.downloaded`` audit entry on the recipient's chain.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from communitas.accounts.models import Membership, Organization, User
from communitas.core.audit import audit_record
from communitas.interop.fhir import bundle as fhir_entries
from communitas.interop.fhir_bundle import OBSERVATION_VALUE, api_base_url, canonical_json
from communitas.interop.models import DataSharingAgreement, ExportLog
from communitas.interop.permissions import can_file_reports
from communitas.interop.services import export_log_record
from communitas.interop.sharing_bundle import ALWAYS_SHARED, SHARED_RESOURCES, shared_resources
from communitas.participants.models import Participant
from communitas.participants.selectors import consent_states_for, participants_consenting_to

SHAREABLE_SCOPES = tuple(SHARED_RESOURCES)
AGREEMENT_IDS = "https://communitas.example/fhir/sid/data-sharing-agreement"
Through = DataSharingAgreement.participants.through


class SharingError(ValueError):
    """An agreement that cannot be made as asked; nothing was saved."""


def resource_types(scopes: list[str]) -> list[str]:
    """What a bundle under ``scopes`` may hold."""
    return [*ALWAYS_SHARED, *(kind for scope in scopes for kind in SHARED_RESOURCES.get(scope, ()))]


# Reads


def agreements_owned(organization_id: int) -> QuerySet[DataSharingAgreement]:
    return (
        DataSharingAgreement.objects.filter(organization_id=organization_id)
        .select_related("recipient", "created_by")
        .order_by("-created_at", "-pk")
    )


def agreements_received(organization_id: int) -> QuerySet[DataSharingAgreement]:
    return (
        DataSharingAgreement.objects.filter(recipient_id=organization_id)
        .select_related("organization")
        .order_by("-created_at", "-pk")
    )


def active_agreements(recipient_org: Organization, today: datetime.date) -> QuerySet[DataSharingAgreement]:
    """Agreements to ``recipient_org`` in force on ``today``: started, not ended, not revoked."""
    return agreements_received(recipient_org.pk).filter(
        starts_on__lte=today, ends_on__gte=today, revoked_at__isnull=True
    )


def agreement_status(agreement: DataSharingAgreement, today: datetime.date) -> str:
    """scheduled, active, ended or revoked."""
    if agreement.revoked_at is not None:
        return "revoked"
    if today < agreement.starts_on:
        return "scheduled"
    return "active" if today <= agreement.ends_on else "ended"


def agreement_get_for_owner(membership: Membership | None, agreement_id) -> DataSharingAgreement:
    agreement = agreements_owned(membership.organization_id).filter(pk=agreement_id).first() if membership else None
    if agreement is None:
        raise Http404("no such agreement")
    return agreement


def agreement_get_for_recipient(
    membership: Membership | None, agreement_id, today: datetime.date
) -> DataSharingAgreement:
    """An agreement active today whose recipient is the membership's organization; anything else
    (not yet started, ended, revoked, someone else's) answers 404."""
    if membership is None:
        raise Http404("no such agreement")
    agreement = active_agreements(membership.organization, today).filter(pk=agreement_id).first()
    if agreement is None:
        raise Http404("no such agreement")
    return agreement


def shared_participants(
    *,
    owner: Organization,
    recipient: Organization,
    scope: str,
    today: datetime.date,
    agreement: DataSharingAgreement | None = None,
) -> QuerySet[Participant]:
    """The gate: the owner's participants listed in an agreement to ``recipient`` that covers
    ``scope`` and is active ``today`` (only ``agreement`` when given), whose newest consent to
    ``scope`` is a yes not withdrawn. Empty when no agreement holds."""
    if scope not in SHAREABLE_SCOPES or owner.pk == recipient.pk:
        return Participant.objects.none()
    agreements = active_agreements(recipient, today).filter(organization_id=owner.pk)
    if agreement is not None:
        agreements = agreements.filter(pk=agreement.pk)
    ids = [pk for pk, scopes in agreements.values_list("pk", "scopes") if scope in (scopes or [])]
    listed = Through.objects.filter(datasharingagreement_id__in=ids).values("participant_id")
    return participants_consenting_to(owner.pk, scope).filter(pk__in=listed).order_by("pseudonym")


# Writes


def _require_staff(organization: Organization, actor: User | None) -> Membership:
    membership = actor.memberships.filter(organization=organization).first() if actor is not None else None
    if actor is None or not actor.is_active or not can_file_reports(membership):
        raise PermissionDenied
    assert membership is not None
    return membership


def _recipient(organization: Organization, recipient: Organization | str) -> Organization:
    found = Organization.objects.filter(slug=recipient.strip()).first() if isinstance(recipient, str) else recipient
    if found is None or found.pk is None:
        raise SharingError("there is no organization with that identifier")
    if found.pk == organization.pk:
        raise SharingError("an organization cannot share with itself")
    return found


def _scopes(scopes: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    if not chosen:
        raise SharingError("choose at least one consent scope")
    unknown = [s for s in chosen if s not in SHAREABLE_SCOPES]
    if unknown:
        raise SharingError(f"unknown or unshareable scopes {unknown}: choose among {list(SHAREABLE_SCOPES)}")
    return chosen


def _participants(organization: Organization, participant_ids: list[int], scopes: list[str]) -> list[Participant]:
    wanted = set(participant_ids)
    if not wanted:
        raise SharingError("choose at least one participant")
    people = list(Participant.objects.filter(organization=organization, archived_at__isnull=True, pk__in=wanted))
    if len(people) != len(wanted):
        raise SharingError(f"{len(wanted) - len(people)} of the chosen participants are unknown here or archived")
    states = consent_states_for(p.pk for p in people)
    lacking = [p for p in people if not all(states.get(p.pk, {}).get(scope) for scope in scopes)]
    if lacking:
        raise SharingError(
            f"{len(lacking)} of the {len(people)} chosen participants have not consented to every scope "
            f"({', '.join(scopes)}): their newest consent must grant each one"
        )
    return people


def _dates(starts_on: datetime.date, ends_on: datetime.date) -> None:
    if ends_on < starts_on:
        raise SharingError("the agreement must end on or after the day it starts")
    if ends_on < timezone.localdate():
        raise SharingError("the agreement would already have ended")


@transaction.atomic
def agreement_create(
    *,
    organization: Organization,
    actor: User | None,
    recipient: Organization | str,
    title: str,
    participant_ids: list[int],
    scopes: list[str],
    starts_on: datetime.date,
    ends_on: datetime.date,
) -> DataSharingAgreement:
    """Let ``recipient`` (an organization or its slug) receive data on the listed participants for
    the listed scopes from ``starts_on`` to ``ends_on`` inclusive. All checks pass or nothing is
    saved. Coordinators and administrators of ``organization`` only."""
    _require_staff(organization, actor)
    other = _recipient(organization, recipient)
    chosen = _scopes(scopes)
    _dates(starts_on, ends_on)
    people = _participants(organization, participant_ids, chosen)
    agreement = DataSharingAgreement(
        organization=organization,
        recipient=other,
        title=title.strip(),
        scopes=chosen,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
    )
    try:
        agreement.full_clean()
    except ValidationError as exc:
        raise SharingError("; ".join(exc.messages)) from None
    agreement.save()
    agreement.participants.set(people)
    audit_record(
        action="interop.data_sharing_agreement.created",
        actor=actor,
        organization_id=organization.pk,
        obj=agreement,
        data={
            "recipient": other.pk,
            "scopes": chosen,
            "participants": len(people),
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
    )
    return agreement


@transaction.atomic
def agreement_revoke(*, agreement: DataSharingAgreement, actor: User | None) -> DataSharingAgreement:
    """End the agreement now: nothing more crosses under it. Revoking twice changes nothing."""
    _require_staff(agreement.organization, actor)
    agreement = DataSharingAgreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.revoked_at is not None:
        return agreement
    agreement.revoked_at = timezone.now()
    agreement.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        action="interop.data_sharing_agreement.revoked",
        actor=actor,
        organization_id=agreement.organization_id,
        obj=agreement,
        data={"fields": ["revoked_at"], "recipient": agreement.recipient_id},
    )
    return agreement


def _require_recipient(agreement: DataSharingAgreement, actor: User | None, membership: Membership | None) -> None:
    if membership is None or actor is None or not actor.is_active or membership.user_id != actor.pk:
        raise PermissionDenied
    if membership.organization_id != agreement.recipient_id or not can_file_reports(membership):
        raise PermissionDenied


def _bundle(agreement: DataSharingAgreement, resources: list[dict]) -> dict:
    entries = fhir_entries(resources, "collection", base_url=api_base_url())["entry"]
    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "meta": {"security": [{"system": OBSERVATION_VALUE, "code": "PSEUDED", "display": "pseudonymized"}]},
        "identifier": {"system": AGREEMENT_IDS, "value": str(agreement.pk)},
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }


@transaction.atomic
def agreement_bundle_export(
    *,
    agreement: DataSharingAgreement,
    actor: User | None,
    membership: Membership | None,
    via: str,
    today: datetime.date | None = None,
) -> dict:
    """The one crossing: a pseudonymous FHIR Bundle of what ``agreement`` lets its recipient have
    today, for the recipient's coordinators and administrators; logged on the owner's side and
    audited on both."""
    if via not in ExportLog.Via.values:
        raise ValueError(f"unknown channel {via!r}")
    _require_recipient(agreement, actor, membership)
    today = today or timezone.localdate()
    if agreement_status(agreement, today) != "active":
        raise Http404("no such agreement")
    owner, recipient = agreement.organization, agreement.recipient
    shared = {
        scope: list(
            shared_participants(
                owner=owner, recipient=recipient, scope=scope, today=today, agreement=agreement
            ).values_list("pk", flat=True)
        )
        for scope in agreement.scopes
        if scope in SHAREABLE_SCOPES
    }
    resources = shared_resources(owner, shared, api_base_url())
    bundle = _bundle(agreement, resources)
    counts: dict[str, int] = {}
    for resource in resources:
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    people = len({pk for ids in shared.values() for pk in ids})
    log = export_log_record(
        organization_id=owner.pk,
        kind=ExportLog.Kind.SHARING,
        via=via,
        actor=actor,
        fields=sorted(counts),
        rows=len(resources),
        content=canonical_json(bundle),
        parameters={
            "identified": False,
            "sharing_agreement": agreement.pk,
            "recipient": recipient.pk,
            "scopes": list(agreement.scopes),
            "participants": people,
            "counts": dict(sorted(counts.items())),
            "bundle": bundle["id"],
        },
    )
    audit_record(
        action="interop.data_sharing_agreement.downloaded",
        actor=actor,
        organization_id=recipient.pk,
        obj=agreement,
        data={"owner": owner.pk, "export_log": log.pk, "via": via, "participants": people, "rows": len(resources)},
    )
    return bundle
