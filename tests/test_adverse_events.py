"""Adverse events: the care team present at sessions records what happened, the event is classed the
way its regulator counts it, severe or reportable events open follow-up tasks for the safety
contact, and a task is closed only by a person who says what was done."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.participants import services as participants
from communitas.safety import regulator
from communitas.safety import services as safety
from communitas.safety.models import AdverseEvent, FollowUpTask
from tests.factories import OrganizationFactory, ParticipantFactory, make_user

Role = Membership.Role
LIST = reverse("safety:adverse_events")
NEW = reverse("safety:adverse_event_record")
OVERDUE = reverse("safety:follow_ups_overdue")
CLINICAL = "Clinical follow-up call"
SB303 = "Record for the quarterly SB 303 report"
DESCRIPTION = "Marisol hyperventilated at 13:20 and said her chest hurt; paramedics checked her and she stayed."
SESSION = "Group session, Saturday morning circle"
NOTE = "Called Marisol on Sunday; she slept well and her brother Tomás is with her."
NAV_BADGE = re.compile(r'Adverse events <span class="pill urgent"[^>]*>(\d+)</span></a>')
FUTURE_ONSET_ERROR = "The onset cannot be more than a day in the future."


def _local(dt: datetime.datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _today() -> datetime.date:
    return timezone.localdate()


def _fields(**overrides) -> dict:
    """A severe behavioral reaction during an administration session that needed paramedics."""
    fields = {
        "session_ref": SESSION,
        "during_administration": True,
        "kind": "behavioral",
        "onset_at": timezone.now() - datetime.timedelta(hours=3),
        "description": DESCRIPTION,
        "severity": "severe",
        "serious": False,
        "emergency_services": True,
        "medical_care": False,
        "hospital_transport": False,
        "outcome": "resolved",
        "relatedness": "probable",
    }
    fields.update(overrides)
    return fields


def _form(participant, **overrides) -> dict:
    """The same event as the record form posts it (unticked boxes are simply absent)."""
    data = {"participant": participant.pk, **_fields()}
    data["onset_at"] = _local(data["onset_at"])
    data.update(overrides)
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False and v is not None}


def _record(participant, actor, jurisdiction="US-OR", **overrides) -> AdverseEvent:
    return safety.adverse_event_record(
        participant=participant, actor=actor, jurisdiction=jurisdiction, **_fields(**overrides)
    )


def _detail(event) -> str:
    return reverse("safety:adverse_event", args=[event.pk])


def _add_url(event) -> str:
    return reverse("safety:follow_up_add", args=[event.pk])


def _done_url(task) -> str:
    return reverse("safety:follow_up_complete", args=[task.adverse_event_id, task.pk])


def _tasks(event) -> list[tuple]:
    return sorted(
        (t.title, t.due_on, t.assigned_to_id, t.done_at is None)
        for t in FollowUpTask.objects.filter(adverse_event=event)
    )


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _nothing_recorded() -> bool:
    return (
        not AdverseEvent.objects.exists()
        and not FollowUpTask.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="safety.adverse_event").exists()
        and not AuditEntry.objects.filter(action__startswith="safety.follow_up").exists()
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _nav(page) -> str:
    return page.content.decode().split("<nav")[1].split("</nav>")[0]


@pytest.fixture
def guide(org):
    return make_user(org, Role.CEREMONIAL_GUIDE, email="gwen@cascadia.example")


@pytest.fixture
def peer(org):
    return make_user(org, Role.PEER_SUPPORTER, email="pat@cascadia.example")


@pytest.fixture
def event(alice, participant):
    return _record(participant, alice)


@pytest.fixture
def task(event):
    return FollowUpTask.objects.get(adverse_event=event, title=CLINICAL)


# --- recording ---------------------------------------------------------------------------------


def test_it_records_an_event_from_the_form_with_its_oregon_category_and_follow_ups(alice_client, alice, participant):
    r = alice_client.post(NEW, _form(participant))

    event = AdverseEvent.objects.get()
    assert r.status_code == 302 and r.url == _detail(event)
    assert (event.participant, event.reported_by, event.organization) == (participant, alice, participant.organization)
    assert (event.kind, event.severity, event.session_ref) == ("behavioral", "severe", SESSION)
    assert event.description == DESCRIPTION
    assert event.during_administration and event.emergency_services and not event.hospital_transport
    assert event.regulator_category == regulator.OR_BEHAVIORAL
    tomorrow, next_week = _today() + datetime.timedelta(days=1), _today() + datetime.timedelta(days=7)
    assert _tasks(event) == sorted([(CLINICAL, tomorrow, alice.pk, True), (SB303, next_week, alice.pk, True)])
    assert AuditEntry.objects.filter(action="safety.adverse_event.recorded", object_id=str(event.pk)).count() == 1
    assert AuditEntry.objects.filter(action="safety.follow_up.added").count() == 2

    page = alice_client.get(_detail(event)).content.decode()
    assert DESCRIPTION.split(";")[0] in page and CLINICAL in page and SB303 in page
    assert "Oregon: adverse behavioral reaction" in page


def test_it_assigns_automatic_follow_ups_to_the_named_safety_contact(alice, bob, org, participant):
    safety.safety_settings_update(organization_id=org.pk, actor=alice, safety_contact=bob, crisis_resources=[])
    event = _record(participant, alice)
    assert {t.assigned_to for t in event.follow_ups.all()} == {bob}


@pytest.mark.parametrize(
    ("overrides", "category", "titles"),
    [
        # serious though only moderate, after the session: a clinical call, nothing for SB 303
        (
            {"severity": "moderate", "serious": True, "during_administration": False},
            regulator.OR_NOT_REPORTABLE,
            [CLINICAL],
        ),
        # life-threatening and taken to hospital: still an Oregon adverse medical reaction
        (
            {"kind": "medical", "severity": "life_threatening", "hospital_transport": True},
            regulator.OR_MEDICAL,
            [CLINICAL, SB303],
        ),
        # mild, but a medical provider was needed during the session: counted for SB 303 only
        ({"severity": "mild", "emergency_services": False, "medical_care": True}, regulator.OR_BEHAVIORAL, [SB303]),
        # mild and handled in the room: nothing to follow up automatically
        ({"severity": "mild", "emergency_services": False}, regulator.OR_NOT_REPORTABLE, []),
    ],
)
def test_it_opens_the_follow_ups_each_event_needs(alice, participant, overrides, category, titles):
    event = _record(participant, alice, **overrides)
    assert event.regulator_category == category
    assert sorted(event.follow_ups.values_list("title", flat=True)) == sorted(titles)


@pytest.mark.parametrize(
    ("jurisdiction", "category"),
    [("US-CO", regulator.CO_ADVERSE_HEALTH_EVENT), ("US-NM", regulator.NONE), ("", regulator.NONE)],
)
def test_it_classifies_by_the_organizations_jurisdiction(db, jurisdiction, category):
    org = OrganizationFactory(jurisdiction=jurisdiction)
    coordinator = make_user(org, Role.COORDINATOR)
    person = ParticipantFactory(organization=org, display_name="Ana Ruiz")

    r = _client(coordinator).post(NEW, _form(person))

    assert r.status_code == 302
    event = AdverseEvent.objects.get()
    assert event.regulator_category == category
    assert list(event.follow_ups.values_list("title", flat=True)) == [CLINICAL]  # no SB 303 task outside Oregon


def test_it_opens_an_unassigned_follow_up_when_nobody_can_be_paged(bob, participant):
    event = _record(participant, bob)  # org has a facilitator but no coordinator or admin yet
    assert [(t.title, t.assigned_to) for t in event.follow_ups.order_by("due_on")] == [(CLINICAL, None), (SB303, None)]


def test_it_keeps_the_description_and_other_free_text_out_of_the_audit_trail(alice_client, alice, participant):
    alice_client.post(NEW, _form(participant))
    event = AdverseEvent.objects.get()
    safety.adverse_event_update(
        event=event, actor=alice, description=DESCRIPTION + " Later: fine.", severity="moderate"
    )

    entries = AuditEntry.objects.filter(action__startswith="safety.")
    assert {e.action for e in entries} >= {"safety.adverse_event.recorded", "safety.adverse_event.updated"}
    text = " ".join(str(e.data) for e in entries)
    for secret in ("hyperventilated", "paramedics", "chest", "Later: fine", SESSION, "Marisol", "Quispe"):
        assert secret not in text
    recorded = entries.get(action="safety.adverse_event.recorded")
    assert recorded.data == {
        "participant": participant.pseudonym,
        "kind": "behavioral",
        "severity": "severe",
        "serious": False,
        "regulator_category": regulator.OR_BEHAVIORAL,
    }
    assert entries.get(action="safety.adverse_event.updated").data == {"fields": ["description", "severity"]}


def test_it_encrypts_the_description_at_rest(event):
    raw = _raw("safety_adverseevent", "description", event.pk)
    assert raw.startswith("enc1$")
    assert "hyperventilated" not in raw and "Marisol" not in raw
    assert AdverseEvent.objects.get(pk=event.pk).description == DESCRIPTION


def test_it_offers_only_the_organizations_current_participants(
    alice_client, alice, org, participant, outsider_participant
):
    archived = ParticipantFactory(organization=org, display_name="Archie Gone")
    participants.participant_archive(participant=archived, actor=alice)

    page = alice_client.get(NEW).content.decode()

    assert f"Marisol Quispe ({participant.pseudonym})" in page
    assert "Dale Whitcomb" not in page and "Archie Gone" not in page
    assert 'type="datetime-local"' in page


# --- bad input -----------------------------------------------------------------------------


REQUIRED = ["participant", "onset_at", "kind", "description", "severity", "relatedness", "outcome"]


@pytest.mark.parametrize("missing", REQUIRED)
def test_it_refuses_a_record_with_a_missing_field(alice_client, participant, missing):
    data = _form(participant)
    del data[missing]

    r = alice_client.post(NEW, data)

    assert r.status_code == 200
    assert "This field is required." in r.content.decode()
    assert _nothing_recorded()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"severity": "catastrophic"}, "Select a valid choice. catastrophic is not one of the available choices."),
        ({"kind": "spiritual"}, "Select a valid choice. spiritual is not one of the available choices."),
        ({"relatedness": "maybe"}, "Select a valid choice. maybe is not one of the available choices."),
        ({"onset_at": "last Tuesday"}, "Enter a valid date/time."),
        ({"description": "x" * 8001}, "Ensure this value has at most 8000 characters"),
    ],
)
def test_it_refuses_a_record_with_a_bad_value(alice_client, participant, overrides, error):
    r = alice_client.post(NEW, _form(participant, **overrides))
    assert r.status_code == 200
    assert error in r.content.decode()
    assert _nothing_recorded()


@pytest.mark.parametrize("ahead", [datetime.timedelta(days=2), datetime.timedelta(days=400)])
def test_it_refuses_an_onset_more_than_a_day_in_the_future(alice_client, alice, participant, ahead):
    onset = timezone.now() + ahead
    r = alice_client.post(NEW, _form(participant, onset_at=_local(onset)))

    assert r.status_code == 200
    assert FUTURE_ONSET_ERROR in r.content.decode()
    assert _nothing_recorded()
    with pytest.raises(ValidationError) as caught:
        _record(participant, alice, onset_at=onset)
    assert list(caught.value.message_dict) == ["onset_at"]
    assert _nothing_recorded()


def test_it_accepts_an_onset_a_few_hours_ahead_of_the_server_clock(alice_client, participant):
    r = alice_client.post(NEW, _form(participant, onset_at=_local(timezone.now() + datetime.timedelta(hours=12))))
    assert r.status_code == 302 and AdverseEvent.objects.count() == 1


def test_it_refuses_a_participant_of_another_organization(alice_client, alice, outsider_participant):
    r = alice_client.post(NEW, _form(outsider_participant))

    assert r.status_code == 200
    assert "Select a valid choice." in r.content.decode()
    assert _nothing_recorded()
    with pytest.raises(PermissionDenied):
        _record(outsider_participant, alice)
    assert _nothing_recorded()


def test_it_refuses_unknown_fields_in_the_service(alice, participant):
    with pytest.raises(ValueError, match="regulator_category"):
        _record(participant, alice, regulator_category="none")
    assert _nothing_recorded()


# --- updating ----------------------------------------------------------------------------------


def test_it_recomputes_the_category_and_opens_missing_follow_ups_on_update(alice, participant):
    event = _record(participant, alice, severity="mild", emergency_services=False)
    assert (event.regulator_category, _tasks(event)) == (regulator.OR_NOT_REPORTABLE, [])

    updated = safety.adverse_event_update(event=event, actor=alice, medical_care=True, severity="severe")

    assert (
        updated.regulator_category
        == AdverseEvent.objects.get(pk=event.pk).regulator_category
        == regulator.OR_BEHAVIORAL
    )
    assert [t[0] for t in _tasks(event)] == [CLINICAL, SB303]
    entry = AuditEntry.objects.get(action="safety.adverse_event.updated")
    assert entry.data == {"fields": ["medical_care", "regulator_category", "severity"]}

    safety.adverse_event_update(event=event, actor=alice, severity="life_threatening", outcome="resolved")
    assert len(_tasks(event)) == 2  # the tasks it already has are not opened again


def test_it_changes_nothing_on_an_update_that_changes_nothing(alice, event):
    before = AuditEntry.objects.count()
    safety.adverse_event_update(event=event, actor=alice, severity=event.severity, kind=event.kind)
    assert AuditEntry.objects.count() == before


def test_it_refuses_an_update_from_another_organization_or_into_the_future(alice, charlie, event):
    with pytest.raises(PermissionDenied):
        safety.adverse_event_update(event=event, actor=charlie, severity="mild")
    with pytest.raises(ValidationError):
        safety.adverse_event_update(event=event, actor=alice, onset_at=timezone.now() + datetime.timedelta(days=3))
    fresh = AdverseEvent.objects.get(pk=event.pk)
    assert (fresh.severity, fresh.onset_at) == (event.severity, event.onset_at)
    assert not AuditEntry.objects.filter(action="safety.adverse_event.updated").exists()


# --- who may see and record ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "guide"])
def test_it_opens_every_page_to_the_care_team(request, event, task, who):
    client = _client(request.getfixturevalue(who))
    for url in (LIST, NEW, _detail(event), OVERDUE):
        assert client.get(url).status_code == 200, url
    assert _detail(event) in client.get(LIST).content.decode()


def test_it_lets_a_ceremonial_guide_record_and_complete(guide, participant):
    client = _client(guide)
    assert client.post(NEW, _form(participant)).status_code == 302
    task = FollowUpTask.objects.get(title=CLINICAL)
    assert client.post(_done_url(task), {"note": NOTE}).status_code == 302
    assert FollowUpTask.objects.get(pk=task.pk).done_by == guide


@pytest.mark.parametrize("who", ["rita", "peer"])
def test_it_refuses_every_page_to_researchers_and_peer_supporters(request, participant, event, task, bob, who):
    client = _client(request.getfixturevalue(who))
    before = (AuditEntry.objects.count(), AdverseEvent.objects.count(), FollowUpTask.objects.count())

    for url in (LIST, NEW, _detail(event), OVERDUE):
        assert client.get(url).status_code == 403, url
    assert client.post(NEW, _form(participant)).status_code == 403
    assert (
        client.post(_add_url(event), {"title": "x", "due_on": "2030-01-01", "assigned_to": bob.pk}).status_code == 403
    )
    assert client.post(_done_url(task), {"note": NOTE}).status_code == 403

    assert (AuditEntry.objects.count(), AdverseEvent.objects.count(), FollowUpTask.objects.count()) == before
    assert FollowUpTask.objects.get(pk=task.pk).done_at is None
    assert "Adverse events" not in _nav(client.get(reverse("home"), follow=True))


def test_it_hides_one_organizations_events_from_another(charlie_client, charlie, participant, event, task):
    before = (AuditEntry.objects.count(), AdverseEvent.objects.count(), FollowUpTask.objects.count())
    FollowUpTask.objects.filter(pk=task.pk).update(due_on=_today() - datetime.timedelta(days=3))

    listing = charlie_client.get(LIST)
    assert listing.status_code == 200 and _detail(event) not in listing.content.decode()
    assert "Marisol" not in listing.content.decode()
    overdue = charlie_client.get(OVERDUE)
    assert overdue.status_code == 200 and "Marisol" not in overdue.content.decode()
    assert charlie_client.get(_detail(event)).status_code == 404
    assert (
        charlie_client.post(
            _add_url(event), {"title": "x", "due_on": "2030-01-01", "assigned_to": charlie.pk}
        ).status_code
        == 404
    )
    assert charlie_client.post(_done_url(task), {"note": NOTE}).status_code == 404
    recording = charlie_client.post(NEW, _form(participant))
    assert recording.status_code == 200 and "Select a valid choice." in recording.content.decode()

    assert (AuditEntry.objects.count(), AdverseEvent.objects.count(), FollowUpTask.objects.count()) == before
    assert FollowUpTask.objects.get(pk=task.pk).done_at is None


def test_it_answers_404_for_a_task_of_another_event(alice_client, alice, participant, event):
    other = _record(participant, alice, severity="life_threatening")
    other_task = other.follow_ups.first()
    url = reverse("safety:follow_up_complete", args=[event.pk, other_task.pk])
    assert alice_client.post(url, {"note": NOTE}).status_code == 404
    assert alice_client.get(reverse("safety:adverse_event", args=[999999])).status_code == 404
    assert FollowUpTask.objects.get(pk=other_task.pk).done_at is None


def test_it_sends_anonymous_visitors_to_the_login_page(client, participant, event, task):
    login = reverse("accounts:login") + "?next="
    for url in (LIST, NEW, _detail(event), OVERDUE):
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith(login), url
    for url, data in ((NEW, _form(participant)), (_add_url(event), {"title": "x"}), (_done_url(task), {"note": NOTE})):
        r = client.post(url, data)
        assert r.status_code == 302 and r.url.startswith(login), url
    assert AdverseEvent.objects.count() == 1 and FollowUpTask.objects.get(pk=task.pk).done_at is None


def test_it_takes_only_posts_to_change_follow_ups(alice_client, event, task):
    assert alice_client.get(_add_url(event)).status_code == 405
    assert alice_client.get(_done_url(task)).status_code == 405


# --- follow-ups --------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   \n  "])
def test_it_requires_a_note_to_complete_a_follow_up(alice_client, alice, task, note):
    before = AuditEntry.objects.count()

    r = alice_client.post(_done_url(task), {"note": note})

    assert r.status_code == 400
    assert "This field is required." in r.content.decode()
    assert FollowUpTask.objects.get(pk=task.pk).done_at is None
    assert AuditEntry.objects.count() == before
    with pytest.raises(ValueError):
        safety.follow_up_complete(task=task, actor=alice, note=note)


def test_it_records_who_completed_a_follow_up_when_and_what_was_done(alice_client, alice, bob_client, task):
    r = alice_client.post(_done_url(task), {"note": NOTE})

    assert r.status_code == 302 and r.url == _detail(task.adverse_event)
    done = FollowUpTask.objects.get(pk=task.pk)
    assert (done.done_by, done.note) == (alice, NOTE) and done.done_at is not None
    entry = AuditEntry.objects.get(action="safety.follow_up.completed")
    assert (entry.actor_id, entry.object_id, entry.data) == (
        alice.pk,
        str(task.pk),
        {"adverse_event": task.adverse_event_id},
    )
    raw = _raw("safety_followuptask", "note", task.pk)
    assert raw.startswith("enc1$") and "Tomás" not in raw

    bob_client.post(_done_url(task), {"note": "Bob called too."})  # a second completion changes nothing
    assert FollowUpTask.objects.get(pk=task.pk).note == NOTE
    assert AuditEntry.objects.filter(action="safety.follow_up.completed").count() == 1
    page = alice_client.get(_detail(task.adverse_event)).content.decode()
    assert "her brother Tomás is with her" in page and f'action="{_done_url(task)}"' not in page


def test_it_adds_a_follow_up_for_a_member_of_the_care_team(alice_client, bob, event):
    due = _today() + datetime.timedelta(days=3)

    r = alice_client.post(
        _add_url(event), {"title": "Check in with her brother", "due_on": due.isoformat(), "assigned_to": bob.pk}
    )

    assert r.status_code == 302 and r.url == _detail(event)
    added = FollowUpTask.objects.get(title="Check in with her brother")
    assert (added.adverse_event, added.due_on, added.assigned_to, added.done_at) == (event, due, bob, None)
    entry = AuditEntry.objects.filter(action="safety.follow_up.added").latest("seq")
    assert "brother" not in str(entry.data) and entry.data["assigned_to"] == bob.pk


@pytest.mark.parametrize("bad", ["no_title", "no_date", "researcher", "other_org"])
def test_it_refuses_a_follow_up_without_a_title_date_or_care_team_assignee(
    alice_client, bob, rita, charlie, event, bad
):
    data = {"title": "Call her", "due_on": "2030-01-01", "assigned_to": bob.pk}
    if bad == "no_title":
        data["title"] = "  "
    elif bad == "no_date":
        data["due_on"] = "soon"
    else:
        data["assigned_to"] = {"researcher": rita, "other_org": charlie}[bad].pk
    before = FollowUpTask.objects.count()

    r = alice_client.post(_add_url(event), data)

    assert r.status_code == 400
    assert 'class="error"' in r.content.decode()
    assert FollowUpTask.objects.count() == before


def test_it_refuses_a_follow_up_for_someone_outside_the_care_team_in_the_service(alice, rita, charlie, event):
    for outsider in (rita, charlie):
        with pytest.raises(ValidationError) as caught:
            safety.follow_up_add(event=event, actor=alice, title="Call", due_on=_today(), assigned_to=outsider)
        assert list(caught.value.message_dict) == ["assigned_to"]
    with pytest.raises(PermissionDenied):
        safety.follow_up_add(event=event, actor=charlie, title="Call", due_on=_today(), assigned_to=charlie)


# --- the overdue list and badge --------------------------------------------------------------


@pytest.fixture
def follow_ups(alice, bob, charlie, participant, outsider_participant):
    """One event per organization with tasks that are overdue, done, due today and due later."""
    mine = _record(participant, alice, severity="mild", emergency_services=False)
    theirs = _record(outsider_participant, charlie, severity="mild", emergency_services=False)
    days = datetime.timedelta

    def add(event, actor, title, due):
        return safety.follow_up_add(event=event, actor=actor, title=title, due_on=_today() + due, assigned_to=actor)

    tasks = {
        "late": add(mine, alice, "Late call", days(-2)),
        "late_done": add(mine, alice, "Late but done", days(-5)),
        "today": add(mine, alice, "Due today", days(0)),
        "later": add(mine, alice, "Due later", days(4)),
        "theirs": add(theirs, charlie, "Their late call", days(-3)),
    }
    safety.follow_up_complete(task=tasks["late_done"], actor=alice, note="Done, a day late.")
    return tasks


def test_it_lists_only_the_organizations_overdue_open_follow_ups(alice_client, charlie_client, follow_ups):
    page = alice_client.get(OVERDUE).content.decode()
    assert "Late call" in page and "Marisol Quispe" in page
    for absent in ("Late but done", "Due today", "Due later", "Their late call"):
        assert absent not in page
    assert "2\xa0days overdue" in page

    theirs = charlie_client.get(OVERDUE).content.decode()
    assert "Their late call" in theirs and "Late call" not in theirs.replace("Their late call", "")


def test_it_shows_the_overdue_count_in_the_nav(alice_client, charlie_client, bob_client, alice, follow_ups):
    assert NAV_BADGE.findall(_nav(alice_client.get(reverse("outcomes:home")))) == ["1"]
    assert NAV_BADGE.findall(_nav(bob_client.get(LIST))) == ["1"]
    assert NAV_BADGE.findall(_nav(charlie_client.get(LIST))) == ["1"]

    safety.follow_up_complete(task=follow_ups["late"], actor=alice, note="Reached her.")
    nav = _nav(alice_client.get(reverse("outcomes:home")))
    assert "Adverse events" in nav and NAV_BADGE.findall(nav) == []


def test_it_puts_adverse_events_next_to_alerts_for_the_care_team(alice_client, guide):
    nav = _nav(alice_client.get(LIST))
    assert nav.index("Alerts") < nav.index("Adverse events")
    assert 'href="/safety/adverse-events/" aria-current="page"' in nav
    guide_nav = _nav(_client(guide).get(reverse("participants:list")))
    assert "Adverse events" in guide_nav and "Alerts" not in guide_nav


# --- the list ----------------------------------------------------------------------------------


def test_it_lists_events_newest_first_and_filters_by_severity(alice_client, alice, participant):
    hours = datetime.timedelta(hours=1)
    old = _record(participant, alice, severity="mild", onset_at=timezone.now() - 30 * hours)
    new = _record(participant, alice, severity="severe", onset_at=timezone.now() - 2 * hours)
    middle = _record(participant, alice, severity="moderate", onset_at=timezone.now() - 10 * hours)
    row = re.compile(r'href="/safety/adverse-events/(\d+)/"')

    assert [int(pk) for pk in row.findall(alice_client.get(LIST).content.decode())] == [new.pk, middle.pk, old.pk]
    assert [int(pk) for pk in row.findall(alice_client.get(LIST + "?severity=mild").content.decode())] == [old.pk]
    assert row.findall(alice_client.get(LIST + "?severity=life_threatening").content.decode()) == []
    everything = alice_client.get(LIST + "?severity=catastrophic")
    assert everything.status_code == 200 and len(row.findall(everything.content.decode())) == 3


# --- query counts ------------------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _late_task(event, actor, n):
    due = _today() - datetime.timedelta(days=1 + n)
    return safety.follow_up_add(event=event, actor=actor, title=f"Late {n}", due_on=due, assigned_to=actor)


def test_it_lists_2_or_12_events_in_the_same_number_of_queries(alice_client, alice, org, django_assert_num_queries):
    people = [ParticipantFactory(organization=org, display_name=f"Rowan {i}") for i in range(12)]
    for person in people[:2]:
        _late_task(_record(person, alice), alice, 0)
    baseline = _count_queries(alice_client, LIST)

    for i, person in enumerate(people[2:]):
        _late_task(_record(person, alice, severity="mild"), alice, i)
    with django_assert_num_queries(baseline):
        page = alice_client.get(LIST)
    assert len(re.findall(r'href="/safety/adverse-events/\d+/"', page.content.decode())) == 12


def test_it_shows_an_event_with_2_or_12_follow_ups_in_the_same_number_of_queries(
    alice_client, alice, event, django_assert_num_queries
):
    url = _detail(event)
    baseline = _count_queries(alice_client, url)

    for n in range(10):
        task = _late_task(event, alice, n)
        if n % 2:
            safety.follow_up_complete(task=task, actor=alice, note=f"Done {n}")
    with django_assert_num_queries(baseline):
        page = alice_client.get(url)
    assert page.content.decode().count('<div class="card">\n  <h3>') == 12


def test_it_lists_1_or_11_overdue_follow_ups_in_the_same_number_of_queries(
    alice_client, alice, org, event, django_assert_num_queries
):
    _late_task(event, alice, 0)
    baseline = _count_queries(alice_client, OVERDUE)

    for n in range(1, 11):
        _late_task(_record(ParticipantFactory(organization=org), alice, severity="mild"), alice, n)
    with django_assert_num_queries(baseline):
        page = alice_client.get(OVERDUE)
    assert page.content.decode().count("overdue</td>") == 11
