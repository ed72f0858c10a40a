"""Oregon's 303 Client Data Form (SB 303) on the staff page and through the participant's own link,
and the reporting settings page: roles, other-tenant 404s, withheld forms keep no answers, bad
input saves nothing, and every save is audited."""

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.compliance.forms import SB303_LABELS
from communitas.compliance.models import ClientDataForm, ReportingSettings
from communitas.compliance.sb303 import definition
from communitas.compliance.services import client_data_record
from communitas.core.models import AuditEntry
from communitas.participants.models import Participant
from communitas.programs.services import program_create
from tests.factories import make_user
from tests.journey_helpers import CLEAN_INTAKE, invitation_path, oregon_program

Role = Membership.Role

ANSWERS = {
    "race": ["white", "asian"],
    "ethnicity": "not_hispanic_latino",
    "spoken_language": "es",
    "written_language": "EN",
    "disability": "no",
    "county": "multnomah",
    "reasons": ["depression"],
    "veteran": "declined",
}


def url(participant) -> str:
    return f"/compliance/participants/{participant.pk}/client-data/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _member(org, role) -> Client:
    return _client(make_user(org, role))


def _audits(action):
    return list(AuditEntry.objects.filter(action=action))


# --- the staff page ------------------------------------------------------------------------------


def test_it_says_no_form_is_on_file_and_shows_the_forms_source(alice_client, participant):
    page = alice_client.get(url(participant)).content.decode()
    assert "No form on file." in page
    assert "OAR 333-333-4910" in page  # definition().source
    assert "The client chooses to withhold their data from the state report" in page
    assert 'name="spoken_language"' in page and 'value="es"' in page  # the participant's language
    assert 'type="radio" name="ethnicity"' in page and 'type="checkbox" name="race"' in page
    assert '<select name="county"' in page


def test_it_records_a_form_with_staff_and_audits_it_without_values(alice_client, alice, participant):
    r = alice_client.post(url(participant), {**ANSWERS, "collected_on": "2026-03-02"})
    assert r.status_code == 302 and r.url == url(participant)
    form = ClientDataForm.objects.get(participant=participant)
    assert form.answers == {**ANSWERS, "race": ["asian", "white"], "written_language": "en"}
    assert (form.withheld, form.via, form.recorded_by, form.collected_on) == (
        False,
        "staff",
        alice,
        datetime.date(2026, 3, 2),
    )
    [entry] = _audits("compliance.client_data.recorded")
    assert entry.actor_id == alice.pk and entry.organization_id == participant.organization_id
    assert entry.data["fields"] == sorted(ANSWERS) and entry.data["withheld"] is False
    assert "multnomah" not in json.dumps(entry.data) and "white" not in json.dumps(entry.data)
    page = alice_client.get(url(participant)).content.decode()
    assert "Answered on 2026-03-02 with alice." in page
    assert 'value="multnomah" selected' in page  # the newest answers fill the form


def test_it_defaults_the_collection_date_to_today(alice_client, participant):
    alice_client.post(url(participant), {"disability": "yes"})
    assert ClientDataForm.objects.get().collected_on == timezone.localdate()


def test_a_client_who_withholds_keeps_no_answers(alice_client, participant):
    r = alice_client.post(url(participant), {**ANSWERS, "withheld": "on"})
    assert r.status_code == 302
    form = ClientDataForm.objects.get(participant=participant)
    assert form.withheld is True and form.answers == {}
    [entry] = _audits("compliance.client_data.recorded")
    assert entry.data["withheld"] is True and entry.data["fields"] == []
    page = alice_client.get(url(participant)).content.decode()
    assert "chose to withhold their data" in page
    assert 'value="multnomah" selected' not in page


def test_the_newest_form_counts(alice_client, participant):
    alice_client.post(url(participant), ANSWERS)
    alice_client.post(url(participant), {"withheld": "on"})
    alice_client.post(url(participant), {"disability": "yes"})
    assert ClientDataForm.objects.count() == 3
    page = alice_client.get(url(participant)).content.decode()
    assert "Answered on" in page and "No answers are kept" not in page


@pytest.mark.parametrize(
    "bad",
    [
        {"race": ["declined", "white"]},
        {"county": "atlantis"},
        {"ethnicity": "martian"},
        {"spoken_language": "english please"},
        {"collected_on": "2999-01-01"},
        {"collected_on": "yesterday"},
    ],
)
def test_bad_input_is_shown_and_saves_nothing(alice_client, participant, bad):
    r = alice_client.post(url(participant), {**ANSWERS, **bad})
    assert r.status_code == 400
    assert 'role="alert"' in r.content.decode()
    assert ClientDataForm.objects.count() == 0 and _audits("compliance.client_data.recorded") == []


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.FACILITATOR, Role.ADMIN, Role.CEREMONIAL_GUIDE])
def test_the_care_team_may_record_the_form(org, participant, role):
    client = _member(org, role)
    assert client.get(url(participant)).status_code == 200
    assert client.post(url(participant), {"disability": "no"}).status_code == 302
    assert ClientDataForm.objects.count() == 1


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_others_in_the_organization_may_not(org, participant, role):
    client = _member(org, role)
    assert client.get(url(participant)).status_code == 403
    assert client.post(url(participant), ANSWERS).status_code == 403
    assert ClientDataForm.objects.count() == 0


def test_a_clinician_facilitator_may_record_the_form(org, participant):
    clinician = make_user(org, Role.FACILITATOR)
    Membership.objects.filter(user=clinician).update(is_clinician=True)
    assert _client(clinician).post(url(participant), {"disability": "no"}).status_code == 302


def test_another_organizations_participant_is_not_found(charlie_client, participant):
    assert charlie_client.get(url(participant)).status_code == 404
    assert charlie_client.post(url(participant), ANSWERS).status_code == 404
    assert ClientDataForm.objects.count() == 0


def test_a_missing_participant_is_not_found(alice_client):
    assert alice_client.get("/compliance/participants/999999/client-data/").status_code == 404


def test_the_participant_page_links_to_the_form(alice_client, participant):
    page = alice_client.get(f"/participants/{participant.pk}/").content.decode()
    assert url(participant) in page


def test_every_label_of_the_form_is_marked_for_translation():
    counties = {
        label for code, label in definition().field("county").choices if code not in ("out_of_state", "declined")
    }
    labels = {f.label for f in definition().fields} | {label for f in definition().fields for _c, label in f.choices}
    assert labels - counties == set(SB303_LABELS)


# --- the participant's own link ------------------------------------------------------------------


def _through_intake(alice_client, program) -> tuple[Client, str]:
    path = invitation_path(alice_client, program)
    person = Client()
    person.post(path, {"display_name": "Rosa Tupa", "email": "rosa@example.net", "preferred_language": "es"})
    if program.consent_documents.exists():
        person.post(path + "consent/", {"typed_name": "Rosa Tupa", "scope_participation": "on"})
    r = person.post(path + "intake/", {**CLEAN_INTAKE, "action": "submit"})
    assert r.status_code == 302 and r.url.endswith("/done/")
    return person, path


@pytest.fixture
def oregon(org, alice):
    return oregon_program(org)[0]


def test_an_oregon_participant_answers_the_form_through_their_link(alice_client, oregon, org):
    person, path = _through_intake(alice_client, oregon)
    done = person.get(path + "done/").content.decode()
    assert path + "client-data/" in done
    page = person.get(path + "client-data/?lang=en").content.decode()
    assert "I choose to withhold my data from the state report" in page
    assert 'name="spoken_language"' in page and 'value="es"' in page
    r = person.post(path + "client-data/", {"ethnicity": "hispanic_latino", "race": ["white"], "spoken_language": "es"})
    assert r.status_code == 302 and r.url.endswith("/done/#client-data")
    participant = Participant.objects.get(organization=org)
    form = ClientDataForm.objects.get(participant=participant)
    assert (form.via, form.recorded_by, form.withheld) == ("link", None, False)
    assert form.answers == {"ethnicity": "hispanic_latino", "race": ["white"], "spoken_language": "es"}
    [entry] = _audits("compliance.client_data.recorded")
    assert entry.actor_id is None and entry.data["via"] == "link"
    staff_page = alice_client.get(url(participant)).content.decode()
    assert "by the client through their own link" in staff_page


def test_an_oregon_participant_may_withhold_their_data_through_their_link(alice_client, oregon):
    person, path = _through_intake(alice_client, oregon)
    r = person.post(path + "client-data/", {"withheld": "on", "race": ["white"]})
    assert r.status_code == 302
    form = ClientDataForm.objects.get()
    assert form.withheld is True and form.answers == {} and form.via == "link"
    assert 'class="pill no"' in person.get(path + "done/").content.decode()


def test_bad_answers_through_the_link_save_nothing(alice_client, oregon):
    person, path = _through_intake(alice_client, oregon)
    r = person.post(path + "client-data/", {"race": ["declined", "asian"]})
    assert r.status_code == 400 and ClientDataForm.objects.count() == 0


def test_the_link_step_waits_for_the_consents(alice_client, oregon):
    path = invitation_path(alice_client, oregon)
    person = Client()
    person.post(path, {"display_name": "Rosa Tupa", "email": "rosa@example.net", "preferred_language": "en"})
    r = person.post(path + "client-data/", {"disability": "no"})
    assert r.status_code == 302 and r.url.endswith("/consent/")
    assert ClientDataForm.objects.count() == 0


def test_a_program_outside_oregon_has_no_client_data_step(alice_client, org):
    program = program_create(
        organization=org, actor=None, name="Front Range circle", substance="psilocybin", jurisdiction="US-CO"
    )
    person, path = _through_intake(alice_client, program)
    assert "client-data/" not in person.get(path + "done/").content.decode()
    assert person.get(path + "client-data/").status_code == 404
    assert person.post(path + "client-data/", {"disability": "no"}).status_code == 404
    assert ClientDataForm.objects.count() == 0


def test_a_tampered_link_stores_no_client_data(alice_client, oregon):
    _person, path = _through_intake(alice_client, oregon)
    tampered = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]
    assert Client().post(tampered + "client-data/", {"disability": "no"}).status_code in (404, 410)
    assert ClientDataForm.objects.count() == 0


# --- reporting settings --------------------------------------------------------------------------

SETTINGS = "/compliance/reporting-settings/"


def test_it_shows_the_defaults_until_settings_are_saved(alice_client):
    page = alice_client.get(SETTINGS).content.decode()
    assert "has not saved settings yet" in page
    assert 'value="everything"' in page and 'value="11"' in page


def test_a_coordinator_saves_the_reporting_settings(alice_client, alice, org, other_org):
    r = alice_client.post(SETTINGS, {"opt_out_scope": "demographics", "threshold": "5"})
    assert r.status_code == 302 and r.url == SETTINGS
    row = ReportingSettings.objects.get(organization=org)
    assert (row.sb303_opt_out_scope, row.small_cell_threshold) == ("demographics", 5)
    assert not ReportingSettings.objects.filter(organization=other_org).exists()
    [entry] = _audits("compliance.reporting_settings.set")
    assert entry.actor_id == alice.pk and entry.organization_id == org.pk
    assert entry.data == {"opt_out_scope": "demographics", "threshold": 5}
    page = alice_client.get(SETTINGS).content.decode()
    assert 'value="5"' in page and "has not saved settings yet" not in page


@pytest.mark.parametrize(
    "bad",
    [
        {"opt_out_scope": "nothing", "threshold": "11"},
        {"opt_out_scope": "everything", "threshold": "1"},
        {"opt_out_scope": "everything", "threshold": "101"},
        {"opt_out_scope": "everything", "threshold": "eleven"},
        {"threshold": "11"},
    ],
)
def test_bad_reporting_settings_save_nothing(alice_client, bad):
    r = alice_client.post(SETTINGS, bad)
    assert r.status_code == 400 and 'role="alert"' in r.content.decode()
    assert ReportingSettings.objects.count() == 0 and _audits("compliance.reporting_settings.set") == []


def test_an_administrator_may_change_the_reporting_settings(org):
    client = _member(org, Role.ADMIN)
    assert client.post(SETTINGS, {"opt_out_scope": "everything", "threshold": "20"}).status_code == 302


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_others_may_not_open_the_reporting_settings(org, role):
    client = _member(org, role)
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, {"opt_out_scope": "demographics", "threshold": "5"}).status_code == 403
    assert ReportingSettings.objects.count() == 0


def test_the_rule_packs_page_links_to_the_settings_for_coordinators(alice_client, bob_client):
    assert SETTINGS in alice_client.get("/compliance/rule-packs/").content.decode()
    assert SETTINGS not in bob_client.get("/compliance/rule-packs/").content.decode()


def test_it_shows_a_form_recorded_elsewhere(participant, alice):
    client_data_record(participant=participant, answers={"veteran": "yes"}, withheld=False, actor=alice)
    page = _client(alice).get(url(participant)).content.decode()
    assert "Answered on" in page
