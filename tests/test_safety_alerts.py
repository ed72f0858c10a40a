"""Safety alerts: raised once per flagged response, paged to the safety contact, seen by the care
team of the organization only, closed only by a person who says what was done."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from communitas.accounts.models import Membership, User
from communitas.core.models import AuditEntry
from communitas.outcomes import services as outcomes
from communitas.outcomes.models import Score
from communitas.outcomes.registry import instrument_for
from communitas.outcomes.scoring import score
from communitas.safety import services as safety
from communitas.safety.models import SafetyAlert
from communitas.safety.selectors import open_alert_count
from communitas.safety.tasks import notify_safety_alert
from tests.factories import make_user
from tests.outcomes_helpers import enrolled_with_schedule

FLAG = "phq9_item9_positive"
ITEM9_POSITIVE = {**{str(n): 0 for n in range(1, 9)}, "9": 1}
NO_FLAG = {**{str(n): 1 for n in range(1, 9)}, "9": 0}
SUMMARY = "Patient Health Questionnaire-9 item 9: answered 1"
NOTE = "Called Marisol at 14:10; safety plan reviewed with her and her brother Tomás."
ALERTS = reverse("safety:alerts")
NAV_BADGE = re.compile(r'Alerts <span class="pill urgent">(\d+)</span></a>')


def _submit(assessment, answers, **kwargs):
    return outcomes.response_submit(assessment=assessment, answers=answers, language="en", source="link", **kwargs)


def _alert_url(alert):
    return reverse("safety:alert", args=[alert.pk])


def _state(alert):
    alert = SafetyAlert.objects.get(pk=alert.pk)
    return (alert.acknowledged_at, alert.acknowledged_by_id, alert.acknowledgement_note, alert.assigned_to_id)


def _stored_note(alert):
    with connection.cursor() as cursor:
        cursor.execute("SELECT acknowledgement_note FROM safety_safetyalert WHERE id = %s", [alert.pk])
        return cursor.fetchone()[0]


def _nav(page):
    return page.split("</nav>")[0]


@pytest.fixture
def assessments(org, participant):
    _program, _enrollment, planned = enrolled_with_schedule(org, participant)
    return {a.timepoint: a for a in planned}


@pytest.fixture
def alert(alice, assessments):
    """An open alert: Marisol answered item 9 with 'several days' at baseline."""
    _submit(assessments["baseline"], ITEM9_POSITIVE)
    return SafetyAlert.objects.get()


# --- raising -------------------------------------------------------------------------------


def test_it_opens_one_alert_for_the_first_active_coordinator(
    alice, bob, rita, participant, assessments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response, created = _submit(assessments["baseline"], ITEM9_POSITIVE)

    assert created and FLAG in response.score.flags
    alert = SafetyAlert.objects.get()
    assert (alert.participant, alert.flag, alert.summary) == (participant, FLAG, SUMMARY)
    assert (alert.assigned_to, alert.acknowledged_at, alert.acknowledged_by) == (alice, None, None)
    assert (alert.source_type, alert.source_id) == ("outcomes.response", str(response.pk))
    assert AuditEntry.objects.filter(action="safety.alert.raised", object_id=str(alert.pk)).count() == 1
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_it_pages_the_organizations_named_safety_contact(alice, bob, org, assessments):
    safety.safety_settings_update(organization_id=org.pk, actor=alice, safety_contact=bob, crisis_resources=[])
    _submit(assessments["baseline"], ITEM9_POSITIVE)
    assert SafetyAlert.objects.get().assigned_to == bob


def test_it_falls_back_to_a_coordinator_when_the_safety_contact_is_deactivated(alice, bob, org, assessments):
    safety.safety_settings_update(organization_id=org.pk, actor=alice, safety_contact=bob, crisis_resources=[])
    User.objects.filter(pk=bob.pk).update(is_active=False)
    _submit(assessments["baseline"], ITEM9_POSITIVE)
    assert SafetyAlert.objects.get().assigned_to == alice


def test_it_skips_inactive_coordinators_and_other_roles(alice, bob, rita, org, assessments):
    Membership.objects.filter(user=alice, organization=org).update(is_active=False)
    ada = make_user(org, Membership.Role.ADMIN, email="ada@cascadia.example")
    _submit(assessments["baseline"], ITEM9_POSITIVE)
    assert SafetyAlert.objects.get().assigned_to == ada


def test_it_never_assigns_an_alert_to_another_organizations_staff(charlie, bob, assessments):
    _submit(assessments["baseline"], ITEM9_POSITIVE)  # org has no coordinator or admin: nobody to page
    assert SafetyAlert.objects.get().assigned_to is None


def test_it_opens_no_second_alert_when_the_same_response_is_submitted_again(
    alice, assessments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = _submit(assessments["baseline"], ITEM9_POSITIVE, submission_id="click-1")
        again, created = _submit(assessments["baseline"], ITEM9_POSITIVE, submission_id="click-2")
        safety.safety_alert_raise(participant=first.participant, flag=FLAG, summary="again", source=first)

    assert (again.pk, created) == (first.pk, False)
    alert = SafetyAlert.objects.get()
    assert alert.summary == SUMMARY
    assert AuditEntry.objects.filter(action="safety.alert.raised").count() == 1
    assert len(mail.outbox) == 1


def test_it_opens_no_alert_without_the_flag(alice, assessments):
    _submit(assessments["baseline"], NO_FLAG)
    assert not SafetyAlert.objects.exists()


def test_it_opens_another_alert_for_a_later_flagged_response(alice, assessments):
    _submit(assessments["baseline"], ITEM9_POSITIVE)
    _submit(assessments["week_1"], ITEM9_POSITIVE)
    assert SafetyAlert.objects.filter(acknowledged_at__isnull=True).count() == 2


# --- who sees alerts -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice_client", "bob_client"])
def test_it_lists_open_alerts_to_the_care_team(request, alert, who):
    page = request.getfixturevalue(who).get(ALERTS)
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="{_alert_url(alert)}"' in body
    assert SUMMARY in body and "Marisol Quispe" in body and "needs review today" in body


@pytest.mark.parametrize("who", ["alice_client", "bob_client"])
def test_it_shows_an_alert_to_the_care_team(request, alert, who):
    page = request.getfixturevalue(who).get(_alert_url(alert))
    assert page.status_code == 200
    body = page.content.decode()
    assert SUMMARY in body and 'name="note"' in body


def test_it_refuses_alerts_to_a_researcher(client, rita, alert):
    client.force_login(rita)
    before = _state(alert)
    assert client.get(ALERTS).status_code == 403
    assert client.get(_alert_url(alert)).status_code == 403
    assert client.post(_alert_url(alert), {"note": NOTE}).status_code == 403
    assert _state(alert) == before


def test_it_sends_anonymous_visitors_to_the_login_page(client, alert):
    login = reverse("accounts:login") + "?next="
    for r in (client.get(ALERTS), client.get(_alert_url(alert)), client.post(_alert_url(alert), {"note": NOTE})):
        assert r.status_code == 302 and r.url.startswith(login)
    assert SafetyAlert.objects.get(pk=alert.pk).acknowledged_at is None


def test_it_hides_an_alert_from_another_organization(charlie_client, alert):
    before, audit_before = _state(alert), AuditEntry.objects.count()

    listing = charlie_client.get(ALERTS)
    assert listing.status_code == 200
    assert SUMMARY not in listing.content.decode() and _alert_url(alert) not in listing.content.decode()
    assert charlie_client.get(ALERTS + "?all=1").content.decode().count(_alert_url(alert)) == 0
    assert charlie_client.get(_alert_url(alert)).status_code == 404
    assert charlie_client.post(_alert_url(alert), {"note": NOTE}).status_code == 404

    assert _state(alert) == before
    assert AuditEntry.objects.count() == audit_before


# --- acknowledging -------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   \n  "])
def test_it_requires_a_note_to_acknowledge(alice_client, alert, note):
    before, audit_before = _state(alert), AuditEntry.objects.count()

    r = alice_client.post(_alert_url(alert), {"note": note})

    assert r.status_code == 200
    assert "This field is required." in r.content.decode()
    assert _state(alert) == before and before[0] is None
    assert AuditEntry.objects.count() == audit_before


def test_it_records_who_acknowledged_when_and_what_was_done(alice_client, alice, alert):
    r = alice_client.post(_alert_url(alert), {"note": NOTE})

    assert r.status_code == 302 and r.url == ALERTS
    alert.refresh_from_db()
    assert alert.acknowledged_by == alice and alert.acknowledged_at is not None
    assert alert.acknowledgement_note == NOTE
    entry = AuditEntry.objects.get(action="safety.alert.acknowledged")
    assert (entry.actor_id, entry.object_id) == (alice.pk, str(alert.pk))
    assert NOTE not in str(entry.data)
    raw = _stored_note(alert)
    assert raw.startswith("enc1$") and "Marisol" not in raw and "safety plan" not in raw
    page = alice_client.get(_alert_url(alert)).content.decode()
    assert "Called Marisol at 14:10" in page and 'name="note"' not in page


def test_it_changes_nothing_on_a_second_acknowledgement(alice_client, bob_client, alert):
    alice_client.post(_alert_url(alert), {"note": NOTE})
    before, audit_before = _state(alert), AuditEntry.objects.count()

    r = bob_client.post(_alert_url(alert), {"note": "Bob also called."})

    assert r.status_code == 200
    assert _state(alert) == before
    assert AuditEntry.objects.count() == audit_before
    assert AuditEntry.objects.filter(action="safety.alert.acknowledged").count() == 1
    with pytest.raises(ValueError):
        safety.safety_alert_acknowledge(alert=alert, actor=None, note=" ")


def test_it_moves_an_acknowledged_alert_off_the_open_list(alice_client, alert):
    alice_client.post(_alert_url(alert), {"note": NOTE})
    assert _alert_url(alert) not in alice_client.get(ALERTS).content.decode()
    everything = alice_client.get(ALERTS + "?all=1").content.decode()
    assert _alert_url(alert) in everything and "acknowledged" in everything


def test_it_lists_open_alerts_first_then_the_latest_acknowledged(alice_client, alice, assessments):
    for timepoint in ("baseline", "post_session", "week_1"):
        _submit(assessments[timepoint], ITEM9_POSITIVE)
    first, second, still_open = SafetyAlert.objects.order_by("pk")
    safety.safety_alert_acknowledge(alert=first, actor=alice, note="Called her.")
    safety.safety_alert_acknowledge(alert=second, actor=alice, note="Called her again.")

    page = alice_client.get(ALERTS + "?all=1").content.decode()

    order = [int(pk) for pk in re.findall(r'href="/safety/alerts/(\d+)/"', page)]
    assert order == [still_open.pk, second.pk, first.pk]


# --- nothing automated closes an alert -----------------------------------------------------


def test_it_keeps_an_alert_open_whatever_automation_runs(alice_client, alice, org, assessments, alert, capsys):
    # later answers without the flag
    _submit(assessments["week_1"], NO_FLAG)
    _submit(assessments["post_session"], NO_FLAG)
    # the daily reminder run
    call_command("send_reminders")
    assert "queued" in capsys.readouterr().out
    # the paging task again, and the alert raised again from the same response
    notify_safety_alert.enqueue(alert.pk)
    response = assessments["baseline"].response
    safety.safety_alert_raise(participant=response.participant, flag=FLAG, summary="again", source=response)
    # re-scoring the flagged response (e.g. after an instrument correction clears the flag)
    result = score(instrument_for(org.pk, "phq9"), response.answers)
    assert FLAG in result.flags
    Score.objects.filter(response=response).update(total=result.total, flags=[])
    # re-planning the enrolment, and staff looking at the alert without acknowledging it
    enrollment = assessments["baseline"].enrollment
    outcomes.enrollment_anchor_set(
        enrollment=enrollment, administration_date=enrollment.administration_date, actor=alice
    )
    alice_client.get(ALERTS)
    alice_client.get(_alert_url(alert))
    alice_client.post(_alert_url(alert), {"note": ""})

    alert.refresh_from_db()
    assert (alert.acknowledged_at, alert.acknowledged_by, alert.acknowledgement_note) == (None, None, "")
    assert open_alert_count(Membership.objects.get(user=alice)) == 1
    assert not AuditEntry.objects.filter(action="safety.alert.acknowledged").exists()


# --- the nav badge -------------------------------------------------------------------------


def test_it_shows_the_open_alert_count_in_the_nav(alice_client, alert, assessments):
    assert NAV_BADGE.findall(_nav(alice_client.get(reverse("outcomes:home")).content.decode())) == ["1"]
    _submit(assessments["week_1"], ITEM9_POSITIVE)
    assert NAV_BADGE.findall(_nav(alice_client.get(ALERTS).content.decode())) == ["2"]


def test_it_shows_no_badge_without_open_alerts(alice_client, alice, assessments):
    assert NAV_BADGE.findall(_nav(alice_client.get(reverse("outcomes:home")).content.decode())) == []
    _submit(assessments["baseline"], ITEM9_POSITIVE)
    alert = SafetyAlert.objects.get()
    assert NAV_BADGE.findall(_nav(alice_client.get(reverse("outcomes:home")).content.decode())) == ["1"]
    alice_client.post(_alert_url(alert), {"note": NOTE})
    nav = _nav(alice_client.get(reverse("outcomes:home")).content.decode())
    assert "Alerts" in nav and NAV_BADGE.findall(nav) == []


def test_it_counts_only_the_organizations_own_alerts_in_the_nav(charlie_client, bob_client, alert):
    assert NAV_BADGE.findall(_nav(bob_client.get(reverse("outcomes:home")).content.decode())) == ["1"]
    assert NAV_BADGE.findall(_nav(charlie_client.get(reverse("outcomes:home")).content.decode())) == []


def test_it_shows_a_researcher_no_alerts_link(rita, alert):
    client = Client()
    client.force_login(rita)
    page = client.get(reverse("home"))
    assert "Alerts" not in _nav(page.content.decode())
