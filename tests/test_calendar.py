"""Calendars: secret iCalendar feeds of a facilitator's or a circle's sessions (never who attends),
the staff week, and who may create and revoke feeds."""

import datetime
import hashlib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.programs.calendar_selectors import week_param, week_start
from communitas.programs.calendar_services import calendar_feed_create, calendar_feed_revoke
from communitas.programs.models import CalendarFeed, Session
from communitas.programs.session_services import circle_create, session_plan
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import make_user
from tests.session_helpers import setting, when

Role = Membership.Role
FEED_URL = re.compile(r'id="feed-url">https?://testserver(/calendar/[^<]+\.ics)<')


class World:
    """Alice's organization: a program, Ana (no login) and Bob (a facilitator who logs in), a
    circle, two ready participants. Charlie's organization has its own program and guide."""

    def __init__(self, org, alice, bob, other_org, charlie):
        self.program, _doc, self.ana, self.people = setting(org, alice)
        self.bob = make_profile(org, alice, display_name="Bob Okafor", languages=["en"], user=bob)
        add_credential(self.bob, alice)
        self.circle = circle_create(program=self.program, actor=alice, name="Thursday circle")
        self.other_program, _doc, self.other_guide, self.other_people = setting(other_org, charlie, people=1)
        self.other_circle = circle_create(program=self.other_program, actor=charlie, name="Stillwater circle")
        self.alice, self.charlie = alice, charlie


@pytest.fixture
def world(org, alice, bob, other_org, charlie):
    return World(org, alice, bob, other_org, charlie)


def _plan(world, staff, *, days=7, circle=None, program=None, people=None, actor=None, title=None):
    """A preparation session; its title names a participant, which no feed may ever show."""
    start, end = when(days=days)
    person = (people or world.people)[0]
    return session_plan(
        program=program or world.program,
        actor=actor or world.alice,
        kind="preparation",
        title=title or f"Preparation with {person.display_name}",
        location="Room 2, north wing",
        planned_start=start,
        planned_end=end,
        facilitators=staff,
        participants=people or world.people,
        circle=circle,
    )


def _other_session(world, **kw):
    return _plan(
        world,
        [world.other_guide],
        program=world.other_program,
        people=world.other_people,
        actor=world.charlie,
        circle=world.other_circle,
        **kw,
    )


def _feed(world, user, **target):
    membership = Membership.objects.get(user=user, organization_id=world.program.organization_id)
    return calendar_feed_create(membership=membership, actor=user, **target)


def _get_feed(raw):
    return Client().get(f"/calendar/{raw}.ics")


def _uids(response):
    return set(re.findall(r"UID:session-(\d+)@communitas", response.content.decode()))


def _move(session, *, days):
    start = timezone.now() + datetime.timedelta(days=days)
    Session.objects.filter(pk=session.pk).update(planned_start=start, planned_end=start + datetime.timedelta(hours=2))


def _assert_no_phi(text, world):
    for person in [*world.people, *world.other_people]:
        assert person.display_name not in text
        assert person.pseudonym not in text
    assert "Preparation with" not in text  # the session title is never in a feed


# Feeds -----------------------------------------------------------------------------------


def test_it_feeds_a_facilitators_sessions_only(world, alice):
    with_bob = _plan(world, [world.bob, world.ana], circle=world.circle)
    bob_alone = _plan(world, [world.bob], days=9)
    without_bob = _plan(world, [world.ana], days=8)
    _other_session(world)
    _feed_row, raw = _feed(world, alice, facilitator=world.bob)

    response = _get_feed(raw)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert _uids(response) == {str(with_bob.pk), str(bob_alone.pk)}
    assert str(without_bob.pk) not in _uids(response)
    text = response.content.decode()
    assert "SUMMARY:Preparation · Thursday circle\r\n" in text
    assert "LOCATION:Room 2\\, north wing\r\n" in text
    assert "STATUS:TENTATIVE\r\n" in text
    _assert_no_phi(text, world)


def test_it_feeds_a_circles_sessions_only(world, alice):
    in_circle = _plan(world, [world.ana], circle=world.circle)
    elsewhere = _plan(world, [world.ana], days=8)
    _other_session(world)
    _feed_row, raw = _feed(world, alice, circle=world.circle)

    response = _get_feed(raw)

    assert response.status_code == 200
    assert _uids(response) == {str(in_circle.pk)}
    assert str(elsewhere.pk) not in _uids(response)
    _assert_no_phi(response.content.decode(), world)


def test_it_shows_the_last_30_days_and_everything_after(world, alice):
    recent, old, cancelled = (_plan(world, [world.ana], circle=world.circle, days=d) for d in (7, 8, 9))
    _move(recent, days=-29)
    _move(old, days=-31)
    Session.objects.filter(pk=cancelled.pk).update(status=Session.Status.CANCELLED)
    _feed_row, raw = _feed(world, alice, circle=world.circle)

    response = _get_feed(raw)

    assert _uids(response) == {str(recent.pk), str(cancelled.pk)}
    assert "STATUS:CANCELLED\r\n" in response.content.decode()


@pytest.mark.parametrize("token", ["cal_nope", "nope", "cal_" + "x" * 200, "%00"])
def test_an_unknown_token_is_a_bare_404(world, token):
    response = _get_feed(token)
    assert response.status_code == 404
    assert response.content == b""


def test_a_revoked_feed_is_a_bare_404(world, alice):
    _plan(world, [world.ana], circle=world.circle)
    feed, raw = _feed(world, alice, circle=world.circle)
    assert _get_feed(raw).status_code == 200

    calendar_feed_revoke(membership=Membership.objects.get(user=alice), actor=alice, feed=feed)

    response = _get_feed(raw)
    assert response.status_code == 404
    assert response.content == b""


def test_a_feed_of_a_facilitator_who_left_stops(world, alice):
    _feed_row, raw = _feed(world, alice, facilitator=world.bob)
    type(world.bob).objects.filter(pk=world.bob.pk).update(active=False)
    assert _get_feed(raw).status_code == 404


def test_it_stores_only_the_hash_of_the_secret(world, alice):
    feed, raw = _feed(world, alice, facilitator=world.ana)

    stored = CalendarFeed.objects.get(pk=feed.pk)
    assert stored.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(CalendarFeed.objects.filter(pk=feed.pk).values().get())
    entry = AuditEntry.objects.get(action="programs.calendar_feed.created", object_id=str(feed.pk))
    assert entry.data == {"kind": "facilitator", "facilitator": world.ana.pk, "circle": None}
    assert raw not in str(entry.data) and stored.secret_hash not in str(entry.data)


def test_each_feed_gets_its_own_secret(world, alice):
    first, first_raw = _feed(world, alice, facilitator=world.ana)
    second, second_raw = _feed(world, alice, facilitator=world.ana)
    assert first_raw != second_raw and first.secret_hash != second.secret_hash


def test_a_feed_of_2_or_10_sessions_takes_the_same_number_of_queries(world, alice, django_assert_num_queries):
    for day in (7, 8):
        _plan(world, [world.bob], circle=world.circle, days=day)
    _feed_row, raw = _feed(world, alice, facilitator=world.bob)
    _get_feed(raw)  # warm up anything cached per process
    with CaptureQueriesContext(connection) as few:
        assert len(_uids(_get_feed(raw))) == 2

    for day in range(9, 17):
        _plan(world, [world.bob], days=day)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(_uids(_get_feed(raw))) == 10


# The week ------------------------------------------------------------------------------


def _week_of(session):
    local = timezone.localtime(session.planned_start).date()
    return week_param(local - datetime.timedelta(days=local.weekday()))


def test_the_week_shows_that_weeks_sessions(world, alice_client):
    this = _plan(world, [world.ana], circle=world.circle)
    following = _plan(world, [world.ana], days=14)

    response = alice_client.get(f"/programs/calendar/?week={_week_of(this)}")

    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/programs/{world.program.pk}/sessions/{this.pk}/"' in page
    assert f"/sessions/{following.pk}/" not in page
    assert "Thursday circle" in page and "Preparation" in page
    assert page.count('class="card"') == 7  # Monday to Sunday
    later = alice_client.get(f"/programs/calendar/?week={_week_of(following)}").content.decode()
    assert f"/sessions/{following.pk}/" in later


def test_a_week_of_1_or_5_sessions_takes_the_same_number_of_queries(world, alice_client, django_assert_num_queries):
    first = _plan(world, [world.ana], circle=world.circle, days=7)
    url = f"/programs/calendar/?week={_week_of(first)}"
    alice_client.get(url)  # warm up anything cached per process
    with CaptureQueriesContext(connection) as few:
        alice_client.get(url)

    for _ in range(4):
        Session.objects.filter(pk=_plan(world, [world.ana], circle=world.circle, days=8).pk).update(
            planned_start=first.planned_start, planned_end=first.planned_end
        )
    with django_assert_num_queries(len(few.captured_queries)):
        page = alice_client.get(url).content.decode()
    assert page.count('class="session"') == 5


def test_the_week_links_to_the_weeks_before_and_after(world, alice_client):
    page = alice_client.get("/programs/calendar/?week=2027-W01").content.decode()
    assert 'href="?week=2026-W53"' in page
    assert 'href="?week=2027-W02"' in page


def test_another_organizations_sessions_never_appear(world, alice_client, charlie_client):
    ours = _plan(world, [world.ana], circle=world.circle)
    theirs = _other_session(world)

    alices = alice_client.get(f"/programs/calendar/?week={_week_of(theirs)}").content.decode()
    charlies = charlie_client.get(f"/programs/calendar/?week={_week_of(ours)}").content.decode()

    assert f"/sessions/{theirs.pk}/" not in alices and "Stillwater circle" not in alices
    assert f"/sessions/{ours.pk}/" not in charlies and "Thursday circle" not in charlies
    assert f"/sessions/{theirs.pk}/" in charlies


def test_hospitality_sees_times_and_titles_only(world, org):
    session = _plan(world, [world.ana], circle=world.circle, title="Morning preparation")
    client = Client()
    client.force_login(make_user(org, Role.HOSPITALITY))

    page = client.get(f"/programs/calendar/?week={_week_of(session)}").content.decode()

    assert session.title in page
    assert timezone.localtime(session.planned_start).strftime("%H:%M") in page
    assert f"/sessions/{session.pk}/" not in page
    assert "Thursday circle" not in page and "north wing" not in page


def test_a_facilitator_sees_the_week(world, bob_client):
    session = _plan(world, [world.ana], circle=world.circle)
    page = bob_client.get(f"/programs/calendar/?week={_week_of(session)}").content.decode()
    assert f"/sessions/{session.pk}/" in page


def test_a_researcher_may_not_open_the_calendar(world, org):
    client = Client()
    client.force_login(make_user(org, Role.RESEARCHER))
    assert client.get("/programs/calendar/").status_code == 403
    assert client.get("/programs/calendar/feeds/").status_code == 403


def test_the_calendar_needs_a_login(world):
    assert Client().get("/programs/calendar/").status_code == 302


def test_the_programs_page_links_to_the_calendar(world, alice_client):
    assert 'href="/programs/calendar/"' in alice_client.get("/programs/").content.decode()


@pytest.mark.parametrize("value", [None, "", "2026-W99", "2026-13", "W05", "0001-W01", "9999-W52", "2026-W5"])
def test_a_missing_or_malformed_week_is_this_week(value):
    today = datetime.date(2026, 3, 5)  # a Thursday
    assert week_start(value, today=today) == datetime.date(2026, 3, 2)


def test_an_iso_week_starts_on_its_monday():
    assert week_start("2026-W01", today=datetime.date(2030, 1, 1)) == datetime.date(2025, 12, 29)
    assert week_start("2026-W53", today=datetime.date(2030, 1, 1)) == datetime.date(2026, 12, 28)
    assert week_param(datetime.date(2025, 12, 29)) == "2026-W01"


# Creating and revoking feeds ------------------------------------------------------------


def _create(client, **target):
    return client.post("/programs/calendar/feeds/", target)


def test_a_facilitator_creates_a_feed_of_their_own_sessions_and_sees_it_once(world, bob_client):
    _plan(world, [world.bob], circle=world.circle)

    response = _create(bob_client, facilitator=world.bob.pk)

    assert response.status_code == 200
    path = FEED_URL.search(response.content.decode()).group(1)
    assert Client().get(path).status_code == 200
    assert path not in bob_client.get("/programs/calendar/feeds/").content.decode()
    feed = CalendarFeed.objects.get()
    assert (feed.kind, feed.facilitator_id, feed.created_by_id) == ("facilitator", world.bob.pk, world.bob.user_id)


def test_a_facilitator_may_not_create_a_colleagues_or_a_circles_feed(world, bob_client):
    assert _create(bob_client, facilitator=world.ana.pk).status_code == 403
    assert _create(bob_client, circle=world.circle.pk).status_code == 403
    assert not CalendarFeed.objects.exists()


def test_a_facilitator_sees_only_their_own_feeds(world, alice, bob_client):
    _feed(world, alice, facilitator=world.ana)
    _feed(world, alice, facilitator=world.bob)
    page = bob_client.get("/programs/calendar/feeds/").content.decode()
    assert "Bob Okafor" in page
    assert "Ana Lucía Ramos" not in page
    assert "Thursday circle" not in page


def test_a_coordinator_creates_feeds_for_any_facilitator_or_circle(world, alice_client):
    assert FEED_URL.search(_create(alice_client, facilitator=world.ana.pk).content.decode())
    assert FEED_URL.search(_create(alice_client, circle=world.circle.pk).content.decode())
    assert sorted(CalendarFeed.objects.values_list("kind", flat=True)) == ["circle", "facilitator"]
    assert AuditEntry.objects.filter(action="programs.calendar_feed.created").count() == 2


def test_another_organizations_facilitator_or_circle_is_404(world, charlie_client, alice_client):
    assert _create(charlie_client, facilitator=world.ana.pk).status_code == 404
    assert _create(charlie_client, circle=world.circle.pk).status_code == 404
    assert _create(alice_client, circle=world.other_circle.pk).status_code == 404
    assert _create(alice_client, facilitator="not-a-number").status_code == 404
    assert not CalendarFeed.objects.exists()


def test_hospitality_staff_without_a_profile_have_nothing_to_subscribe_to(world, org):
    client = Client()
    client.force_login(make_user(org, Role.HOSPITALITY))
    page = client.get("/programs/calendar/feeds/").content.decode()
    assert 'name="facilitator"' not in page and 'name="circle"' not in page
    assert _create(client, facilitator=world.ana.pk).status_code == 403


def test_a_coordinator_revokes_a_feed(world, alice, alice_client):
    feed, raw = _feed(world, alice, circle=world.circle)

    response = alice_client.post(f"/programs/calendar/feeds/{feed.pk}/revoke/")

    assert response.status_code == 302
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is not None
    assert _get_feed(raw).status_code == 404
    entry = AuditEntry.objects.get(action="programs.calendar_feed.revoked")
    assert (entry.object_id, entry.actor_id, entry.data) == (str(feed.pk), alice.pk, {"kind": "circle"})


def test_a_facilitator_revokes_their_own_feed_only(world, alice, bob_client):
    own, _raw = _feed(world, alice, facilitator=world.bob)
    circles, _raw = _feed(world, alice, circle=world.circle)

    assert bob_client.post(f"/programs/calendar/feeds/{circles.pk}/revoke/").status_code == 403
    assert bob_client.post(f"/programs/calendar/feeds/{own.pk}/revoke/").status_code == 302
    assert CalendarFeed.objects.get(pk=own.pk).revoked_at is not None
    assert CalendarFeed.objects.get(pk=circles.pk).revoked_at is None


def test_another_organizations_feed_cannot_be_revoked(world, alice, charlie_client):
    feed, raw = _feed(world, alice, circle=world.circle)
    assert charlie_client.post(f"/programs/calendar/feeds/{feed.pk}/revoke/").status_code == 404
    assert charlie_client.get(f"/programs/calendar/feeds/{feed.pk}/revoke/").status_code == 405
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is None
    assert _get_feed(raw).status_code == 200


def test_revoking_twice_is_audited_once(world, alice):
    feed, _raw = _feed(world, alice, circle=world.circle)
    membership = Membership.objects.get(user=alice)
    calendar_feed_revoke(membership=membership, actor=alice, feed=feed)
    calendar_feed_revoke(membership=membership, actor=alice, feed=feed)
    assert AuditEntry.objects.filter(action="programs.calendar_feed.revoked").count() == 1
