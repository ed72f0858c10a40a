"""Integration circles as recurring series: meetings planned as programs sessions (staffed by the
circle's facilitators, expecting its members), running past the retreat, extended and cancelled,
with the online meeting link kept secret."""

import datetime
import json
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.community import circle_services as services
from communitas.community.models import CircleSeries, SeriesMeeting
from communitas.core.models import AuditEntry
from communitas.programs.calendar_services import calendar_feed_create
from communitas.programs.models import Attendance, Session
from communitas.programs.session_services import SessionRefused
from tests.api_helpers import call
from tests.circle_helpers import TZ, assert_error, circle_setting, enrolled, next_weekday, series_fields
from tests.conftest import bearer
from tests.factories import make_user

Role = Membership.Role
LINK = "https://meet.example.org/circle-7f3k-secret"


# --- the schedule, without a database ----------------------------------------------------------


def test_it_starts_on_the_first_chosen_weekday_and_repeats_weekly():
    dates = services.meeting_dates(starts_on=datetime.date(2026, 3, 4), weekday=1, cadence="weekly", count=3)
    assert dates == [datetime.date(2026, 3, 10), datetime.date(2026, 3, 17), datetime.date(2026, 3, 24)]


def test_it_meets_every_two_weeks_through_the_last_date():
    dates = services.meeting_dates(
        starts_on=datetime.date(2026, 3, 3), weekday=1, cadence="biweekly", ends_on=datetime.date(2026, 3, 31)
    )
    assert dates == [datetime.date(2026, 3, 3), datetime.date(2026, 3, 17), datetime.date(2026, 3, 31)]


def test_it_keeps_the_local_time_when_daylight_saving_ends():
    before, _ = services.meeting_window(datetime.date(2026, 10, 27), datetime.time(18, 30), 90, TZ)
    after, end = services.meeting_window(datetime.date(2026, 11, 3), datetime.time(18, 30), 90, TZ)
    assert before.astimezone(datetime.UTC).hour == 1  # 18:30 PDT
    assert after.astimezone(datetime.UTC).hour == 2  # 18:30 PST
    assert end - after == datetime.timedelta(minutes=90)


def test_it_refuses_a_schedule_longer_than_two_years_at_once():
    with pytest.raises(services.CircleRefused):
        services.meeting_dates(starts_on=datetime.date(2026, 1, 1), weekday=0, cadence="weekly", count=105)


# --- creating a series -------------------------------------------------------------------------


@pytest.fixture
def setting(org, alice):
    return circle_setting(org, alice)


def test_it_plans_each_meeting_as_a_staffed_circle_session_past_the_retreat(setting, alice):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields())
    sessions = list(Session.objects.filter(series_meeting__series=series).order_by("planned_start"))
    assert len(sessions) == 6
    assert {s.kind for s in sessions} == {"circle_meeting"}
    assert all(list(s.facilitators.all()) == [setting.guide] for s in sessions)
    expected = {a.participant_id for a in Attendance.objects.filter(session=sessions[0])}
    assert expected == {p.pk for p in setting.members}
    assert sessions[-1].planned_start.date() > setting.retreat.ends_on
    assert sessions[0].planned_start.astimezone(zoneinfo.ZoneInfo(TZ)).time() == datetime.time(18, 30)
    assert [m.number for m in series.meetings.order_by("number")] == [1, 2, 3, 4, 5, 6]
    planned = AuditEntry.objects.filter(action="programs.session.planned").count()
    assert planned == 6  # through programs' session_plan
    created = AuditEntry.objects.get(action="community.circle_series.created")
    assert created.data["past_retreat_end"] is True and created.data["meetings"] == 6


def test_it_keeps_the_meeting_link_encrypted_and_out_of_sessions_and_calendars(setting, alice, client):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields())
    with connection.cursor() as cursor:
        cursor.execute("SELECT meeting_link FROM community_circleseries WHERE id = %s", [series.pk])
        stored = cursor.fetchone()[0]
    assert LINK not in stored and stored
    assert CircleSeries.objects.get(pk=series.pk).meeting_link == LINK
    assert set(Session.objects.filter(circle=setting.circle).values_list("location", flat=True)) == {"Online"}
    membership = Membership.objects.get(user=alice)
    _feed, token = calendar_feed_create(membership=membership, actor=alice, circle=setting.circle)
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and b"VEVENT" in feed.content
    assert b"meet.example.org" not in feed.content.replace(b"\r\n ", b"")
    assert LINK not in json.dumps(list(AuditEntry.objects.values_list("data", flat=True)))


def _nothing_saved(before_sessions: int, before_series: int) -> None:
    assert Session.objects.count() == before_sessions
    assert CircleSeries.objects.count() == before_series


@pytest.mark.parametrize(
    "overrides",
    [
        {"meeting_link": ""},
        {"meeting_link": "http://insecure.example.org/x"},
        {"mode": "in_person", "meeting_link": "", "location": "  "},
        {"meeting_count": None},
        {"ends_on": datetime.date(2030, 1, 1)},
        {"time_zone": "Mars/Olympus_Mons"},
        {"duration_minutes": 5},
        {"starts_on": timezone.localdate() - datetime.timedelta(days=14)},
    ],
    ids=["no-link", "http-link", "no-location", "no-end", "two-ends", "bad-zone", "too-short", "past"],
)
def test_it_refuses_an_incomplete_series_and_saves_nothing(setting, alice, overrides):
    before = Session.objects.count(), CircleSeries.objects.count()
    with pytest.raises(services.CircleRefused):
        services.series_create(circle=setting.circle, actor=alice, **series_fields(**overrides))
    _nothing_saved(*before)


def test_it_refuses_a_series_for_a_circle_without_facilitators(org, alice):
    from communitas.programs.session_services import circle_set_members

    setting = circle_setting(org, alice)
    circle_set_members(circle=setting.circle, actor=alice, participants=setting.members, facilitators=[])
    with pytest.raises(services.CircleRefused, match="facilitators"):
        services.series_create(circle=setting.circle, actor=alice, **series_fields())
    _nothing_saved(0, 0)


def test_it_refuses_the_whole_series_when_the_staffing_check_fails(org, alice):
    from communitas.programs.session_services import circle_set_members

    setting = circle_setting(org, alice)
    speaker = enrolled(setting.program, alice, preferred_language="qu")
    circle_set_members(
        circle=setting.circle, actor=alice, participants=[*setting.members, speaker], facilitators=[setting.guide]
    )
    with pytest.raises(SessionRefused) as refusal:
        services.series_create(circle=setting.circle, actor=alice, **series_fields())
    assert [v.rule for v in refusal.value.violations] == ["LANGUAGE"]
    _nothing_saved(0, 0)


def test_it_plans_an_in_person_series_through_a_last_date(setting, alice):
    fields = series_fields(
        mode="in_person",
        meeting_link="",
        location="Community hall, 12 Alder St",
        cadence="biweekly",
        meeting_count=None,
        ends_on=next_weekday(1) + datetime.timedelta(days=28),
    )
    series = services.series_create(circle=setting.circle, actor=alice, **fields)
    assert series.meetings.count() == 3
    assert set(Session.objects.filter(circle=setting.circle).values_list("location", flat=True)) == {
        "Community hall, 12 Alder St"
    }


# --- extending and cancelling ------------------------------------------------------------------


def test_extending_adds_meetings_after_the_last_with_the_current_members(setting, alice):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=2))
    newcomer = enrolled(setting.program, alice)
    services.circle_join(circle=setting.circle, participant=newcomer, actor=alice)
    added = services.series_extend(series=series, actor=alice, meetings=3)
    numbers = list(SeriesMeeting.objects.filter(series=series).order_by("number").values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5]
    last_before = Session.objects.get(series_meeting__series=series, series_meeting__number=2)
    assert added[0].planned_start - last_before.planned_start == datetime.timedelta(days=7)
    assert Attendance.objects.filter(session=added[-1], participant=newcomer).exists()
    series.refresh_from_db()
    assert series.meeting_count == 5 and series.ends_on is None
    assert AuditEntry.objects.get(action="community.circle_series.extended").data == {"added": 3, "meetings": 5}


def test_extending_through_a_date_switches_the_series_to_that_end(setting, alice):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=2))
    until = next_weekday(1) + datetime.timedelta(days=35)
    services.series_extend(series=series, actor=alice, until=until)
    series.refresh_from_db()
    assert series.ends_on == until and series.meeting_count is None and series.meetings.count() == 6
    with pytest.raises(services.CircleRefused):
        services.series_extend(series=series, actor=alice, until=until)  # nothing new before that date


def test_cancelling_a_meeting_uses_the_session_status(setting, alice):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=2))
    first = series.meetings.get(number=1).session
    services.meeting_cancel(session=first, actor=alice)
    first.refresh_from_db()
    assert first.status == Session.Status.CANCELLED
    with pytest.raises(services.CircleRefused):
        services.meeting_cancel(session=first, actor=alice)
    assert AuditEntry.objects.filter(action="community.circle_meeting.cancelled").count() == 1


def test_cancelling_the_rest_of_a_series_cancels_what_has_not_started(setting, alice):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=4))
    held = series.meetings.get(number=1).session
    Session.objects.filter(pk=held.pk).update(status=Session.Status.COMPLETED)
    assert services.series_cancel(series=series, actor=alice) == 3
    statuses = dict(series.meetings.values_list("number", "session__status"))
    assert statuses == {1: "completed", 2: "cancelled", 3: "cancelled", 4: "cancelled"}
    with pytest.raises(services.CircleRefused):
        services.series_extend(series=series, actor=alice, meetings=1)


# --- pages -------------------------------------------------------------------------------------


def _post_series(client, circle, **overrides):
    fields = series_fields(**overrides)
    data = {k: v for k, v in fields.items() if v is not None}
    data["start_time"] = fields["start_time"].strftime("%H:%M")
    data["starts_on"] = fields["starts_on"].isoformat()
    return client.post(f"/community/circles/{circle.pk}/series/new/", data)


def test_a_coordinator_plans_a_series_on_the_page_and_sees_its_meetings(setting, alice_client):
    response = _post_series(alice_client, setting.circle)
    assert response.status_code == 302
    page = alice_client.get(f"/community/circles/{setting.circle.pk}/")
    session = Session.objects.filter(circle=setting.circle).order_by("planned_start").first()
    assert f"/programs/{setting.program.pk}/sessions/{session.pk}/" in page.content.decode()  # attendance, notes
    assert LINK in page.content.decode()


def test_the_series_page_shows_what_is_missing_and_saves_nothing(setting, alice_client):
    assert alice_client.get(f"/community/circles/{setting.circle.pk}/series/new/").status_code == 200
    response = _post_series(alice_client, setting.circle, meeting_link="")
    assert response.status_code == 400
    assert CircleSeries.objects.count() == 0


def test_a_facilitator_reads_their_circle_but_cannot_plan(org, alice, client):
    guide_user = make_user(org, Role.FACILITATOR, email="guide@cascadia.example")
    setting = circle_setting(org, alice, guide_user=guide_user)
    services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=1))
    client.force_login(guide_user)
    assert client.get(f"/community/circles/{setting.circle.pk}/").status_code == 200
    assert _post_series(client, setting.circle).status_code == 403
    assert CircleSeries.objects.count() == 1


def test_other_facilitators_hospitality_and_other_organizations_do_not_see_the_circle(
    setting, bob_client, charlie_client, org, client
):
    url = f"/community/circles/{setting.circle.pk}/"
    assert bob_client.get(url).status_code == 404  # a facilitator, not of this circle
    assert charlie_client.get(url).status_code == 404
    client.force_login(make_user(org, Role.HOSPITALITY))
    assert client.get(url).status_code == 403


def test_the_circle_page_reads_in_a_fixed_number_of_queries(
    setting, alice, alice_client, django_assert_max_num_queries
):
    services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=8))
    with django_assert_max_num_queries(25):
        assert alice_client.get(f"/community/circles/{setting.circle.pk}/").status_code == 200


# --- API ---------------------------------------------------------------------------------------


def _api_fields(**overrides) -> dict:
    fields = series_fields(**overrides)
    fields["start_time"] = fields["start_time"].strftime("%H:%M")
    fields["starts_on"] = fields["starts_on"].isoformat()
    return {k: v for k, v in fields.items() if v is not None}


def test_the_api_plans_extends_and_cancels_a_series(setting, client, alice_api):
    created = call(client, "post", f"/community/circles/{setting.circle.pk}/series", _api_fields(), **alice_api)
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["meetings"]) == 6 and body["meeting_link"] == LINK
    extended = call(client, "post", f"/community/series/{body['id']}/extend", {"meetings": 2}, **alice_api)
    assert [m["number"] for m in extended.json()["meetings"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    one = extended.json()["meetings"][0]["session_id"]
    assert call(client, "post", f"/community/meetings/{one}/cancel", **alice_api).json()["status"] == "cancelled"
    cancelled = call(client, "post", f"/community/series/{body['id']}/cancel", **alice_api)
    assert cancelled.json()["cancelled_at"] and {m["status"] for m in cancelled.json()["meetings"]} == {"cancelled"}
    assert_error(call(client, "post", f"/community/series/{body['id']}/cancel", **alice_api), 409)


def test_the_api_refuses_bad_input_and_changes_nothing(setting, client, alice_api):
    path = f"/community/circles/{setting.circle.pk}/series"
    assert_error(call(client, "post", path, {**_api_fields(), "colour": "blue"}, **alice_api), 422)
    assert_error(call(client, "post", path, {**_api_fields(), "start_time": 1830}, **alice_api), 422)
    assert_error(call(client, "post", path, {**_api_fields(), "ends_on": "2030-01-01"}, **alice_api), 422)
    assert_error(call(client, "post", path, _api_fields(meeting_link=""), **alice_api), 409)
    assert Session.objects.count() == 0 and CircleSeries.objects.count() == 0


def test_the_api_keeps_to_roles_and_organizations(setting, alice, client, bob_api, charlie_api, org, rita_api):
    series = services.series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=1))
    assert_error(call(client, "get", f"/community/series/{series.pk}", **charlie_api), 404)
    assert_error(call(client, "get", f"/community/circles/{setting.circle.pk}/series", **charlie_api), 404)
    assert_error(call(client, "post", f"/community/series/{series.pk}/extend", {"meetings": 1}, **charlie_api), 404)
    assert_error(call(client, "get", f"/community/series/{series.pk}", **bob_api), 404)  # not his circle
    assert_error(call(client, "get", "/community/circles", **rita_api), 403)  # researchers: nothing identified
    hospitality = bearer(make_user(org, Role.HOSPITALITY), org)
    assert_error(call(client, "get", "/community/circles", **hospitality), 403)
    guide_user = make_user(org, Role.FACILITATOR)
    setting.guide.user = guide_user
    setting.guide.save(update_fields=["user"])
    guide = bearer(guide_user, org)
    assert call(client, "get", f"/community/series/{series.pk}", **guide).status_code == 200
    assert call(client, "get", "/community/circles", **guide).json()["count"] == 1
    assert_error(call(client, "post", f"/community/series/{series.pk}/extend", {"meetings": 1}, **guide), 403)
    assert series.meetings.count() == 1
