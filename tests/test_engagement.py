"""Engagement metrics (the interface ``insights`` reads): circle sessions offered and attended,
community activities, pod check-ins and completed referrals per participant and period."""

import datetime

import pytest
from django.utils import timezone

from communitas.community import models as community_models
from communitas.community import pod_services
from communitas.community.engagement import Engagement, engagement_for
from communitas.community.models import PodMember
from communitas.programs.models import Session
from communitas.programs.session_services import attendance_set, session_plan
from tests.community_helpers import community, meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, alice, bob):
    return community(org, alice, bob)


def _period():
    today = timezone.localdate()
    return today - datetime.timedelta(days=30), today


def test_it_counts_circle_sessions_offered_and_attended_in_the_period(world, alice):
    ana, ben, chen = world.members
    a = meeting(world, alice, days=-20)
    b = meeting(world, alice, days=-10)
    for session, statuses in ((a, ("attended", "left_early", "absent")), (b, ("attended", "absent", "expected"))):
        for person, status in zip(world.members, statuses, strict=True):
            attendance_set(session=session, participant_id=person.pk, status=status, actor=alice)
    cancelled = meeting(world, alice, days=-5, title="Cancelled")
    attendance_set(session=cancelled, participant_id=ana.pk, status="attended", actor=alice)
    Session.objects.filter(pk=cancelled.pk).update(status="cancelled")
    before = meeting(world, alice, days=-60)
    attendance_set(session=before, participant_id=ana.pk, status="attended", actor=alice)
    meeting(world, alice, days=5)  # after the period
    start, end = _period()
    result = engagement_for([ana.pk, ben.pk, chen.pk, world.stranger.pk], start, end)
    counts = {pid: (e.circle_sessions_offered, e.circle_sessions_attended) for pid, e in result.items()}
    assert counts == {ana.pk: (2, 2), ben.pk: (2, 1), chen.pk: (2, 0), world.stranger.pk: (0, 0)}
    assert result[ben.pk].circle_attendance_rate == 0.5 and result[world.stranger.pk].circle_attendance_rate is None


def test_a_circle_meeting_is_offered_to_members_even_without_an_attendance_row(world, alice):
    ana, ben, _chen = world.members
    start = timezone.now() - datetime.timedelta(days=3)
    only_ana = session_plan(
        program=world.program,
        actor=alice,
        kind="circle_meeting",
        title="Small meeting",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=1),
        facilitators=[world.profile],
        participants=[ana],
        circle=world.circle,
    )
    attendance_set(session=only_ana, participant_id=ana.pk, status="attended", actor=alice)
    result = engagement_for([ana.pk, ben.pk], *_period())
    assert (result[ben.pk].circle_sessions_offered, result[ben.pk].circle_sessions_attended) == (1, 0)
    assert (result[ana.pk].circle_sessions_offered, result[ana.pk].circle_sessions_attended) == (1, 1)


def test_it_counts_community_activities_attended(world, alice):
    ana, ben, _chen = world.members
    activity = meeting(world, alice, days=-3, kind="community_activity", title="Shared meal", circle=False)
    attendance_set(session=activity, participant_id=ana.pk, status="attended", actor=alice)
    attendance_set(session=activity, participant_id=ben.pk, status="absent", actor=alice)
    result = engagement_for([ana.pk, ben.pk], *_period())
    assert (result[ana.pk].community_activities_attended, result[ben.pk].community_activities_attended) == (1, 0)
    assert result[ana.pk].circle_sessions_offered == 0  # an activity is not a circle meeting


def test_it_counts_pod_check_ins_in_their_pods_and_the_ones_they_logged(world, alice):
    ana, ben, chen = world.members
    pod_services.pods_propose(retreat=world.retreat, actor=alice)
    (pod,) = pod_services.pods_send(retreat=world.retreat, actor=alice)
    rows = {m.participant_id: m for m in PodMember.objects.filter(pod=pod)}
    for person in (ana, ben, chen):
        pod_services.pod_respond(member=rows[person.pk], accept=True)
    today = timezone.localdate()
    for person, days in ((ana, 2), (ana, 40), (ben, 1)):
        member = PodMember.objects.get(pk=rows[person.pk].pk)
        pod_services.check_in_log(member=member, on=today - datetime.timedelta(days=days), mode="call")
    result = engagement_for([ana.pk, ben.pk, chen.pk, world.stranger.pk], *_period())
    assert {pid: (e.pod_check_ins, e.pod_check_ins_logged) for pid, e in result.items()} == {
        ana.pk: (2, 1),
        ben.pk: (2, 1),
        chen.pk: (2, 0),
        world.stranger.pk: (0, 0),  # never accepted the pod
    }


def test_it_counts_completed_referrals_in_the_period(org, world, alice):
    referral_model = getattr(community_models, "Referral", None)
    if referral_model is None:
        assert engagement_for([world.members[0].pk], *_period())[world.members[0].pk].referrals_completed == 0
        return
    ana, ben, chen = world.members
    partner = community_models.Partner.objects.create(organization=org, name="Veterans peer group", kind="peer_group")
    now = timezone.now()
    long_ago = now - datetime.timedelta(days=90)
    for person, status, completed in ((ana, "completed", now), (ben, "made", None), (chen, "completed", long_ago)):
        referral_model.objects.create(
            organization=org,
            participant=person,
            partner=partner,
            status=status,
            status_changed_at=completed or now,
            completed_at=completed,
        )
    result = engagement_for([ana.pk, ben.pk, chen.pk], *_period())
    assert [result[p.pk].referrals_completed for p in (ana, ben, chen)] == [1, 0, 0]


def test_the_period_is_whole_local_days(world, alice):
    ana = world.members[0]
    day = timezone.localdate() - datetime.timedelta(days=10)
    tz = timezone.get_current_timezone()
    for when in (datetime.time(0, 30), datetime.time(23, 30)):
        start = datetime.datetime.combine(day, when, tzinfo=tz)
        session = session_plan(
            program=world.program,
            actor=alice,
            kind="circle_meeting",
            title="Edge",
            planned_start=start,
            planned_end=start + datetime.timedelta(minutes=20),
            facilitators=[world.profile],
            participants=[ana],
            circle=world.circle,
        )
        attendance_set(session=session, participant_id=ana.pk, status="attended", actor=alice)
    assert engagement_for([ana.pk], day, day)[ana.pk].circle_sessions_attended == 2
    assert (
        engagement_for([ana.pk], day + datetime.timedelta(days=1), timezone.localdate())[
            ana.pk
        ].circle_sessions_attended
        == 0
    )


def test_everyone_asked_about_gets_a_row_and_no_score_is_invented(world):
    start, end = _period()
    result = engagement_for([world.stranger.pk, world.stranger.pk], start, end)
    assert result == {world.stranger.pk: Engagement(participant_id=world.stranger.pk, start=start, end=end)}
    assert result[world.stranger.pk].communitas_score is None
    assert engagement_for([], start, end) == {}
    with pytest.raises(ValueError):
        engagement_for([world.stranger.pk], end, start)


def test_it_costs_the_same_few_queries_for_one_person_or_many(world, alice, django_assert_num_queries):
    meeting(world, alice, days=-2)
    ids = [p.pk for p in world.members] + [world.stranger.pk]
    start, end = _period()
    with django_assert_num_queries(5):
        engagement_for(ids[:1], start, end)
    with django_assert_num_queries(5):
        many = engagement_for(ids, start, end)
    assert sum(e.circle_sessions_offered for e in many.values()) == 3


def test_a_person_with_a_later_start_of_their_own_is_not_offered_the_meetings_before_it(world, alice):
    ana, ben, _chen = world.members
    early, late = meeting(world, alice, days=-20), meeting(world, alice, days=-5)
    for session in (early, late):
        attendance_set(session=session, participant_id=ana.pk, status="attended", actor=alice)
        attendance_set(session=session, participant_id=ben.pk, status="attended", actor=alice)
    start, end = _period()
    ben_start = timezone.localdate() - datetime.timedelta(days=10)  # e.g. Ben's own baseline
    result = engagement_for([ana.pk, ben.pk], start, end, starts={ben.pk: ben_start})
    assert (result[ana.pk].circle_sessions_offered, result[ana.pk].circle_sessions_attended) == (2, 2)
    assert (result[ben.pk].circle_sessions_offered, result[ben.pk].circle_sessions_attended) == (1, 1)
    assert result[ben.pk].start == ben_start and result[ana.pk].start == start
    earlier = engagement_for([ben.pk], start, end, starts={ben.pk: start - datetime.timedelta(days=90)})
    assert earlier[ben.pk].circle_sessions_offered == 2  # an own start before the period changes nothing
