"""Who may use the participant API: tenants are sealed off, roles limit reads and writes, and
only a live token or a verified session (with CSRF for writes) gets in."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from communitas.accounts import services as account_services
from communitas.accounts.models import ApiToken, Membership
from communitas.participants.models import Participant
from tests.api_helpers import ENDPOINTS, READS, WRITES, assert_error, call, endpoint_id, snapshot
from tests.factories import ParticipantFactory, make_support_person

ORG_OBJECT_ENDPOINTS = [e for e in ENDPOINTS if "{p}" in e[1]]


@pytest.fixture
def support_person(participant):
    return participant.support_persons.get()


def request(client, endpoint, participant, person, **headers):
    method, path, body = endpoint
    return call(client, method, path.format(p=participant.pk, s=person.pk), body, **headers)


# Tenant isolation


@pytest.mark.parametrize("endpoint", ORG_OBJECT_ENDPOINTS, ids=endpoint_id)
def test_it_answers_404_to_another_organization_for_every_object_endpoint(
    client, charlie_api, participant, support_person, outsider_participant, endpoint
):
    before = snapshot(participant, support_person)

    r = request(client, endpoint, participant, support_person, **charlie_api)

    assert_error(r, 404)
    assert snapshot(participant, support_person) == before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "{s}" in e[1]], ids=endpoint_id)
def test_it_answers_404_to_another_organizations_support_person_under_ones_own_participant(
    client, charlie_api, participant, support_person, outsider_participant, endpoint
):
    before = snapshot(participant, support_person, outsider_participant)

    r = request(client, endpoint, outsider_participant, support_person, **charlie_api)

    assert_error(r, 404)
    assert snapshot(participant, support_person, outsider_participant) == before


def test_it_serves_the_other_organization_its_own_participant(client, charlie_api, outsider_participant):
    person = outsider_participant.support_persons.get()

    r = request(client, READS[3], outsider_participant, person, **charlie_api)

    assert r.status_code == 200, r.content
    assert r.json()["name"] == "June Whitcomb"


def test_it_never_lists_another_organizations_participants(client, charlie_api, participant, outsider_participant):
    everyone = call(client, "get", "/participants?limit=200", **charlie_api)
    searched = client.get("/api/v1/participants", {"q": "marisol"}, **charlie_api)
    by_pseudonym = client.get("/api/v1/participants", {"q": participant.pseudonym}, **charlie_api)
    by_phone = client.get("/api/v1/participants", {"q": "0147"}, **charlie_api)

    assert [p["id"] for p in everyone.json()["items"]] == [outsider_participant.pk]
    assert everyone.json()["count"] == 1
    for r in (searched, by_pseudonym, by_phone):
        assert r.status_code == 200, r.content
        assert r.json() == {"items": [], "count": 0}


def test_it_creates_participants_only_in_the_callers_organization(client, charlie_api, other_org, org):
    r = call(client, "post", "/participants", {"display_name": "Wes Harlan"}, **charlie_api)

    assert r.status_code == 201, r.content
    assert Participant.objects.get(pk=r.json()["id"]).organization_id == other_org.pk
    assert not Participant.objects.filter(organization=org).exists()


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "{s}" in e[1]], ids=endpoint_id)
def test_it_answers_404_for_a_support_person_under_the_wrong_participant_of_the_same_organization(
    client, alice_api, participant, support_person, org, endpoint
):
    neighbour = ParticipantFactory(organization=org, display_name="Hana Sato")
    neighbours_person = make_support_person(neighbour, name="Ken Sato")
    before = snapshot(participant, support_person, neighbour, neighbours_person)

    r = request(client, endpoint, participant, neighbours_person, **alice_api)

    assert_error(r, 404)
    assert snapshot(participant, support_person, neighbour, neighbours_person) == before


# Roles


@pytest.mark.parametrize("endpoint", READS, ids=endpoint_id)
def test_it_lets_a_facilitator_read(client, bob_api, participant, support_person, endpoint):
    r = request(client, endpoint, participant, support_person, **bob_api)

    assert r.status_code == 200, r.content
    assert "Quispe" in r.content.decode()  # Marisol, or her support person Tomás


@pytest.mark.parametrize("endpoint", WRITES, ids=endpoint_id)
def test_it_forbids_a_facilitator_to_write(client, bob_api, participant, support_person, endpoint):
    before = snapshot(participant, support_person)

    r = request(client, endpoint, participant, support_person, **bob_api)

    assert_error(r, 403)
    assert snapshot(participant, support_person) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_forbids_a_researcher_to_read_or_write_identified_records(
    client, rita_api, participant, support_person, endpoint
):
    before = snapshot(participant, support_person)

    r = request(client, endpoint, participant, support_person, **rita_api)

    body = assert_error(r, 403)
    assert "Marisol" not in str(body)
    assert snapshot(participant, support_person) == before


# Authentication


def _token(user, org):
    token, raw = account_services.api_token_create(user=user, organization=org, name="ci")
    return token, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _no_token(alice, org):
    return {}


def _not_a_token(alice, org):
    return {"HTTP_AUTHORIZATION": "Bearer cmt_" + get_random_string(43)}


def _wrong_scheme(alice, org):
    _token_row, headers = _token(alice, org)
    return {"HTTP_AUTHORIZATION": headers["HTTP_AUTHORIZATION"].replace("Bearer", "Basic")}


def _revoked(alice, org):
    token, headers = _token(alice, org)
    account_services.api_token_revoke(token=token, actor=alice)
    return headers


def _expired(alice, org):
    token, headers = _token(alice, org)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return headers


def _left_the_organization(alice, org):
    _token_row, headers = _token(alice, org)
    Membership.objects.filter(user=alice, organization=org).update(is_active=False)
    return headers


def _deactivated_user(alice, org):
    _token_row, headers = _token(alice, org)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    return headers


BAD_CREDENTIALS = [
    _no_token,
    _not_a_token,
    _wrong_scheme,
    _revoked,
    _expired,
    _left_the_organization,
    _deactivated_user,
]


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_answers_401_without_a_live_token(alice, org, participant, support_person, endpoint, credentials):
    headers = credentials(alice, org)
    api_client = Client(enforce_csrf_checks=True)  # like any script or integration: no cookies, no CSRF token
    before = snapshot(participant, support_person)

    r = request(api_client, endpoint, participant, support_person, **headers)

    body = assert_error(r, 401)
    assert "Bearer" in body["detail"]
    assert snapshot(participant, support_person) == before


def test_it_accepts_a_token_until_it_is_revoked(client, alice, org, participant):
    token, headers = _token(alice, org)

    assert call(client, "get", f"/participants/{participant.pk}", **headers).status_code == 200
    account_services.api_token_revoke(token=token, actor=alice)
    assert_error(call(client, "get", f"/participants/{participant.pk}", **headers), 401)


def test_it_accepts_a_token_until_it_expires(client, alice, org, participant):
    token, headers = _token(alice, org)

    assert call(client, "get", f"/participants/{participant.pk}", **headers).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(call(client, "get", f"/participants/{participant.pk}", **headers), 401)


def test_it_accepts_a_bearer_token_write_without_csrf(alice_api):
    r = call(Client(enforce_csrf_checks=True), "post", "/participants", {"display_name": "Noor Haddad"}, **alice_api)

    assert r.status_code == 201, r.content


# The signed-in web session


def test_it_lets_a_signed_in_user_read_through_the_session(alice_client, participant, support_person):
    listed = call(alice_client, "get", "/participants")
    shown = call(alice_client, "get", f"/participants/{participant.pk}")
    people = call(alice_client, "get", f"/participants/{participant.pk}/support-persons")

    assert listed.status_code == shown.status_code == people.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [participant.pk]
    assert shown.json()["display_name"] == "Marisol Quispe"
    assert [p["id"] for p in people.json()["items"]] == [support_person.pk]


def test_it_scopes_a_session_to_its_organization(charlie_client, participant):
    assert_error(call(charlie_client, "get", f"/participants/{participant.pk}"), 404)


def test_it_refuses_the_session_of_a_user_who_owes_a_second_factor(alice_client, org, participant):
    org.require_two_factor = True
    org.save(update_fields=["require_two_factor"])

    assert_error(call(alice_client, "get", f"/participants/{participant.pk}"), 401)


@pytest.fixture
def alice_browser(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    return browser


@pytest.mark.parametrize("endpoint", WRITES, ids=endpoint_id)
def test_it_refuses_a_session_write_without_a_csrf_token(alice_browser, participant, support_person, endpoint):
    before = snapshot(participant, support_person)

    r = request(alice_browser, endpoint, participant, support_person)

    assert_error(r, 403)
    assert snapshot(participant, support_person) == before


def test_it_accepts_a_session_write_with_a_csrf_token(alice_browser):
    secret = get_random_string(32)
    alice_browser.cookies["csrftoken"] = secret

    r = call(alice_browser, "post", "/participants", {"display_name": "Noor Haddad"}, HTTP_X_CSRFTOKEN=secret)

    assert r.status_code == 201, r.content
    assert Participant.objects.filter(pk=r.json()["id"]).exists()
