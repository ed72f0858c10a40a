"""Participant link tokens: signed (secret key) and bound to one AssessmentLink row, which holds
expiry and revocation. A tampered token fails the signature; an expired or revoked one fails the
row. Pure apart from reading the row."""

from __future__ import annotations

import hmac

from django.core import signing
from django.utils import timezone

from communitas.outcomes.models import AssessmentLink

SALT = "communitas.outcomes.assessment-link"


class LinkInvalid(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # tampered | expired | revoked


def token_for(link: AssessmentLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=SALT, compress=False)


def link_resolve(token: str) -> AssessmentLink:
    if len(token) > 300:
        raise LinkInvalid("tampered")
    try:
        payload = signing.loads(token, salt=SALT)
        link_id, nonce = int(payload["l"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("tampered") from None
    link = (
        AssessmentLink.objects.select_related("assessment", "assessment__participant", "organization")
        .filter(pk=link_id)
        .first()
    )
    if link is None or not hmac.compare_digest(link.nonce, nonce):
        raise LinkInvalid("tampered")
    if link.revoked_at is not None or link.assessment.cancelled_at is not None:
        raise LinkInvalid("revoked")
    if link.expires_at <= timezone.now():
        raise LinkInvalid("expired")
    return link
