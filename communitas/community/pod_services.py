"""Writes for pods: preferences, never-together pairs, proposals (through the pure
``communitas.community.pods.propose``), staff adjustments, sending, members' answers and
check-ins. Every write is atomic, validated before anything is saved, and audited with ids and
codes only (never a note, an area or a name).

A pod becomes active when enough members accept: both people of a buddy pair, or 3 people of a
pod. A pod that can no longer reach that number (too many declined) did not form
(``dissolved``); an active pod that falls below it is closed. Someone who has not answered may
still accept an active pod and join it."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitas.accounts.models import User
from communitas.community import pods as engine
from communitas.community.models import NeverTogether, Pod, PodCheckIn, PodMember, PodPreference, PodProposal
from communitas.community.selectors import never_together_pairs, open_pod_member, retreat_people
from communitas.core.audit import audit_record
from communitas.participants.models import Participant, language_tag
from communitas.programs.models import Retreat

MAX_LANGUAGES = 10
CHECK_IN_MAX_AGE = datetime.timedelta(days=366)


class PodError(ValueError):
    pass


def _audit(action: str, actor, obj, **data) -> None:
    audit_record(action=action, actor=actor, organization_id=obj.organization_id, obj=obj, data=data)


# --- preferences ---------------------------------------------------------------------------------


def _clean_languages(languages: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in languages:
        tag = str(tag).strip()
        try:
            language_tag(tag)
        except Exception as exc:
            raise PodError(_("Use language tags such as en, es or pt-BR.")) from exc
        if tag.lower() not in [t.lower() for t in out]:
            out.append(tag)
    if len(out) > MAX_LANGUAGES:
        raise PodError(_("Give at most %(n)d languages.") % {"n": MAX_LANGUAGES})
    return out


def _clean_time_zone(name: str) -> str:
    name = (name or "").strip()
    if name and name not in zoneinfo.available_timezones():
        raise PodError(_("Choose a time zone from the list."))
    return name


@transaction.atomic
def pod_preference_set(
    *,
    participant: Participant,
    actor: User | None = None,
    languages: Iterable[str] = (),
    time_zone: str = "",
    area: str = "",
    availability: Iterable[str] = (),
    size: str = PodPreference.Size.EITHER,
    veteran: bool = False,
    prefer_veterans: bool = False,
) -> PodPreference:
    slots = sorted(set(availability))
    if not set(slots) <= set(PodPreference.Slot.values):
        raise PodError(_("Choose times from the list."))
    if size not in PodPreference.Size.values:
        raise PodError(_("Choose a pod or a buddy."))
    values = {
        "languages": _clean_languages(languages),
        "time_zone": _clean_time_zone(time_zone),
        "area": (area or "").strip()[:80],
        "availability": slots,
        "size": size,
        "veteran": bool(veteran),
        "prefer_veterans": bool(prefer_veterans),
    }
    preference = PodPreference.objects.filter(participant=participant).first()
    if preference is None:
        preference = PodPreference(organization_id=participant.organization_id, participant=participant)
    changed = [name for name, value in values.items() if getattr(preference, name) != value or preference.pk is None]
    for name, value in values.items():
        setattr(preference, name, value)
    preference.save()
    _audit("community.pod_preference.saved", actor, preference, participant=participant.pseudonym, fields=changed)
    return preference


# --- never together ------------------------------------------------------------------------------


@transaction.atomic
def never_together_record(*, first: Participant, second: Participant, reason: str, actor: User) -> NeverTogether:
    if first.pk == second.pk:
        raise PodError(_("Choose two different people."))
    if first.organization_id != second.organization_id:
        raise PodError(_("Both people must belong to this organization."))
    if reason not in NeverTogether.Reason.values:
        raise PodError(_("Choose a reason."))
    a, b = sorted((first, second), key=lambda p: p.pk)
    existing = NeverTogether.objects.filter(participant_a=a, participant_b=b).first()
    if existing is not None:
        return existing
    pair = NeverTogether.objects.create(
        organization_id=a.organization_id, participant_a=a, participant_b=b, reason=reason, recorded_by=actor
    )
    _audit("community.never_together.recorded", actor, pair, reason=reason, participants=[a.pseudonym, b.pseudonym])
    return pair


@transaction.atomic
def never_together_remove(*, pair: NeverTogether, actor: User) -> None:
    _audit("community.never_together.removed", actor, pair, reason=pair.reason)
    pair.delete()


# --- proposals -----------------------------------------------------------------------------------


def _offset(time_zone: str, on: datetime.date) -> int | None:
    if not time_zone:
        return None
    noon = datetime.datetime.combine(on, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(time_zone))
    delta = noon.utcoffset()
    return None if delta is None else int(delta.total_seconds() // 60)


def as_person(participant: Participant, preference: PodPreference | None, on: datetime.date) -> engine.Person:
    """The plain data the proposal function reads (language defaults to the preferred one)."""
    if preference is None:
        return engine.Person(id=participant.pk, languages=frozenset({participant.preferred_language.lower()}))
    languages = preference.languages or [participant.preferred_language]
    return engine.Person(
        id=participant.pk,
        languages=frozenset(t.lower() for t in languages),
        utc_offset=_offset(preference.time_zone, on),
        time_zone=preference.time_zone,
        area=preference.area.strip(),
        availability=frozenset(preference.availability),
        size=preference.size,
        veteran=preference.veteran,
        prefer_veterans=preference.prefer_veterans,
    )


def people_as_persons(people: list[Participant], on: datetime.date) -> dict[int, engine.Person]:
    prefs = {p.participant_id: p for p in PodPreference.objects.filter(participant__in=people)}
    return {p.pk: as_person(p, prefs.get(p.pk), on) for p in people}


def _reasons(reasons: Iterable[engine.Reason]) -> list[dict]:
    return [{"code": r.code, "value": r.value} for r in reasons]


def _placed_ids(retreat: Retreat) -> set[int]:
    """People already in a pod proposed to them or active (they are not proposed again)."""
    return set(
        PodMember.objects.filter(pod__retreat=retreat, pod__status__in=[Pod.Status.SENT, Pod.Status.ACTIVE])
        .exclude(response=PodMember.Response.DECLINED)
        .values_list("participant_id", flat=True)
    )


def _next_number(retreat: Retreat) -> int:
    return Pod.objects.filter(retreat=retreat).exclude(status=Pod.Status.DRAFT).count() + 1


@transaction.atomic
def pods_propose(*, retreat: Retreat, actor: User, today: datetime.date | None = None) -> PodProposal:
    """A new proposal for everyone at the retreat who has no pod yet; earlier drafts are replaced."""
    Retreat.objects.select_for_update().get(pk=retreat.pk)  # one proposal at a time per retreat
    placed = _placed_ids(retreat)
    people = [p for p in retreat_people(retreat) if p.pk not in placed]
    persons = people_as_persons(people, today or timezone.localdate())
    result = engine.propose(persons.values(), never_together_pairs(retreat.organization_id, persons))
    _rows, deleted = Pod.objects.filter(retreat=retreat, status=Pod.Status.DRAFT).delete()
    proposal = PodProposal.objects.create(
        organization_id=retreat.organization_id,
        retreat=retreat,
        created_by=actor,
        unplaced=[{"participant": u.person, "reasons": _reasons(u.reasons)} for u in result.unplaced],
    )
    number = _next_number(retreat)
    for i, group in enumerate(result.groups):
        label = _("Pair %(n)d") if group.kind == "pair" else _("Pod %(n)d")
        pod = Pod.objects.create(
            organization_id=retreat.organization_id,
            retreat=retreat,
            proposal=proposal,
            name=label % {"n": number + i},
            kind=group.kind,
            explanation=_reasons(group.reasons),
        )
        PodMember.objects.bulk_create(
            PodMember(organization_id=retreat.organization_id, pod=pod, participant_id=pid) for pid in group.members
        )
    _audit(
        "community.pod_proposal.created",
        actor,
        proposal,
        retreat=retreat.pk,
        pods=sum(1 for g in result.groups if g.kind == "pod"),
        pairs=sum(1 for g in result.groups if g.kind == "pair"),
        unplaced=len(result.unplaced),
        replaced_drafts=deleted.get(Pod._meta.label, 0),
    )
    return proposal


def _refresh(pod: Pod, today: datetime.date) -> None:
    """Recompute a draft pod's kind and explanation after its members changed."""
    people = list(Participant.objects.filter(pod_members__pod=pod).order_by("id"))
    persons = people_as_persons(people, today)
    blocked = never_together_pairs(pod.organization_id, persons)
    pod.kind = Pod.Kind.PAIR if len(people) == 2 else Pod.Kind.POD
    pod.explanation = _reasons(engine.explain(list(persons.values()), blocked))
    pod.save(update_fields=["kind", "explanation", "updated_at"])


def _set_unplaced(retreat: Retreat, participant_id: int, placed: bool) -> None:
    proposal = PodProposal.objects.select_for_update().filter(retreat=retreat).order_by("-created_at", "-id").first()
    if proposal is None:
        return
    rows = [row for row in proposal.unplaced if row["participant"] != participant_id]
    if not placed:
        rows.append({"participant": participant_id, "reasons": [{"code": "moved_out", "value": ""}]})
    proposal.unplaced = rows
    proposal.save(update_fields=["unplaced", "updated_at"])


@transaction.atomic
def pod_member_move(
    *, retreat: Retreat, participant: Participant, to_pod: Pod | None, actor: User, today: datetime.date | None = None
) -> None:
    """Staff move someone into a draft pod of the retreat, or out of all of them (``None``).
    Refused: a pod already sent, more than five people, or a never-together pair."""
    today = today or timezone.localdate()
    if participant.pk not in {p.pk for p in retreat_people(retreat)}:
        raise PodError(_("This person did not take part in this retreat."))
    current = open_pod_member(retreat, participant.pk)
    if current is not None and current.pod.status != Pod.Status.DRAFT:
        raise PodError(_("This person's pod was already proposed to them; it cannot be changed here."))
    if to_pod is not None:
        to_pod = Pod.objects.select_for_update().get(pk=to_pod.pk)
        if to_pod.retreat_id != retreat.pk or to_pod.status != Pod.Status.DRAFT:
            raise PodError(_("People can be moved only into draft pods of this retreat."))
        if current is not None and current.pod_id == to_pod.pk:
            return
        others = list(to_pod.members.values_list("participant_id", flat=True))
        if len(others) >= engine.MAX_POD:
            raise PodError(_("A pod has at most %(n)d people.") % {"n": engine.MAX_POD})
        blocked = never_together_pairs(retreat.organization_id, [participant.pk, *others])
        if blocked:
            raise PodError(_("This person must never be grouped with someone in that pod."))
    elif current is None:
        return
    source = current.pod if current is not None else None
    if current is not None:
        current.delete()
        _refresh(source, today)  # type: ignore[arg-type]
    if to_pod is not None:
        PodMember.objects.create(organization_id=retreat.organization_id, pod=to_pod, participant=participant)
        _refresh(to_pod, today)
    _set_unplaced(retreat, participant.pk, placed=to_pod is not None)
    _audit(
        "community.pod.member_moved",
        actor,
        to_pod or source,
        participant=participant.pseudonym,
        source=source.pk if source else None,
        target=to_pod.pk if to_pod else None,
    )


def _send_problems(pods: list[Pod]) -> list[str]:
    problems = []
    for pod in pods:
        ids = [m.participant_id for m in pod.members.all()]
        if len(ids) == 1 or len(ids) > engine.MAX_POD:
            problems.append(_("%(pod)s has %(n)d people (2 to 5).") % {"pod": pod.name, "n": len(ids)})
        elif never_together_pairs(pod.organization_id, ids):
            problems.append(_("%(pod)s groups two people who must never be together.") % {"pod": pod.name})
    return problems


@transaction.atomic
def pods_send(*, retreat: Retreat, actor: User) -> list[Pod]:
    """Offer every draft pod of the retreat to its members (all or nothing); empty drafts go."""
    drafts = list(Pod.objects.select_for_update().filter(retreat=retreat, status=Pod.Status.DRAFT).order_by("id"))
    empty = {p.pk for p in drafts if not p.members.exists()}
    Pod.objects.filter(pk__in=empty).delete()
    drafts = [p for p in drafts if p.pk not in empty]
    if not drafts:
        raise PodError(_("There are no draft pods to send."))
    problems = _send_problems(drafts)
    if problems:
        raise PodError(" ".join(problems))
    now = timezone.now()
    for pod in drafts:
        size = pod.members.count()
        pod.status, pod.sent_at = Pod.Status.SENT, now
        pod.kind = Pod.Kind.PAIR if size == 2 else Pod.Kind.POD
        pod.save(update_fields=["status", "sent_at", "kind", "updated_at"])
        _audit("community.pod.sent", actor, pod, kind=pod.kind, members=size)
    return drafts


# --- members' answers, closing -------------------------------------------------------------------


def threshold(pod: Pod) -> int:
    """Accepted members a pod needs to be active: both of a pair, three of a pod."""
    return 2 if pod.kind == Pod.Kind.PAIR else engine.MIN_POD


def _settle(pod: Pod) -> None:
    counts = {r: 0 for r in PodMember.Response.values}
    for response in pod.members.values_list("response", flat=True):
        counts[response] += 1
    accepted, pending = counts[PodMember.Response.ACCEPTED], counts[PodMember.Response.PENDING]
    now, need = timezone.now(), threshold(pod)
    if pod.status == Pod.Status.SENT and accepted >= need:
        pod.status, pod.activated_at, action = Pod.Status.ACTIVE, now, "community.pod.activated"
    elif pod.status == Pod.Status.SENT and accepted + pending < need:
        pod.status, pod.closed_at, action = Pod.Status.DISSOLVED, now, "community.pod.dissolved"
    elif pod.status == Pod.Status.ACTIVE and accepted + pending < need:
        pod.status, pod.closed_at, action = Pod.Status.CLOSED, now, "community.pod.closed"
    else:
        return
    pod.save(update_fields=["status", "activated_at", "closed_at", "updated_at"])
    _audit(action, None, pod, accepted=accepted)


@transaction.atomic
def pod_respond(*, member: PodMember, accept: bool) -> PodMember:
    """A member accepts or declines (or, later, leaves) a pod proposed to them."""
    pod = Pod.objects.select_for_update().get(pk=member.pod_id)
    if pod.status not in (Pod.Status.SENT, Pod.Status.ACTIVE):
        raise PodError(_("This pod is no longer open."))
    member = PodMember.objects.select_for_update().get(pk=member.pk)
    response = PodMember.Response.ACCEPTED if accept else PodMember.Response.DECLINED
    if member.response == response:
        return member
    if member.response == PodMember.Response.DECLINED:
        raise PodError(_("You declined this pod. Ask the program team if you would like to join after all."))
    member.response, member.responded_at = response, timezone.now()
    member.save(update_fields=["response", "responded_at", "updated_at"])
    _audit("community.pod_member.responded", None, member, pod=pod.pk, response=response)
    _settle(pod)
    return member


@transaction.atomic
def pod_close(*, pod: Pod, actor: User) -> Pod:
    locked = Pod.objects.select_for_update().get(pk=pod.pk)
    if locked.status not in (Pod.Status.SENT, Pod.Status.ACTIVE):
        raise PodError(_("Only a proposed or active pod can be closed."))
    locked.status, locked.closed_at = Pod.Status.CLOSED, timezone.now()
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    _audit("community.pod.closed", actor, locked, by="staff")
    return locked


# --- check-ins -----------------------------------------------------------------------------------


@transaction.atomic
def check_in_log(
    *,
    member: PodMember,
    on: datetime.date,
    mode: str,
    mood: int | None = None,
    note: str = "",
    note_shared: bool = False,
    today: datetime.date | None = None,
) -> PodCheckIn:
    """A member logs that the pod met or talked (for the whole pod; any member may log it)."""
    today = today or timezone.localdate()
    pod = Pod.objects.get(pk=member.pod_id)
    if pod.status != Pod.Status.ACTIVE or member.response != PodMember.Response.ACCEPTED:
        raise PodError(_("Check-ins are for members of an active pod."))
    if not isinstance(on, datetime.date) or on > today or on < today - CHECK_IN_MAX_AGE:
        raise PodError(_("Give a date in the past year, not in the future."))
    if mode not in PodCheckIn.Mode.values:
        raise PodError(_("Choose how you met."))
    if mood is not None and (isinstance(mood, bool) or not 0 <= mood <= 10):
        raise PodError(_("Mood is a number from 0 to 10."))
    text = (note or "").strip()
    if len(text) > 2000 or "\x00" in text:
        raise PodError(_("A note can be at most 2000 characters."))
    check_in = PodCheckIn.objects.create(
        organization_id=member.organization_id,
        pod=pod,
        author_id=member.participant_id,
        on=on,
        mode=mode,
        mood=mood,
        note=text,
        note_shared=bool(note_shared and text),
    )
    _audit(
        "community.check_in.logged",
        None,
        check_in,
        pod=pod.pk,
        mode=mode,
        mood_given=mood is not None,
        note=bool(text),
        shared=check_in.note_shared,
    )
    return check_in
