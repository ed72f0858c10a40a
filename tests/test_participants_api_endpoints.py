"""The participant API's happy paths: listing, paging, searching, reading, writing, archiving."""

import datetime
import re

import pytest

from communitas.participants.models import Participant, SupportPerson
from tests.api_helpers import assert_error, call
from tests.factories import ParticipantFactory, make_support_person


@pytest.fixture
def support_person(participant):
    return participant.support_persons.get()


@pytest.fixture
def jose(org):
    return ParticipantFactory(
        organization=org, display_name="José Álvarez", email="jalvarez@example.org", phone="+1 971 555 2368"
    )


@pytest.fixture
def robin(org):
    return ParticipantFactory(organization=org, display_name="Robin Hart", email="rhart@example.com", phone="")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# Listing and paging participants


def test_it_lists_the_organizations_participants_as_a_page(client, alice_api, participant, outsider_participant):
    r = call(client, "get", "/participants", **alice_api)

    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 1
    [item] = body["items"]
    assert item["id"] == participant.pk
    assert item["display_name"] == "Marisol Quispe"
    assert item["email"] == "marisol@example.net"
    assert item["preferred_language"] == "es"
    assert item["pseudonym"] == participant.pseudonym


def test_it_pages_the_list_newest_first_with_limit_and_offset(client, alice_api, participant, org):
    later = [ParticipantFactory(organization=org, display_name=f"Person {n}") for n in range(3)]
    newest_first = [p.pk for p in reversed([participant, *later])]

    first = call(client, "get", "/participants?limit=2", **alice_api)
    second = call(client, "get", "/participants?limit=2&offset=2", **alice_api)
    beyond = call(client, "get", "/participants?limit=2&offset=4", **alice_api)

    assert ids(first) == newest_first[:2]
    assert ids(second) == newest_first[2:]
    assert ids(beyond) == []
    assert first.json()["count"] == second.json()["count"] == beyond.json()["count"] == 4


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=ten"])
def test_it_rejects_a_page_request_out_of_bounds(client, alice_api, participant, query):
    assert_error(call(client, "get", f"/participants?{query}", **alice_api), 422)


def test_it_leaves_archived_participants_out_of_the_list(client, alice_api, participant, robin):
    call(client, "delete", f"/participants/{participant.pk}", **alice_api)

    r = call(client, "get", "/participants", **alice_api)

    assert ids(r) == [robin.pk]
    assert r.json()["count"] == 1


# Searching


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("jose", ["jose"], id="accent-insensitive"),
        pytest.param("JOSÉ", ["jose"], id="case-insensitive"),
        pytest.param("alvarez", ["jose"], id="by-family-name-without-accent"),
        pytest.param("Álv", ["jose"], id="by-name-prefix"),
        pytest.param("jalvarez@example.org", ["jose"], id="by-email"),
        pytest.param("MARISOL@EXAMPLE.NET", ["marisol"], id="by-email-any-case"),
        pytest.param("2368", ["jose"], id="by-last-4-phone-digits"),
        pytest.param("0147", ["marisol"], id="by-last-4-phone-digits-2"),
        pytest.param("555-0147", ["marisol"], id="by-last-7-phone-digits"),
        pytest.param("<pseudonym>", ["marisol"], id="by-pseudonym"),
        pytest.param("<pseudonym-lower>", ["marisol"], id="by-pseudonym-lowercase"),
        pytest.param("marisol quispe", ["marisol"], id="every-word-must-match"),
        pytest.param("jose quispe", [], id="words-of-different-people-match-no-one"),
        pytest.param("zzzz", [], id="no-match"),
    ],
)
def test_it_searches_participants(client, alice_api, participant, jose, robin, query, expected):
    people = {"marisol": participant, "jose": jose, "robin": robin}
    query = query.replace("<pseudonym>", participant.pseudonym)
    query = query.replace("<pseudonym-lower>", participant.pseudonym.lower())

    r = client.get("/api/v1/participants", {"q": query}, **alice_api)

    assert sorted(ids(r)) == sorted(people[name].pk for name in expected)
    assert r.json()["count"] == len(expected)


def test_it_without_a_query_lists_everyone(client, alice_api, participant, jose, robin):
    r = client.get("/api/v1/participants", {"q": ""}, **alice_api)

    assert sorted(ids(r)) == sorted([participant.pk, jose.pk, robin.pk])


def test_it_finds_a_renamed_participant_by_the_new_name_only(client, alice_api, participant):
    call(client, "patch", f"/participants/{participant.pk}", {"display_name": "Lucía Mamani"}, **alice_api)

    assert ids(client.get("/api/v1/participants", {"q": "lucia"}, **alice_api)) == [participant.pk]
    assert ids(client.get("/api/v1/participants", {"q": "mamani"}, **alice_api)) == [participant.pk]
    assert ids(client.get("/api/v1/participants", {"q": "quispe"}, **alice_api)) == []


def test_it_does_not_find_archived_participants(client, alice_api, participant):
    call(client, "delete", f"/participants/{participant.pk}", **alice_api)

    assert ids(client.get("/api/v1/participants", {"q": "marisol"}, **alice_api)) == []
    assert ids(client.get("/api/v1/participants", {"q": participant.pseudonym}, **alice_api)) == []


# Creating, reading, updating and archiving a participant


def test_it_creates_a_participant(client, alice_api, org):
    payload = {
        "display_name": "  Amara Okafor ",
        "legal_name": "Amarachi Okafor",
        "email": "amara@example.org",
        "phone": "+1 541 555 0199",
        "date_of_birth": "1984-07-09",
        "preferred_language": "pt-BR",
        "pronouns": "she/her",
        "cultural_background": "Igbo; Catholic upbringing",
        "accessibility_needs": "Step-free access",
    }

    r = call(client, "post", "/participants", payload, **alice_api)

    assert r.status_code == 201, r.content
    body = r.json()
    assert body == {
        **payload,
        "display_name": "Amara Okafor",
        "id": body["id"],
        "pseudonym": body["pseudonym"],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert re.fullmatch(r"P-[A-Z2-9]{6}", body["pseudonym"])
    stored = Participant.objects.get(pk=body["id"])
    assert stored.organization_id == org.pk
    assert stored.display_name == "Amara Okafor"
    assert stored.date_of_birth == datetime.date(1984, 7, 9)
    assert stored.archived_at is None
    assert call(client, "get", f"/participants/{body['id']}", **alice_api).json() == body


def test_it_creates_a_participant_from_a_display_name_alone(client, alice_api):
    r = call(client, "post", "/participants", {"display_name": "Kai"}, **alice_api)

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["preferred_language"] == "en"
    assert body["date_of_birth"] is None
    assert [body[k] for k in ("legal_name", "email", "phone", "pronouns", "accessibility_needs")] == [""] * 5


def test_it_shows_one_participant(client, alice_api, participant):
    r = call(client, "get", f"/participants/{participant.pk}", **alice_api)

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id"] == participant.pk
    assert body["pseudonym"] == participant.pseudonym
    assert body["display_name"] == "Marisol Quispe"
    assert body["email"] == "marisol@example.net"
    assert body["phone"] == "+1 503 555 0147"
    assert body["preferred_language"] == "es"
    assert body["pronouns"] == "they/them"


def test_it_updates_only_the_fields_a_patch_sends(client, alice_api, participant):
    r = call(
        client,
        "patch",
        f"/participants/{participant.pk}",
        {"preferred_language": "en", "date_of_birth": "1990-01-31"},
        **alice_api,
    )

    assert r.status_code == 200, r.content
    assert r.json()["preferred_language"] == "en"
    assert r.json()["date_of_birth"] == "1990-01-31"
    stored = Participant.objects.get(pk=participant.pk)
    assert stored.preferred_language == "en"
    assert stored.date_of_birth == datetime.date(1990, 1, 31)
    assert stored.display_name == "Marisol Quispe"
    assert stored.email == "marisol@example.net"
    assert stored.pronouns == "they/them"


def test_it_clears_optional_fields_with_empty_strings_and_the_date_of_birth_with_null(client, alice_api, participant):
    call(client, "patch", f"/participants/{participant.pk}", {"date_of_birth": "1990-01-31"}, **alice_api)

    r = call(
        client,
        "patch",
        f"/participants/{participant.pk}",
        {"email": "", "phone": "", "pronouns": "", "date_of_birth": None},
        **alice_api,
    )

    assert r.status_code == 200, r.content
    stored = Participant.objects.get(pk=participant.pk)
    assert (stored.email, stored.phone, stored.pronouns, stored.date_of_birth) == ("", "", "", None)
    assert stored.display_name == "Marisol Quispe"


def test_it_archives_a_participant_on_delete(client, alice_api, participant, support_person):
    r = call(client, "delete", f"/participants/{participant.pk}", **alice_api)

    assert r.status_code == 204, r.content
    assert r.content == b""
    assert_error(call(client, "get", f"/participants/{participant.pk}", **alice_api), 404)
    assert_error(call(client, "get", f"/participants/{participant.pk}/support-persons", **alice_api), 404)
    assert_error(call(client, "delete", f"/participants/{participant.pk}", **alice_api), 404)
    stored = Participant.objects.get(pk=participant.pk)
    assert stored.archived_at is not None
    assert stored.display_name == "Marisol Quispe"
    assert SupportPerson.objects.filter(pk=support_person.pk).exists()


# Support persons


def test_it_lists_a_participants_support_persons_as_a_page(client, alice_api, participant, support_person):
    make_support_person(ParticipantFactory(organization=participant.organization), name="Someone Else")

    r = call(client, "get", f"/participants/{participant.pk}/support-persons", **alice_api)

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["id"] == support_person.pk
    assert item["participant_id"] == participant.pk
    assert item["name"] == "Tomás Quispe"
    assert item["relationship"] == "family"
    assert item["may_contact"] is True


def test_it_pages_support_persons_oldest_first(client, alice_api, participant, support_person):
    more = [make_support_person(participant, name=f"Helper {n}") for n in range(2)]
    path = f"/participants/{participant.pk}/support-persons"

    first = call(client, "get", f"{path}?limit=2", **alice_api)
    second = call(client, "get", f"{path}?limit=2&offset=2", **alice_api)

    assert ids(first) == [support_person.pk, more[0].pk]
    assert ids(second) == [more[1].pk]
    assert first.json()["count"] == 3


def test_it_adds_a_support_person(client, alice_api, participant):
    payload = {
        "name": "Ana Quispe",
        "relationship": "chosen_family",
        "email": "ana@example.org",
        "phone": "+1 503 555 0100",
        "may_contact": True,
        "notes": "Prefers texts after 5pm.",
    }

    r = call(client, "post", f"/participants/{participant.pk}/support-persons", payload, **alice_api)

    assert r.status_code == 201, r.content
    body = r.json()
    assert {k: body[k] for k in payload} == payload
    assert body["participant_id"] == participant.pk
    stored = SupportPerson.objects.get(pk=body["id"])
    assert stored.participant_id == participant.pk
    assert stored.organization_id == participant.organization_id
    assert stored.notes == "Prefers texts after 5pm."
    assert call(client, "get", f"/participants/{participant.pk}/support-persons/{body['id']}", **alice_api).json() == (
        body
    )


def test_it_adds_a_support_person_who_may_not_be_contacted_by_default(client, alice_api, participant):
    r = call(
        client,
        "post",
        f"/participants/{participant.pk}/support-persons",
        {"name": "Leo", "relationship": "peer"},
        **alice_api,
    )

    assert r.status_code == 201, r.content
    assert r.json()["may_contact"] is False
    assert SupportPerson.objects.get(pk=r.json()["id"]).may_contact is False


def test_it_shows_one_support_person(client, alice_api, participant, support_person):
    r = call(client, "get", f"/participants/{participant.pk}/support-persons/{support_person.pk}", **alice_api)

    assert r.status_code == 200, r.content
    assert r.json()["id"] == support_person.pk
    assert r.json()["name"] == "Tomás Quispe"
    assert r.json()["email"] == "sam@example.org"


def test_it_updates_a_support_person(client, alice_api, participant, support_person):
    path = f"/participants/{participant.pk}/support-persons/{support_person.pk}"

    r = call(client, "patch", path, {"may_contact": False, "relationship": "partner"}, **alice_api)

    assert r.status_code == 200, r.content
    assert r.json()["may_contact"] is False
    assert r.json()["relationship"] == "partner"
    stored = SupportPerson.objects.get(pk=support_person.pk)
    assert (stored.may_contact, stored.relationship, stored.name) == (False, "partner", "Tomás Quispe")


def test_it_archives_a_support_person_on_delete(client, alice_api, participant, support_person):
    path = f"/participants/{participant.pk}/support-persons/{support_person.pk}"

    r = call(client, "delete", path, **alice_api)

    assert r.status_code == 204, r.content
    assert_error(call(client, "get", path, **alice_api), 404)
    assert_error(call(client, "patch", path, {"notes": "x"}, **alice_api), 404)
    assert ids(call(client, "get", f"/participants/{participant.pk}/support-persons", **alice_api)) == []
    assert SupportPerson.objects.get(pk=support_person.pk).archived_at is not None
    assert Participant.objects.get(pk=participant.pk).archived_at is None


# The schema


def test_it_publishes_an_openapi_schema_listing_the_participant_paths(client):
    r = client.get("/api/v1/openapi.json")

    assert r.status_code == 200, r.content
    paths = r.json()["paths"]
    expected = {
        "/api/v1/participants": {"get", "post"},
        "/api/v1/participants/{participant_id}": {"get", "patch", "delete"},
        "/api/v1/participants/{participant_id}/support-persons": {"get", "post"},
        "/api/v1/participants/{participant_id}/support-persons/{person_id}": {"get", "patch", "delete"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert set(paths[path]) == methods
    assert "BearerTokenAuth" in r.json()["components"]["securitySchemes"]
