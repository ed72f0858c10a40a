"""State changes for accounts. Each is atomic and audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from communitas.accounts.models import ApiToken, Membership, Organization, User
from communitas.core.audit import audit_record

TOKEN_PREFIX = "cmt_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def organization_create(*, name: str, slug: str, kind: str, jurisdiction: str = "", actor=None) -> Organization:
    org = Organization.objects.create(name=name, slug=slug, kind=kind, jurisdiction=jurisdiction)
    audit_record(
        action="accounts.organization.created",
        actor=actor,
        organization_id=org.pk,
        obj=org,
        data={"kind": kind, "jurisdiction": jurisdiction},
    )
    return org


@transaction.atomic
def user_create(*, email: str, password: str, full_name: str = "", actor=None) -> User:
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    audit_record(action="accounts.user.created", actor=actor, obj=user)
    return user


@transaction.atomic
def membership_create(*, user: User, organization: Organization, role: str, actor=None) -> Membership:
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    audit_record(
        action="accounts.membership.created",
        actor=actor,
        organization_id=organization.pk,
        obj=membership,
        data={"user_id": user.pk, "role": role},
    )
    return membership


@transaction.atomic
def organization_set_two_factor(*, organization: Organization, required: bool, actor) -> Organization:
    organization.require_two_factor = required
    organization.save(update_fields=["require_two_factor", "updated_at"])
    audit_record(
        action="accounts.organization.two_factor_changed",
        actor=actor,
        organization_id=organization.pk,
        obj=organization,
        data={"required": required},
    )
    return organization


@transaction.atomic
def api_token_create(
    *, user: User, organization: Organization, name: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    lifetime = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    token = ApiToken.objects.create(
        user=user,
        organization=organization,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=lifetime) if lifetime else None,
    )
    audit_record(
        action="accounts.api_token.created",
        actor=user,
        organization_id=organization.pk,
        obj=token,
        data={"name": name, "days": lifetime},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(action="accounts.api_token.revoked", actor=actor, organization_id=token.organization_id, obj=token)
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The usable token matching ``raw``, or None. Notes use at most once a minute."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not token.is_usable:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """A fresh unconfirmed authenticator for ``user`` (earlier unconfirmed ones are dropped)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, code: str) -> bool:
    if not device.verify_token(code):
        return False
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(action="accounts.totp_device.confirmed", actor=device.user, obj=device.user)
    return True
