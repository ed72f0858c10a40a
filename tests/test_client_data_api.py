"""The 303 Client Data Form (Oregon SB 303) and the reporting settings through the API: the newest
form, recording one (201; 400 with nothing saved on bad answers), roles, the other-tenant 404, and
the audit entries."""

import datetime
import json

import pytest
from django.test import Client

from communitas.accounts.models import Membership
from communitas.compliance.models import ClientDataForm, ReportingSettings
from communitas.core.models import AuditEntry
from tests.conftest import bearer
from tests.factories import make_user

Role = Membership.Role
JSON = "application/json"
ANSWERS = {"race": ["white", "asian"], "spoken_language": "ES", "county": "lane", "veteran": "no"}


def path(participant) -> str:
    return f"/api/v1/compliance/participants/{participant.pk}/client-data"


def post(client, url, body, headers):
    return client.post(url, json.dumps(body), content_type=JSON, **headers)


def put(client, url, body, headers):
    return client.put(url, json.dumps(body), content_type=JSON, **headers)


def _api(org, role):
    return bearer(make_user(org, role), org)


# --- the client data form ------------------------------------------------------------------------


def test_it_says_when_no_form_is_on_file(client, alice_api, participant):
    r = client.get(path(participant), **alice_api)
    assert r.status_code == 200
    assert r.json() == {
        "participant_id": participant.pk,
        "on_file": False,
        "id": None,
        "withheld": None,
        "collected_on": None,
        "via": None,
        "recorded_at": None,
        "answers": None,
    }


def test_it_records_a_form_and_returns_the_newest(client, alice_api, alice, participant):
    r = post(
        client, path(participant), {"withheld": False, "answers": ANSWERS, "collected_on": "2026-02-10"}, alice_api
    )
    assert r.status_code == 201, r.content
    body = r.json()
    clean = {"race": ["asian", "white"], "spoken_language": "es", "county": "lane", "veteran": "no"}
    assert body["on_file"] is True and body["withheld"] is False and body["via"] == "staff"
    assert body["collected_on"] == "2026-02-10" and body["answers"] == clean
    form = ClientDataForm.objects.get(participant=participant)
    assert form.recorded_by == alice and form.answers == clean
    assert client.get(path(participant), **alice_api).json()["id"] == form.pk
    [entry] = AuditEntry.objects.filter(action="compliance.client_data.recorded")
    assert entry.actor_id == alice.pk and entry.data["fields"] == sorted(clean)
    assert "lane" not in json.dumps(entry.data)


def test_collected_on_defaults_to_today(client, alice_api, participant):
    r = post(client, path(participant), {"withheld": False, "answers": {"disability": "yes"}}, alice_api)
    assert r.status_code == 201 and r.json()["collected_on"] == datetime.date.today().isoformat()


def test_a_withheld_form_keeps_no_answers(client, alice_api, participant):
    r = post(client, path(participant), {"withheld": True, "answers": ANSWERS}, alice_api)
    assert r.status_code == 201 and r.json()["answers"] == {} and r.json()["withheld"] is True
    assert ClientDataForm.objects.get().answers == {}
    assert client.get(path(participant), **alice_api).json()["withheld"] is True


@pytest.mark.parametrize(
    "answers",
    [
        {"favourite_colour": "blue"},
        {"county": "atlantis"},
        {"race": "white"},  # a list for a multiple-choice field
        {"race": ["declined", "white"]},
        {"ethnicity": ["hispanic_latino"]},
        {"spoken_language": "english please"},
    ],
)
def test_bad_answers_are_refused_and_nothing_is_saved(client, alice_api, participant, answers):
    r = post(client, path(participant), {"withheld": False, "answers": answers}, alice_api)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid" and r.json()["detail"]
    assert ClientDataForm.objects.count() == 0
    assert not AuditEntry.objects.filter(action="compliance.client_data.recorded").exists()


def test_a_future_collection_date_is_refused(client, alice_api, participant):
    body = {"withheld": False, "answers": {}, "collected_on": "2999-01-01"}
    r = post(client, path(participant), body, alice_api)
    assert r.status_code == 400 and r.json()["error"] == "invalid"
    assert ClientDataForm.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {}},  # withheld is required
        {"withheld": "yes", "answers": {}},
        {"withheld": False, "answers": [], "collected_on": "2026-01-01"},
        {"withheld": False, "answers": {}, "recorded_by": 1},
        {"withheld": False, "answers": {}, "collected_on": "01/02/2026"},
    ],
)
def test_a_malformed_body_is_refused(client, alice_api, participant, body):
    r = post(client, path(participant), body, alice_api)
    assert r.status_code == 422 and r.json()["error"] == "validation_error"
    assert ClientDataForm.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.ADMIN])
def test_the_care_team_reads_and_records(client, org, participant, role):
    headers = _api(org, role)
    assert post(client, path(participant), {"withheld": False, "answers": ANSWERS}, headers).status_code == 201
    assert client.get(path(participant), **headers).json()["answers"]["county"] == "lane"


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_others_may_neither_read_nor_record(client, org, alice_api, participant, role):
    post(client, path(participant), {"withheld": False, "answers": ANSWERS}, alice_api)
    headers = _api(org, role)
    r = client.get(path(participant), **headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden" and "lane" not in r.content.decode()
    assert post(client, path(participant), {"withheld": True}, headers).status_code == 403
    assert ClientDataForm.objects.count() == 1


def test_another_organizations_participant_is_not_found(client, charlie_api, alice_api, participant):
    post(client, path(participant), {"withheld": False, "answers": ANSWERS}, alice_api)
    r = client.get(path(participant), **charlie_api)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert post(client, path(participant), {"withheld": True}, charlie_api).status_code == 404
    assert ClientDataForm.objects.count() == 1


def test_it_needs_a_token(participant):
    assert Client().get(f"/api/v1/compliance/participants/{participant.pk}/client-data").status_code == 401


# --- reporting settings --------------------------------------------------------------------------

SETTINGS = "/api/v1/compliance/reporting-settings"


def test_it_reports_the_defaults_until_settings_are_saved(client, alice_api):
    r = client.get(SETTINGS, **alice_api)
    assert r.status_code == 200
    assert r.json() == {"opt_out_scope": "everything", "threshold": 11, "saved": False}


def test_a_coordinator_sets_the_reporting_settings(client, alice_api, alice, org, charlie_api):
    r = put(client, SETTINGS, {"opt_out_scope": "demographics", "threshold": 7}, alice_api)
    assert r.status_code == 200
    assert r.json() == {"opt_out_scope": "demographics", "threshold": 7, "saved": True}
    assert client.get(SETTINGS, **alice_api).json()["threshold"] == 7
    assert client.get(SETTINGS, **charlie_api).json() == {
        "opt_out_scope": "everything",
        "threshold": 11,
        "saved": False,
    }
    [entry] = AuditEntry.objects.filter(action="compliance.reporting_settings.set")
    assert entry.actor_id == alice.pk and entry.organization_id == org.pk
    assert ReportingSettings.objects.get().organization == org


@pytest.mark.parametrize(
    "body",
    [
        {"opt_out_scope": "nothing", "threshold": 11},
        {"opt_out_scope": "everything", "threshold": 1},
        {"opt_out_scope": "everything", "threshold": 101},
    ],
)
def test_bad_reporting_settings_are_refused(client, alice_api, body):
    r = put(client, SETTINGS, body, alice_api)
    assert r.status_code == 400 and r.json()["error"] == "invalid" and r.json()["detail"]
    assert ReportingSettings.objects.count() == 0
    assert not AuditEntry.objects.filter(action="compliance.reporting_settings.set").exists()


def test_a_malformed_settings_body_is_refused(client, alice_api):
    r = put(client, SETTINGS, {"opt_out_scope": "everything", "threshold": 11, "k": 5}, alice_api)
    assert r.status_code == 422 and ReportingSettings.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_others_may_not_read_or_change_the_reporting_settings(client, org, role):
    headers = _api(org, role)
    assert client.get(SETTINGS, **headers).status_code == 403
    assert put(client, SETTINGS, {"opt_out_scope": "demographics", "threshold": 5}, headers).status_code == 403
    assert ReportingSettings.objects.count() == 0


def test_an_administrator_may_change_the_reporting_settings(client, org):
    headers = _api(org, Role.ADMIN)
    assert put(client, SETTINGS, {"opt_out_scope": "everything", "threshold": 20}, headers).status_code == 200
