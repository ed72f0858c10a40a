"""Community partners, referrals of participants to them, partner contributions and the
partner's approvals for their use (CARE: Carroll et al. 2020, Data Science Journal 19:43; see
``governance.py``).

Every write is atomic, validated in full before saving and audited with ids, codes and field
names only: never a contact person's name, a note or an approver's name.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import Organization, User
from communitas.community.models import ContributionApproval, Partner, PartnerContribution, Referral
from communitas.core.audit import audit_record
from communitas.participants.models import Participant

PARTNER_FIELDS = frozenset(
    {
        "name",
        "kind",
        "description",
        "website",
        "public_phone",
        "contact_name",
        "contact_email",
        "contact_phone",
        "languages",
        "services",
        "active",
    }
)
MAX_SERVICES, MAX_SERVICE = 30, 100
S = Referral.Status
# Where a referral may go next. A closed referral is finished; a declined or completed one may
# only be closed.
NEXT_STATUS: dict[str, frozenset[str]] = {
    S.SUGGESTED: frozenset({S.MADE, S.DECLINED, S.CLOSED}),
    S.MADE: frozenset({S.ACCEPTED, S.DECLINED, S.CLOSED}),
    S.ACCEPTED: frozenset({S.COMPLETED, S.CLOSED}),
    S.DECLINED: frozenset({S.CLOSED}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}


class PartnerRefused(ValueError):
    """A request the rules refuse; nothing was saved."""


def _audit(action: str, actor, obj, **data) -> None:
    audit_record(action=action, actor=actor, organization_id=obj.organization_id, obj=obj, data=data)


def _clean_services(services) -> list[str]:
    items = [str(s).strip() for s in services or [] if str(s).strip()]
    if len(items) > MAX_SERVICES or any(len(s) > MAX_SERVICE for s in items):
        raise ValidationError({"services": f"list at most {MAX_SERVICES} services of {MAX_SERVICE} characters"})
    return list(dict.fromkeys(items))


def _unknown(fields: dict) -> None:
    extra = set(fields) - PARTNER_FIELDS
    if extra:
        raise ValueError(f"unknown partner fields: {sorted(extra)}")


# --- partners ---------------------------------------------------------------------------------


@transaction.atomic
def partner_create(*, organization: Organization, actor: User, **fields) -> Partner:
    _unknown(fields)
    fields["services"] = _clean_services(fields.get("services"))
    partner = Partner(organization=organization, **fields)
    partner.full_clean()
    partner.save()
    _audit("community.partner.created", actor, partner, kind=partner.kind)
    return partner


@transaction.atomic
def partner_update(*, partner: Partner, actor: User, **changes) -> Partner:
    """Change some fields; the audit names the fields that changed, not their values."""
    _unknown(changes)
    if "services" in changes:
        changes["services"] = _clean_services(changes["services"])
    changed = sorted(k for k, v in changes.items() if getattr(partner, k) != v)
    if not changed:
        return partner
    for key in changed:
        setattr(partner, key, changes[key])
    try:
        partner.full_clean()
    except ValidationError:
        partner.refresh_from_db()
        raise
    partner.save(update_fields=[*changed, "updated_at"])
    _audit("community.partner.updated", actor, partner, fields=changed)
    return partner


# --- referrals --------------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *, participant: Participant, partner: Partner, actor: User, note: str = "", status: str = S.SUGGESTED
) -> Referral:
    """Suggest (or record as made) a referral of a participant to an active partner."""
    if participant.organization_id != partner.organization_id or participant.archived_at is not None:
        raise PartnerRefused("the participant and the partner must belong to the same organization")
    if not partner.active:
        raise PartnerRefused("this partner is no longer active")
    if status not in (S.SUGGESTED, S.MADE):
        raise PartnerRefused("a new referral is suggested or made")
    now = timezone.now()
    referral = Referral(
        organization_id=partner.organization_id,
        participant=participant,
        partner=partner,
        status=status,
        status_changed_at=now,
        made_at=now if status == S.MADE else None,
        note=note.strip(),
        created_by=actor,
    )
    referral.full_clean()
    referral.save()
    _audit(
        "community.referral.created",
        actor,
        referral,
        partner=partner.pk,
        participant=participant.pseudonym,
        status=status,
    )
    return referral


@transaction.atomic
def referral_set_status(*, referral: Referral, status: str, actor: User, note: str | None = None) -> Referral:
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if status not in S.values:
        raise PartnerRefused(f"unknown referral status {status!r}")
    if status not in NEXT_STATUS[locked.status]:
        raise PartnerRefused(f"a {locked.status} referral cannot become {status}")
    previous, now = locked.status, timezone.now()
    locked.status, locked.status_changed_at = status, now
    fields = ["status", "status_changed_at", "updated_at"]
    if status == S.MADE:
        locked.made_at = now
        fields.append("made_at")
    if status == S.COMPLETED:
        locked.completed_at = now
        fields.append("completed_at")
    if note is not None and note.strip():
        locked.note = note.strip()
        fields.append("note")
    locked.full_clean()
    locked.save(update_fields=fields)
    _audit("community.referral.status_changed", actor, locked, status=status, previous=previous)
    return locked


# --- contributions and approvals (CARE) -------------------------------------------------------


@transaction.atomic
def contribution_create(
    *,
    partner: Partner,
    actor: User,
    title: str,
    kind: str,
    description: str = "",
    requires_partner_approval: bool = True,
    governance_note: str = "",
) -> PartnerContribution:
    contribution = PartnerContribution(
        organization_id=partner.organization_id,
        partner=partner,
        title=title.strip(),
        kind=kind,
        description=description.strip(),
        requires_partner_approval=requires_partner_approval,
        governance_note=governance_note.strip(),
        created_by=actor,
    )
    contribution.full_clean()
    contribution.save()
    _audit(
        "community.contribution.created",
        actor,
        contribution,
        partner=partner.pk,
        kind=kind,
        requires_partner_approval=requires_partner_approval,
    )
    return contribution


@transaction.atomic
def approval_record(
    *,
    contribution: PartnerContribution,
    actor: User,
    approved_by_name: str,
    scope: str,
    approved_on: datetime.date,
    expires_on: datetime.date | None = None,
    approved_by_role: str = "",
) -> ContributionApproval:
    """Record who at the partner approved which use of a contribution, and until when."""
    approval = ContributionApproval(
        organization_id=contribution.organization_id,
        contribution=contribution,
        approved_by_name=approved_by_name.strip(),
        approved_by_role=approved_by_role.strip(),
        scope=scope,
        approved_on=approved_on,
        expires_on=expires_on,
        recorded_by=actor,
    )
    approval.full_clean()
    approval.save()
    _audit(
        "community.contribution_approval.recorded",
        actor,
        approval,
        contribution=contribution.pk,
        scope=scope,
        approved_on=approved_on.isoformat(),
        expires_on=expires_on.isoformat() if expires_on else None,
    )
    return approval


@transaction.atomic
def approval_revoke(*, approval: ContributionApproval, actor: User) -> ContributionApproval:
    """The partner withdraws an approval: from today it covers nothing."""
    locked = ContributionApproval.objects.select_for_update().get(pk=approval.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        _audit("community.contribution_approval.revoked", actor, locked, contribution=locked.contribution_id)
    return locked
