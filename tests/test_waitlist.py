"""A circle's cap and waitlist: joining a full circle puts the person on an ordered waitlist; a
freed place is offered to the first waiting and held until staff confirm or record a decline."""

import threading

import pytest
from django.db import connection

from communitas.accounts.models import Membership
from communitas.community import circle_services as services
from communitas.community.models import CircleWaitlistEntry
from communitas.core.models import AuditEntry
from communitas.programs.models import Attendance, Circle
from tests.api_helpers import call
from tests.circle_helpers import assert_error, circle_setting, enrolled, series_fields
from tests.factories import make_user

Role = Membership.Role
Status = CircleWaitlistEntry.Status


@pytest.fixture
def setting(org, alice):
    return circle_setting(org, alice, members=2, capacity=2)


def _people(setting, alice, n):
    return [enrolled(setting.program, alice) for _ in range(n)]


def _wait(setting, alice, n):
    people = _people(setting, alice, n)
    return people, [services.circle_join(circle=setting.circle, participant=p, actor=alice) for p in people]


def test_joining_a_full_circle_puts_people_on_an_ordered_waitlist(setting, alice):
    people, results = _wait(setting, alice, 3)
    assert [(r.joined, r.position) for r in results] == [(False, 1), (False, 2), (False, 3)]
    again = services.circle_join(circle=setting.circle, participant=people[1], actor=alice)
    assert (again.joined, again.position, again.entry) == (False, 2, results[1].entry)
    assert setting.circle.members.count() == 2
    member = services.circle_join(circle=setting.circle, participant=setting.members[0], actor=alice)
    assert member.joined and CircleWaitlistEntry.objects.count() == 3
    assert [e.data["position"] for e in AuditEntry.objects.filter(action="community.circle_waitlist.added")] == [
        1,
        2,
        3,
    ]


def test_a_freed_place_is_offered_to_the_first_and_held_for_them(setting, alice):
    people, _ = _wait(setting, alice, 2)
    offers = services.circle_leave(circle=setting.circle, participant=setting.members[0], actor=alice)
    assert [o.participant for o in offers] == [people[0]]
    assert not setting.circle.members.filter(pk=people[0].pk).exists()  # offered, not yet a member
    newcomer = enrolled(setting.program, alice)
    result = services.circle_join(circle=setting.circle, participant=newcomer, actor=alice)
    assert (result.joined, result.position) == (False, 2)  # the held place is not free
    services.waitlist_confirm(entry=offers[0], actor=alice)
    assert setting.circle.members.filter(pk=people[0].pk).exists()
    assert CircleWaitlistEntry.objects.get(pk=offers[0].pk).status == Status.JOINED
    assert services.waitlist_position(CircleWaitlistEntry.objects.get(participant=people[1])) == 1


def test_a_decline_or_withdrawal_passes_the_place_to_the_next(setting, alice):
    people, results = _wait(setting, alice, 3)
    (first,) = services.circle_leave(circle=setting.circle, participant=setting.members[1], actor=alice)
    (second,) = services.waitlist_decline(entry=first, actor=alice)
    assert second.participant == people[1]
    (third,) = services.waitlist_withdraw(entry=second, actor=alice)
    assert third.participant == people[2]
    with pytest.raises(services.CircleRefused):
        services.waitlist_confirm(entry=results[0].entry, actor=alice)  # declined already
    statuses = dict(CircleWaitlistEntry.objects.values_list("participant_id", "status"))
    assert statuses == {people[0].pk: "declined", people[1].pk: "withdrawn", people[2].pk: "offered"}
    codes = set(
        AuditEntry.objects.filter(action__startswith="community.circle_waitlist").values_list("action", flat=True)
    )
    assert codes == {f"community.circle_waitlist.{v}" for v in ("added", "offered", "declined", "withdrawn")}


def test_only_people_enrolled_in_the_program_join(setting, alice, outsider_participant):
    from communitas.programs.services import enrollment_set_status
    from tests.factories import ParticipantFactory

    stranger = ParticipantFactory(organization=setting.program.organization)
    with pytest.raises(services.CircleRefused):
        services.circle_join(circle=setting.circle, participant=stranger, actor=alice)
    with pytest.raises(services.CircleRefused):
        services.circle_join(circle=setting.circle, participant=outsider_participant, actor=alice)
    withdrawn = enrolled(setting.program, alice)
    enrollment_set_status(enrollment=withdrawn.enrollments.get(), status="withdrawn", actor=alice)
    with pytest.raises(services.CircleRefused):
        services.circle_join(circle=setting.circle, participant=withdrawn, actor=alice)
    assert CircleWaitlistEntry.objects.count() == 0 and setting.circle.members.count() == 2


def test_future_meetings_follow_the_membership(org, alice):
    setting = circle_setting(org, alice, members=1, capacity=2)
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=3))
    newcomer = enrolled(setting.program, alice)
    services.circle_join(circle=setting.circle, participant=newcomer, actor=alice)
    sessions = [m.session for m in series.meetings.all()]
    assert Attendance.objects.filter(participant=newcomer, session__in=sessions).count() == 3
    services.circle_leave(circle=setting.circle, participant=setting.members[0], actor=alice)
    assert Attendance.objects.filter(participant=setting.members[0], session__in=sessions).count() == 0


# --- pages -------------------------------------------------------------------------------------


def test_staff_run_the_waitlist_on_its_page(setting, alice, alice_client):
    people = _people(setting, alice, 2)
    url = f"/community/circles/{setting.circle.pk}/waitlist/"
    for person in people:
        assert alice_client.post(url + "join/", {"participant": person.pk}).status_code == 302
    page = alice_client.get(url).content.decode()
    assert people[0].pseudonym in page and "Waiting" in page
    alice_client.post(url + "leave/", {"participant": setting.members[0].pk})
    entry = CircleWaitlistEntry.objects.get(participant=people[0])
    assert entry.status == Status.OFFERED
    assert alice_client.post(url + f"{entry.pk}/confirm/").status_code == 302
    assert setting.circle.members.filter(pk=people[0].pk).exists()
    assert alice_client.post(url + f"{entry.pk}/explode/").status_code == 404


def test_facilitators_read_the_waitlist_and_others_do_not_see_it(org, alice, client, charlie_client, bob_client):
    guide_user = make_user(org, Role.FACILITATOR)
    setting = circle_setting(org, alice, guide_user=guide_user, capacity=2)
    person = enrolled(setting.program, alice)
    url = f"/community/circles/{setting.circle.pk}/waitlist/"
    client.force_login(guide_user)
    assert client.get(url).status_code == 200
    assert client.post(url + "join/", {"participant": person.pk}).status_code == 403
    assert bob_client.get(url).status_code == 404
    assert charlie_client.post(url + "join/", {"participant": person.pk}).status_code == 404
    assert CircleWaitlistEntry.objects.count() == 0 and setting.circle.members.count() == 2


# --- API ---------------------------------------------------------------------------------------


def test_the_api_joins_waits_offers_and_confirms(setting, alice, client, alice_api, charlie_api):
    person = enrolled(setting.program, alice)
    base = f"/community/circles/{setting.circle.pk}"
    joined = call(client, "post", base + "/join", {"participant_id": person.pk}, **alice_api)
    assert joined.status_code == 201 and joined.json()["joined"] is False
    entry = joined.json()["entry"]
    assert (entry["position"], entry["status"]) == (1, "waiting")
    waitlist = call(client, "get", base + "/waitlist", **alice_api).json()
    assert waitlist["capacity"] == 2 and [e["id"] for e in waitlist["entries"]] == [entry["id"]]
    assert_error(call(client, "post", f"/community/waitlist/{entry['id']}/confirm", **charlie_api), 404)
    assert_error(call(client, "post", f"/community/waitlist/{entry['id']}/confirm", **alice_api), 409)  # not offered
    left = call(client, "post", base + "/leave", {"participant_id": setting.members[0].pk}, **alice_api)
    assert [o["participant"]["id"] for o in left.json()["offers"]] == [person.pk]
    confirmed = call(client, "post", f"/community/waitlist/{entry['id']}/confirm", **alice_api)
    assert confirmed.json()["status"] == "joined"
    assert setting.circle.members.filter(pk=person.pk).exists()


def test_the_api_refuses_bad_input_and_other_organizations(
    setting, alice, client, alice_api, charlie_api, outsider_participant
):
    base = f"/community/circles/{setting.circle.pk}"
    assert_error(call(client, "post", base + "/join", {"participant_id": "1"}, **alice_api), 422)
    assert_error(call(client, "post", base + "/join", {"participant_id": 1, "vip": True}, **alice_api), 422)
    assert_error(call(client, "post", base + "/join", {"participant_id": outsider_participant.pk}, **alice_api), 404)
    assert_error(call(client, "post", base + "/leave", {"participant_id": 999999}, **alice_api), 404)
    assert_error(call(client, "get", base + "/waitlist", **charlie_api), 404)
    assert CircleWaitlistEntry.objects.count() == 0 and setting.circle.members.count() == 2


# --- concurrency (PostgreSQL) ------------------------------------------------------------------


def _race(target, args_list):
    barrier, results = threading.Barrier(len(args_list)), []

    def run(*args):
        try:
            barrier.wait()
            results.append(target(*args))
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency: PostgreSQL")
def test_people_joining_the_last_place_at_once_get_one_place_and_an_ordered_waitlist(org, alice):
    setting = circle_setting(org, alice, members=0, capacity=1)
    for round_ in range(3):  # several races: an unlocked count loses at least one of them
        circle = Circle.objects.create(organization=org, program=setting.program, name=f"Race {round_}", capacity=1)
        people = _people(setting, alice, 5)
        results = _race(
            lambda p, c=circle: services.circle_join(circle=c, participant=p, actor=alice), [(p,) for p in people]
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(r.joined for r in results) == [False] * 4 + [True]
        assert sorted(r.position for r in results if not r.joined) == [1, 2, 3, 4]
        assert circle.members.count() == 1
        # a member leaving while two more join: the freed place goes to the first waiting
        member = circle.members.get()
        late = _people(setting, alice, 2)
        calls = [(lambda: services.circle_leave(circle=circle, participant=member, actor=alice),)] + [
            (lambda p=p: services.circle_join(circle=circle, participant=p, actor=alice),) for p in late
        ]
        outcome = _race(lambda f: f(), calls)
        assert not [r for r in outcome if isinstance(r, Exception)], outcome
        first = CircleWaitlistEntry.objects.filter(circle=circle).order_by("id").first()
        assert CircleWaitlistEntry.objects.get(pk=first.pk).status == Status.OFFERED
        assert circle.members.count() == 0
        assert CircleWaitlistEntry.objects.filter(circle=circle, status=Status.OFFERED).count() == 1
