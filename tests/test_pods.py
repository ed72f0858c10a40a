"""Peer-support pods: the pure proposal function, then proposing, adjusting and sending pods for
a retreat, members answering in their space, check-ins and who sees what."""

import random
import re

import pytest
from django.test import Client
from django.utils import timezone

from communitas.community import pod_services as services
from communitas.community.links import community_link_create
from communitas.community.models import NeverTogether, Pod, PodCheckIn, PodMember, PodPreference
from communitas.community.pods import MAX_TZ_GAP, Person, explain, pod_sizes, propose
from communitas.core.models import AuditEntry
from communitas.participants.models import Participant
from tests.api_helpers import assert_error, call
from tests.community_helpers import attendee, community

# --- the pure proposal function (no database) ----------------------------------------------------


def conflict(response):
    assert response.status_code == 409, response.content
    assert set(response.json()) == {"error", "detail"} and response.json()["error"] == "conflict"


def people(n, **fields):
    return [Person(id=i, languages=frozenset({"en"}), **fields) for i in range(1, n + 1)]


def members(proposal):
    return [set(g.members) for g in proposal.groups]


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(0, []), (2, []), (3, [3]), (5, [5]), (6, [3, 3]), (7, [4, 3]), (9, [5, 4]), (10, [4, 3, 3]), (13, [5, 4, 4])],
)
def test_pods_hold_three_to_five_people_near_four(n, sizes):
    assert pod_sizes(n) == sizes


def _random_people(rng, n):
    out = []
    for i in range(1, n + 1):
        slots = {s for s in ("weekday_evening", "weekend_morning", "weekend_evening") if rng.random() < 0.5}
        out.append(
            Person(
                id=i * 7,
                languages=frozenset(rng.sample(["en", "es", "pt"], rng.choice([1, 1, 2]))),
                utc_offset=rng.choice([None, -480, -420, -300, 0, 60]),
                availability=frozenset(slots),
                size=rng.choice(["either", "either", "pod", "pair"]),
                veteran=rng.random() < 0.3,
                prefer_veterans=rng.random() < 0.2,
            )
        )
    return out


@pytest.mark.parametrize("seed", range(60))
def test_it_never_breaks_a_hard_rule_and_places_or_explains_everyone(seed):
    rng = random.Random(seed)
    crowd = _random_people(rng, rng.randint(2, 18))
    ids = [p.id for p in crowd]
    blocked = {tuple(rng.sample(ids, 2)) for _ in range(rng.randint(0, len(ids)))}
    proposal = propose(crowd, blocked)
    by_id = {p.id: p for p in crowd}
    placed = [i for g in proposal.groups for i in g.members]
    assert sorted(placed + [u.person for u in proposal.unplaced]) == sorted(ids)  # everyone exactly once
    for group in proposal.groups:
        assert (group.kind, 2) == ("pair", len(group.members)) or (group.kind == "pod" and 3 <= len(group.members) <= 5)
        assert not any({a, b} <= set(group.members) for a, b in blocked)
        crew = [by_id[i] for i in group.members]
        assert frozenset.intersection(*(m.languages for m in crew))
        offsets = [m.utc_offset for m in crew if m.utc_offset is not None]
        assert not offsets or max(offsets) - min(offsets) <= MAX_TZ_GAP
        times = [m.availability for m in crew if m.availability]
        assert not times or frozenset.intersection(*times)
        assert not any(
            r.code.startswith("warning_") and r.code != "warning_veteran_preference_unmet" for r in group.reasons
        )
    assert all(u.reasons for u in proposal.unplaced)
    shuffled = crowd[:]
    rng.shuffle(shuffled)
    assert propose(shuffled, [tuple(reversed(pair)) for pair in blocked]) == proposal  # deterministic


def test_people_who_share_no_language_are_not_grouped_and_told_why():
    crowd = [*people(3), Person(id=4, languages=frozenset({"es"})), Person(id=5, languages=frozenset({"es"}))]
    proposal = propose(crowd)
    assert members(proposal) == [{1, 2, 3}, {4, 5}]
    assert [g.kind for g in proposal.groups] == ["pod", "pair"]
    lonely = propose([*people(3), Person(id=9, languages=frozenset({"qu"}))])
    assert [(u.person, [r.code for r in u.reasons]) for u in lonely.unplaced] == [(9, ["no_shared_language"])]
    assert lonely.unplaced[0].reasons[0].value == "3"


def test_never_together_is_respected_even_when_it_leaves_someone_out():
    proposal = propose(people(3), [(1, 2)])
    assert members(proposal) == [{1, 3}]
    assert [u.person for u in proposal.unplaced] == [2]
    assert proposal.unplaced[0].reasons[0].code == "no_buddy_left"
    alone = propose(people(2), [(1, 2)])
    assert alone.groups == () and {r.code for u in alone.unplaced for r in u.reasons} == {"never_together"}


def test_time_zones_and_times_decide_who_can_meet():
    west = [
        Person(id=i, languages=frozenset({"en"}), utc_offset=-480, time_zone="America/Los_Angeles") for i in (1, 2, 3)
    ]
    east = [Person(id=i, languages=frozenset({"en"}), utc_offset=60, time_zone="Europe/Berlin") for i in (4, 5, 6)]
    proposal = propose(west + east)
    assert members(proposal) == [{1, 2, 3}, {4, 5, 6}]
    assert ("same_time_zone", "America/Los_Angeles") in [(r.code, r.value) for r in proposal.groups[0].reasons]
    mornings = [
        Person(id=i, languages=frozenset({"en"}), availability=frozenset({"weekend_morning"})) for i in (1, 2, 3)
    ]
    evenings = [
        Person(id=i, languages=frozenset({"en"}), availability=frozenset({"weekday_evening"})) for i in (4, 5, 6)
    ]
    assert members(propose(mornings + evenings)) == [{1, 2, 3}, {4, 5, 6}]


def test_veterans_who_ask_for_veterans_get_them():
    crowd = [Person(id=i, languages=frozenset({"en"}), veteran=i % 2 == 0, prefer_veterans=i == 2) for i in range(1, 7)]
    proposal = propose(crowd)
    assert {2, 4, 6} in members(proposal)
    assert "veterans_together" in [r.code for g in proposal.groups for r in g.reasons]


def test_a_buddy_request_makes_a_pair_and_a_pod_request_a_pod():
    crowd = [
        *people(3, size="pod"),
        Person(id=4, languages=frozenset({"en"}), size="pair"),
        Person(id=5, languages=frozenset({"en"}), size="pair"),
    ]
    proposal = propose(crowd)
    assert [(g.kind, set(g.members)) for g in proposal.groups] == [("pod", {1, 2, 3}), ("pair", {4, 5})]


def test_the_explanation_names_what_they_share_and_flags_what_a_change_broke():
    group = [
        Person(id=1, languages=frozenset({"es", "en"}), area="Bend", availability=frozenset({"weekday_evening"})),
        Person(
            id=2,
            languages=frozenset({"es"}),
            area="bend",
            availability=frozenset({"weekday_evening", "weekend_morning"}),
        ),
    ]
    codes = {(r.code, r.value) for r in explain(group)}
    assert {("shared_language", "es"), ("shared_times", "weekday_evening"), ("same_area", "")} <= codes
    assert not any("Bend" in value for _code, value in codes)  # the area itself is never reported
    broken = explain([*group, Person(id=3, languages=frozenset({"en"}))], {frozenset({1, 3})})
    assert {"warning_no_shared_language", "warning_never_together"} <= {r.code for r in broken}


def test_it_refuses_duplicate_people_and_unknown_sizes():
    with pytest.raises(ValueError):
        propose([Person(id=1), Person(id=1)])
    with pytest.raises(ValueError):
        propose([Person(id=1, size="trio")])


# --- proposing, adjusting and sending for a retreat ----------------------------------------------


@pytest.fixture
def world(org, alice, bob):
    w = community(org, alice, bob)  # Ana, Ben, Chen in Bob's circle; Dana at the retreat only
    for name in ("Eli Park", "Femi Ade", "Gus Moll"):
        person = attendee(w.retreat, alice, display_name=name)
        w.tokens[person.pk] = community_link_create(participant=person, actor=alice)[1]
    return w


def _propose(client, world):
    return client.post(f"/community/retreats/{world.retreat.pk}/pods/propose/")


def test_a_coordinator_proposes_pods_for_everyone_at_the_retreat(world, alice_client):
    response = _propose(alice_client, world)
    assert response.status_code == 302
    pods = list(Pod.objects.filter(retreat=world.retreat))
    assert [p.status for p in pods] == ["draft"] * len(pods) and len(pods) == 2  # 7 people: 4 + 3
    assert sorted(PodMember.objects.filter(pod__in=pods).values_list("participant__id", flat=True)) == sorted(
        world.tokens
    )
    page = alice_client.get(f"/community/retreats/{world.retreat.pk}/pods/").content.decode()
    assert "Share a language: en" in page and "Everyone has a place." in page
    entry = AuditEntry.objects.get(action="community.pod_proposal.created")
    assert entry.data == {"retreat": world.retreat.pk, "pods": 2, "pairs": 0, "unplaced": 0, "replaced_drafts": 0}


def test_proposals_respect_never_together_pairs_and_preferences(world, alice, alice_client):
    ana, ben = world.members[0], world.members[1]
    services.never_together_record(first=ana, second=ben, reason="relationship", actor=alice)
    services.pod_preference_set(participant=world.stranger, languages=["qu"])
    _propose(alice_client, world)
    for pod in Pod.objects.filter(retreat=world.retreat):
        ids = set(pod.members.values_list("participant_id", flat=True))
        assert not {ana.pk, ben.pk} <= ids and world.stranger.pk not in ids
    page = alice_client.get(f"/community/retreats/{world.retreat.pk}/pods/").content.decode()
    assert "Shares no language with 6 of the others" in page


def test_staff_move_people_but_never_next_to_someone_they_must_never_be_with(world, alice, alice_client):
    _propose(alice_client, world)
    first, second = Pod.objects.filter(retreat=world.retreat).order_by("id")
    mover = first.members.order_by("participant_id").first().participant
    url = f"/community/retreats/{world.retreat.pk}/pods/move/"
    assert alice_client.post(url, {"participant": mover.pk, "pod": second.pk}).status_code == 302
    assert PodMember.objects.get(participant=mover).pod == second
    enemy = first.members.order_by("participant_id").first().participant
    services.never_together_record(first=mover, second=enemy, reason="conflict", actor=alice)
    before = sorted(PodMember.objects.values_list("pod_id", "participant_id"))
    response = alice_client.post(url, {"participant": mover.pk, "pod": first.pk})
    assert response.status_code == 400 and "must never be grouped" in response.content.decode()
    assert sorted(PodMember.objects.values_list("pod_id", "participant_id")) == before
    assert alice_client.post(url, {"participant": mover.pk, "pod": ""}).status_code == 302
    assert not PodMember.objects.filter(participant=mover).exists()
    assert (
        "Moved out of a pod by staff"
        in alice_client.get(f"/community/retreats/{world.retreat.pk}/pods/").content.decode()
    )


def test_sending_is_all_or_nothing(world, alice_client):
    _propose(alice_client, world)
    first = Pod.objects.filter(retreat=world.retreat).order_by("id").first()
    url = f"/community/retreats/{world.retreat.pk}/pods/move/"
    for member in list(first.members.order_by("participant_id"))[1:]:
        alice_client.post(url, {"participant": member.participant_id, "pod": ""})
    response = alice_client.post(f"/community/retreats/{world.retreat.pk}/pods/send/")
    assert response.status_code == 400 and "has 1 people" in response.content.decode()
    assert set(Pod.objects.values_list("status", flat=True)) == {"draft"}
    alice_client.post(url, {"participant": first.members.get().participant_id, "pod": ""})
    assert alice_client.post(f"/community/retreats/{world.retreat.pk}/pods/send/").status_code == 302
    assert list(Pod.objects.values_list("status", flat=True)) == ["sent"]  # the empty draft went


def _sent(world, alice):
    services.pods_propose(retreat=world.retreat, actor=alice)
    return services.pods_send(retreat=world.retreat, actor=alice)


def test_members_answer_in_their_space_and_a_pod_starts_with_three(world, alice):
    pod = next(p for p in _sent(world, alice) if p.members.count() == 4)
    people = [m.participant for m in pod.members.order_by("participant_id")]
    home = Client().get(f"/c/{world.tokens[people[0].pk]}/").content.decode()
    assert "A pod is proposed for you" in home
    page = Client().get(f"/c/{world.tokens[people[0].pk]}/pods/{pod.pk}/").content.decode()
    assert "a group of 4 people" in page and not any(p.display_name.split()[0] in page for p in people[1:])
    for i, person in enumerate(people[:3]):
        assert (
            Client().post(f"/c/{world.tokens[person.pk]}/pods/{pod.pk}/respond/", {"answer": "accept"}).status_code
            == 302
        )
        pod.refresh_from_db()
        assert pod.status == ("active" if i == 2 else "sent")
    page = Client().get(f"/c/{world.tokens[people[0].pk]}/pods/{pod.pk}/").content.decode()
    assert people[1].display_name.split()[0] in page and people[3].display_name.split()[0] not in page
    assert (
        Client().post(f"/c/{world.tokens[people[3].pk]}/pods/{pod.pk}/respond/", {"answer": "decline"}).status_code
        == 302
    )
    assert Client().get(f"/c/{world.tokens[people[3].pk]}/pods/{pod.pk}/").status_code == 404
    assert AuditEntry.objects.filter(action="community.pod.activated", object_id=str(pod.pk)).count() == 1


def test_a_pair_needs_both_and_one_decline_dissolves_it(org, alice, bob):
    world = community(org, alice, bob, members=1)  # two people at the retreat: a buddy pair
    pod = _sent(world, alice)[0]
    assert pod.kind == "pair"
    first, second = [m.participant for m in pod.members.order_by("participant_id")]
    services.pod_respond(member=PodMember.objects.get(pod=pod, participant=first), accept=True)
    services.pod_respond(member=PodMember.objects.get(pod=pod, participant=second), accept=False)
    pod.refresh_from_db()
    assert pod.status == "dissolved"
    with pytest.raises(services.PodError):
        services.pod_respond(member=PodMember.objects.get(pod=pod, participant=first), accept=True)


def _active(world, alice):
    pod = next(p for p in _sent(world, alice) if p.members.count() == 4)
    rows = list(pod.members.order_by("participant_id"))
    for member in rows[:3]:
        services.pod_respond(member=member, accept=True)
    return pod, [PodMember.objects.get(pk=m.pk) for m in rows]


NOTE = "Private check-in note 9c1b"
SHARED_NOTE = "Shared with the pod 3a7e"


def test_check_in_notes_reach_only_the_author_or_the_pod_they_chose_never_staff(
    world, alice, alice_client, bob_client, alice_api
):
    pod, rows = _active(world, alice)
    author, other = rows[0], rows[1]
    today = timezone.localdate().isoformat()
    url = f"/c/{world.tokens[author.participant_id]}/pods/{pod.pk}/check-ins/"
    assert Client().post(url, {"on": today, "mode": "video", "mood": "6", "note": NOTE}).status_code == 302
    assert (
        Client().post(url, {"on": today, "mode": "call", "note": SHARED_NOTE, "note_shared": "on"}).status_code == 302
    )
    stored = PodCheckIn.objects.get(mode="video")
    assert stored.note == NOTE and stored.mood == 6 and not stored.note_shared
    own = Client().get(f"/c/{world.tokens[author.participant_id]}/pods/{pod.pk}/").content.decode()
    assert NOTE in own and SHARED_NOTE in own
    theirs = Client().get(f"/c/{world.tokens[other.participant_id]}/pods/{pod.pk}/").content.decode()
    assert SHARED_NOTE in theirs and NOTE not in theirs and "mood 6/10" not in theirs
    for client in (alice_client, bob_client):
        staff = client.get(f"/community/pods/{pod.pk}/").content.decode()
        assert NOTE not in staff and SHARED_NOTE not in staff and "Video" in staff
    api = call(Client(), "get", f"/community/pods/{pod.pk}/check-ins", **alice_api).json()
    assert {"note", "note_shared"}.isdisjoint(api["items"][0]) and "9c1b" not in str(api)
    logged = " ".join(str(e.data) for e in AuditEntry.objects.filter(action="community.check_in.logged"))
    assert "9c1b" not in logged and "3a7e" not in logged


@pytest.mark.parametrize(
    "data",
    [
        {"on": "2999-01-01", "mode": "call"},
        {"on": "2000-01-01", "mode": "call"},
        {"mode": "call"},
        {"on": "today", "mode": "carrier pigeon"},
        {"on": "today", "mode": "call", "mood": "11"},
        {"on": "today", "mode": "call", "note": "x" * 2001},
    ],
)
def test_a_bad_check_in_changes_nothing(world, alice, data):
    pod, rows = _active(world, alice)
    data = {k: (timezone.localdate().isoformat() if v == "today" else v) for k, v in data.items()}
    url = f"/c/{world.tokens[rows[0].participant_id]}/pods/{pod.pk}/check-ins/"
    assert Client().post(url, data).status_code == 400
    assert not PodCheckIn.objects.exists()


def test_only_accepted_members_of_an_active_pod_check_in(world, alice):
    pod, rows = _active(world, alice)
    pending = rows[3]
    with pytest.raises(services.PodError):
        services.check_in_log(member=pending, on=timezone.localdate(), mode="call")
    url = f"/c/{world.tokens[pending.participant_id]}/pods/{pod.pk}/check-ins/"
    assert Client().post(url, {"on": timezone.localdate().isoformat(), "mode": "call"}).status_code == 400
    outsider = next(p for p in world.tokens if not pod.members.filter(participant_id=p).exists())
    assert Client().post(f"/c/{world.tokens[outsider]}/pods/{pod.pk}/check-ins/", {"mode": "call"}).status_code == 404
    assert not PodCheckIn.objects.exists()


def test_facilitators_see_the_pods_of_their_circles_only_and_cannot_manage(
    world, alice, bob_client, rita, charlie_client
):
    pods = _sent(world, alice)
    circle_ids = {p.pk for p in world.members}
    for pod in pods:
        mine = pod.members.filter(participant_id__in=circle_ids).exists()
        assert bob_client.get(f"/community/pods/{pod.pk}/").status_code == (200 if mine else 404)
        assert charlie_client.get(f"/community/pods/{pod.pk}/").status_code == 404
    assert bob_client.post(f"/community/retreats/{world.retreat.pk}/pods/propose/").status_code == 403
    assert charlie_client.get(f"/community/retreats/{world.retreat.pk}/pods/").status_code == 404
    researcher = Client()
    researcher.force_login(rita)
    assert researcher.get(f"/community/pods/{pods[0].pk}/").status_code == 403


def test_a_coordinator_closes_a_pod_and_check_ins_stop(world, alice, alice_client):
    pod, rows = _active(world, alice)
    assert alice_client.post(f"/community/pods/{pod.pk}/close/").status_code == 302
    pod.refresh_from_db()
    assert pod.status == "closed"
    with pytest.raises(services.PodError):
        services.check_in_log(member=rows[0], on=timezone.localdate(), mode="call")


# --- never together and preferences --------------------------------------------------------------


def test_never_together_pairs_are_recorded_with_a_reason_code_only(world, alice_client, bob_client):
    ana, ben = world.members[0], world.members[1]
    response = alice_client.post(
        "/community/never-together/", {"first": ben.pk, "second": ana.pk, "reason": "conflict"}
    )
    assert response.status_code == 302
    pair = NeverTogether.objects.get()
    assert (pair.participant_a_id, pair.participant_b_id) == tuple(sorted((ana.pk, ben.pk)))
    assert (
        alice_client.post(
            "/community/never-together/", {"first": ana.pk, "second": ben.pk, "reason": "other"}
        ).status_code
        == 302
    )
    assert NeverTogether.objects.count() == 1
    assert (
        alice_client.post(
            "/community/never-together/", {"first": ana.pk, "second": ana.pk, "reason": "other"}
        ).status_code
        == 400
    )
    assert bob_client.get("/community/never-together/").status_code == 403
    entry = AuditEntry.objects.get(action="community.never_together.recorded")
    first, second = sorted((ana, ben), key=lambda p: p.pk)
    assert entry.data == {"reason": "conflict", "participants": [first.pseudonym, second.pseudonym]}


def test_a_participant_tells_us_what_pod_would_suit_them(world):
    ana = world.members[0]
    url = f"/c/{world.tokens[ana.pk]}/pods/preferences/"
    data = {"size": "pair", "languages": "en, es", "time_zone": "America/Lima", "area": "Bend",
            "availability": ["weekday_evening"], "veteran": "on"}  # fmt: skip
    assert Client().post(url, data).status_code == 302
    saved = PodPreference.objects.get(participant=ana)
    assert (saved.size, saved.languages, saved.time_zone, saved.availability, saved.veteran) == (
        "pair",
        ["en", "es"],
        "America/Lima",
        ["weekday_evening"],
        True,
    )
    assert Client().post(url, {**data, "time_zone": "Mars/Olympus"}).status_code == 400
    assert Client().post(url, {**data, "languages": "english!!"}).status_code == 400
    assert PodPreference.objects.get(participant=ana).time_zone == "America/Lima"
    entry = AuditEntry.objects.filter(action="community.pod_preference.saved").get()
    assert "Bend" not in str(entry.data)


# --- the API -------------------------------------------------------------------------------------


def test_the_api_proposes_moves_and_sends_with_the_same_rules(world, alice, alice_api, bob_api, rita_api, charlie_api):
    base = f"/community/retreats/{world.retreat.pk}/pods"
    created = call(Client(), "post", base + "/proposals", **alice_api)
    assert created.status_code == 201 and len(created.json()["pods"]) == 2
    first, second = created.json()["pods"]
    mover = first["members"][0]["participant_id"]
    enemy = second["members"][0]["participant_id"]
    services.never_together_record(
        first=Participant.objects.get(pk=mover),
        second=Participant.objects.get(pk=enemy),
        reason="clinical",
        actor=alice,
    )
    conflict(call(Client(), "post", base + "/move", {"participant_id": mover, "pod_id": second["id"]}, **alice_api))
    assert_error(
        call(Client(), "post", base + "/move", {"participant_id": mover, "pod_id": None, "x": 1}, **alice_api), 422
    )
    assert_error(call(Client(), "post", base + "/proposals", **bob_api), 403)
    assert_error(call(Client(), "get", base, **rita_api), 403)
    assert_error(call(Client(), "get", base, **charlie_api), 404)
    assert_error(call(Client(), "get", f"/community/pods/{first['id']}", **charlie_api), 404)
    sent = call(Client(), "post", base + "/send", **alice_api)
    assert sent.status_code == 200 and {p["status"] for p in sent.json()} == {"sent"}
    assert "display_name" not in str(sent.json())
    conflict(call(Client(), "post", base + "/send", **alice_api))


def test_the_api_records_and_removes_never_together_pairs(world, alice_api, bob_api, charlie_api, outsider_participant):
    ana, ben = world.members[0], world.members[1]
    body = {"participant_ids": [ana.pk, ben.pk], "reason": "request"}
    assert call(Client(), "post", "/community/never-together", body, **alice_api).status_code == 201
    assert call(Client(), "post", "/community/never-together", body, **alice_api).status_code == 200
    assert_error(call(Client(), "post", "/community/never-together", {**body, "reason": "dislike"}, **alice_api), 422)
    assert_error(call(Client(), "post", "/community/never-together", {**body, "note": "x"}, **alice_api), 422)
    foreign = {"participant_ids": [ana.pk, outsider_participant.pk], "reason": "request"}
    assert_error(call(Client(), "post", "/community/never-together", foreign, **alice_api), 404)
    assert_error(call(Client(), "get", "/community/never-together", **bob_api), 403)
    pair = NeverTogether.objects.get()
    assert_error(call(Client(), "delete", f"/community/never-together/{pair.pk}", **charlie_api), 404)
    assert call(Client(), "delete", f"/community/never-together/{pair.pk}", **alice_api).status_code == 204
    assert not NeverTogether.objects.exists()


def test_the_pods_page_lists_retreats(world, alice, alice_client):
    _sent(world, alice)
    page = alice_client.get("/community/pods/").content.decode()
    assert world.retreat.name in page and re.search(r">\s*2\s*</td>", page)
