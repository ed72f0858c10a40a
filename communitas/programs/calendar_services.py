"""Calendar feeds: create one (the plaintext token is returned once and never stored) and revoke
one. Audited with ids and the feed's kind only, never the token or its hash."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import Membership, User
from communitas.core.audit import audit_record
from communitas.facilitators.models import FacilitatorProfile
from communitas.programs.calendar_permissions import (
    can_create_circle_feed,
    can_create_facilitator_feed,
    can_revoke_feed,
)
from communitas.programs.models import CalendarFeed, Circle

TOKEN_PREFIX = "cal_"
MAX_TOKEN_LENGTH = 100


def hash_feed_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(
    *,
    membership: Membership,
    actor: User,
    facilitator: FacilitatorProfile | None = None,
    circle: Circle | None = None,
) -> tuple[CalendarFeed, str]:
    """A feed of one facilitator's or one circle's sessions, with its plaintext token."""
    if facilitator is not None and circle is None:
        allowed = can_create_facilitator_feed(membership, facilitator)
    elif circle is not None and facilitator is None:
        allowed = can_create_circle_feed(membership, circle)
    else:
        raise ValueError("a calendar feed is for one facilitator or one circle")
    if not allowed:
        raise PermissionDenied
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(
        organization_id=membership.organization_id,
        kind=CalendarFeed.Kind.FACILITATOR if facilitator is not None else CalendarFeed.Kind.CIRCLE,
        facilitator=facilitator,
        circle=circle,
        secret_hash=hash_feed_token(raw),
        created_by=actor,
    )
    feed.full_clean()
    feed.save()
    audit_record(
        action="programs.calendar_feed.created",
        actor=actor,
        organization_id=feed.organization_id,
        obj=feed,
        data={"kind": feed.kind, "facilitator": feed.facilitator_id, "circle": feed.circle_id},
    )
    return feed, raw


@transaction.atomic
def calendar_feed_revoke(*, membership: Membership, actor: User, feed: CalendarFeed) -> CalendarFeed:
    if not can_revoke_feed(membership, feed):
        raise PermissionDenied
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            action="programs.calendar_feed.revoked",
            actor=actor,
            organization_id=feed.organization_id,
            obj=feed,
            data={"kind": feed.kind},
        )
    return feed
