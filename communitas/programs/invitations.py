"""Invitation tokens: signed with the secret key, bound to one Invitation row (expiry, revocation)."""

from __future__ import annotations

import hmac

from django.core import signing
from django.utils import timezone

from communitas.programs.models import Invitation

SALT = "communitas.programs.invitation"


class InvitationInvalid(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # tampered | expired | revoked


def token_for(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=SALT)


def invitation_resolve(token: str) -> Invitation:
    if len(token) > 300:
        raise InvitationInvalid("tampered")
    try:
        payload = signing.loads(token, salt=SALT)
        invitation_id, nonce = int(payload["i"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvitationInvalid("tampered") from None
    invitation = (
        Invitation.objects.select_related("program", "organization", "participant").filter(pk=invitation_id).first()
    )
    if invitation is None or not hmac.compare_digest(invitation.nonce, nonce):
        raise InvitationInvalid("tampered")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("revoked")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("expired")
    return invitation
