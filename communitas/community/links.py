"""Community-space tokens: signed with the secret key, bound to one CommunityLink row (expiry,
revocation). ``community_link_create`` issues one (staff, audited); ``community_link_resolve``
turns a token from a URL back into its row or raises ``CommunityLinkInvalid``."""

from __future__ import annotations

import datetime
import hmac
import secrets

from django.core import signing
from django.db import transaction
from django.utils import timezone

from communitas.community.models import CommunityLink
from communitas.core.audit import audit_record

SALT = "communitas.community.link"
DEFAULT_DAYS = 365  # a community space outlives the retreat: integration circles run for months


class CommunityLinkInvalid(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # tampered | expired | revoked | archived


def token_for(link: CommunityLink) -> str:
    return signing.dumps({"c": link.pk, "n": link.nonce}, salt=SALT)


@transaction.atomic
def community_link_create(*, participant, actor, days: int = DEFAULT_DAYS) -> tuple[CommunityLink, str]:
    """A new link for ``participant`` (earlier links stay valid until they expire or are revoked)."""
    if not 1 <= days <= 3 * 365:
        raise ValueError("a community link lasts between 1 day and 3 years")
    link = CommunityLink.objects.create(
        organization_id=participant.organization_id,
        participant=participant,
        nonce=secrets.token_urlsafe(16)[:32],
        expires_at=timezone.now() + datetime.timedelta(days=days),
        created_by=actor,
    )
    audit_record(
        action="community.link.created",
        actor=actor,
        organization_id=participant.organization_id,
        obj=link,
        data={"participant": participant.pseudonym, "days": days},
    )
    return link, token_for(link)


@transaction.atomic
def community_link_revoke(*, link: CommunityLink, actor) -> CommunityLink:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            action="community.link.revoked", actor=actor, organization_id=link.organization_id, obj=link, data={}
        )
    return link


def community_link_resolve(token: str) -> CommunityLink:
    if not isinstance(token, str) or len(token) > 300:
        raise CommunityLinkInvalid("tampered")
    try:
        payload = signing.loads(token, salt=SALT)
        link_id, nonce = int(payload["c"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise CommunityLinkInvalid("tampered") from None
    link = CommunityLink.objects.select_related("organization", "participant").filter(pk=link_id).first()
    if link is None or not hmac.compare_digest(link.nonce, nonce):
        raise CommunityLinkInvalid("tampered")
    if link.revoked_at is not None:
        raise CommunityLinkInvalid("revoked")
    if link.expires_at <= timezone.now():
        raise CommunityLinkInvalid("expired")
    if link.participant.archived_at is not None:
        raise CommunityLinkInvalid("archived")
    return link
