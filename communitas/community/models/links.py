"""A participant's way into their community space (circles, agreements, pods, reflections) on a
phone, without an account. The URL carries a token signed with the secret key naming this row and
its nonce; the row carries expiry and revocation (the same pattern as program invitations and
assessment links)."""

from django.db import models

from communitas.core.models import OrganizationScopedModel

__all__ = ["CommunityLink"]


class CommunityLink(OrganizationScopedModel):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="community_links"
    )
    nonce = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"community link {self.pk} for {self.participant_id}"
