"""Reads for participants. Lookups by id answer 404 for both "missing" and "not yours"."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from communitas.accounts.models import Membership
from communitas.participants import search
from communitas.participants.models import Participant, ParticipantSearchToken, SupportPerson


def participants_for_membership(membership: Membership, query: str = "") -> QuerySet[Participant]:
    qs = Participant.objects.filter(organization_id=membership.organization_id, archived_at__isnull=True)
    for term, token in zip(
        search.query_terms(query),
        search.tokens(membership.organization_id, search.query_terms(query)),
        strict=True,
    ):
        has_token = ParticipantSearchToken.objects.filter(
            organization_id=membership.organization_id, participant=OuterRef("pk"), token=token
        )
        qs = qs.filter(Exists(has_token) | Q(pseudonym__iexact=term))
    # A correlated count, not a JOIN + GROUP BY: it runs for the page's rows only, so the list
    # walks the (organization, archived_at, -created_at) index however many people there are.
    live_support = (
        SupportPerson.objects.filter(participant=OuterRef("pk"), archived_at__isnull=True)
        .order_by()
        .values("participant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(support_count=Coalesce(Subquery(live_support), 0)).order_by("-created_at", "-id")


def participant_get_for_user(membership: Membership | None, participant_id) -> Participant:
    if membership is None:
        raise Http404("no such participant")
    participant = (
        Participant.objects.filter(
            organization_id=membership.organization_id, archived_at__isnull=True, pk=participant_id
        )
        .select_related("organization")
        .first()
    )
    if participant is None:
        raise Http404("no such participant")
    return participant


def support_persons_for_participant(participant: Participant) -> QuerySet[SupportPerson]:
    return SupportPerson.objects.filter(
        participant=participant, organization_id=participant.organization_id, archived_at__isnull=True
    ).order_by("created_at", "id")


def support_person_get(participant: Participant, person_id) -> SupportPerson:
    person = support_persons_for_participant(participant).filter(pk=person_id).first()
    if person is None:
        raise Http404("no such support person")
    return person


def consent_state(participant: Participant) -> dict[str, bool]:
    """Each scope's current answer: the newest decision, and a withdrawn yes is a no."""
    from communitas.participants.models import ConsentDecision

    state: dict[str, bool] = {}
    for decision in ConsentDecision.objects.filter(participant=participant).order_by("created_at", "id"):
        state[decision.scope] = decision.granted and decision.withdrawn_at is None
    return state


def participants_consenting_to(organization_id: int, scope: str) -> QuerySet[Participant]:
    """Participants whose newest decision on ``scope`` is a yes that has not been withdrawn.
    Every research read goes through this (``research_participants``)."""
    from django.db.models import OuterRef, Subquery

    from communitas.participants.models import ConsentDecision

    newest = ConsentDecision.objects.filter(participant=OuterRef("pk"), scope=scope).order_by("-created_at", "-id")
    return (
        Participant.objects.filter(organization_id=organization_id, archived_at__isnull=True)
        .annotate(
            consent_granted=Subquery(newest.values("granted")[:1]),
            consent_withdrawn=Subquery(newest.values("withdrawn_at")[:1]),
        )
        .filter(consent_granted=True, consent_withdrawn__isnull=True)
    )


def research_participants(organization_id: int) -> QuerySet[Participant]:
    """The only participants research reads (analytics, exports) may include."""
    return participants_consenting_to(organization_id, "research")


def consent_documents_for(organization_id: int, ids) -> QuerySet:
    from communitas.participants.models import ConsentDocument

    return ConsentDocument.objects.filter(organization_id=organization_id, pk__in=ids, retired_at__isnull=True)


def consent_states_for(participant_ids) -> dict[int, dict[str, bool]]:
    """``consent_state`` for many participants in one query."""
    from communitas.participants.models import ConsentDecision

    states: dict[int, dict[str, bool]] = {}
    rows = ConsentDecision.objects.filter(participant_id__in=list(participant_ids)).order_by("created_at", "id")
    for decision in rows.only("participant_id", "scope", "granted", "withdrawn_at"):
        states.setdefault(decision.participant_id, {})[decision.scope] = (
            decision.granted and decision.withdrawn_at is None
        )
    return states
