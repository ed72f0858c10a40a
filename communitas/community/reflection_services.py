"""Writes for reflections. Only the participant writes, shares or withdraws their own
reflections (from their community space, so the actor is None). Audit entries carry the
pseudonym and the visibility codes, never the text."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitas.community.models import Reflection
from communitas.community.selectors import share_consent_refused
from communitas.core.audit import audit_record
from communitas.participants.models import Participant

MAX_LENGTH = 4000
Visibility = Reflection.Visibility


class ReflectionError(ValueError):
    pass


def _check_visibility(participant: Participant, visibility: str) -> None:
    if visibility not in Visibility.values:
        raise ReflectionError(_("Choose who can read this reflection."))
    if visibility == Visibility.MY_CIRCLE and share_consent_refused(participant):
        raise ReflectionError(
            _(
                "In your consent you said no to sharing reflections with your group, so this one cannot go to "
                "your circle. Choose another option, or tell the program team if you have changed your mind."
            )
        )


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ReflectionError(_("Write something first."))
    if len(text) > MAX_LENGTH:
        raise ReflectionError(_("A reflection can be at most %(n)d characters.") % {"n": MAX_LENGTH})
    if "\x00" in text:
        raise ReflectionError(_("The text contains a character that cannot be saved."))
    return text


def _audit(action: str, reflection: Reflection, participant: Participant, **data) -> None:
    audit_record(
        action=action,
        actor=None,
        organization_id=reflection.organization_id,
        obj=reflection,
        data={"participant": participant.pseudonym, **data},
    )


@transaction.atomic
def reflection_create(*, participant: Participant, body: str, visibility: str = Visibility.ONLY_ME) -> Reflection:
    text = _clean_body(body)
    _check_visibility(participant, visibility)
    reflection = Reflection.objects.create(
        organization_id=participant.organization_id, participant=participant, body=text, visibility=visibility
    )
    _audit("community.reflection.created", reflection, participant, visibility=visibility)
    return reflection


def _locked(reflection: Reflection, participant: Participant) -> Reflection:
    if reflection.participant_id != participant.pk:
        raise ReflectionError(_("This is not your reflection."))
    return Reflection.objects.select_for_update().get(pk=reflection.pk)


@transaction.atomic
def reflection_set_visibility(*, reflection: Reflection, participant: Participant, visibility: str) -> Reflection:
    """Change who can read it; the next page anyone opens follows the new choice."""
    _check_visibility(participant, visibility)
    locked = _locked(reflection, participant)
    previous = locked.visibility
    if previous == visibility:
        return locked
    locked.visibility = visibility
    locked.withdrawn_at = None if visibility != Visibility.ONLY_ME else locked.withdrawn_at
    locked.save(update_fields=["visibility", "withdrawn_at", "updated_at"])
    _audit("community.reflection.visibility_changed", locked, participant, previous=previous, visibility=visibility)
    return locked


@transaction.atomic
def reflection_withdraw(*, reflection: Reflection, participant: Participant) -> Reflection:
    """Stop sharing: from now on only the participant reads it (the row stays theirs)."""
    locked = _locked(reflection, participant)
    if locked.visibility == Visibility.ONLY_ME:
        return locked
    previous = locked.visibility
    locked.visibility, locked.withdrawn_at = Visibility.ONLY_ME, timezone.now()
    locked.save(update_fields=["visibility", "withdrawn_at", "updated_at"])
    _audit("community.reflection.withdrawn", locked, participant, previous=previous)
    return locked
