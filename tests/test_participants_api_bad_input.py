"""Bad input to every participant API write answers 4xx in the one error shape and changes nothing."""

import json

import pytest

from tests.api_helpers import assert_error, call, snapshot

MISSING = object()

# Each write endpoint, with a valid body that a case's fields are laid over.
CREATE_PARTICIPANT = ("post", "/participants", {"display_name": "Noor Haddad"})
UPDATE_PARTICIPANT = ("patch", "/participants/{p}", {})
CREATE_SUPPORT_PERSON = ("post", "/participants/{p}/support-persons", {"name": "Ines Ortega", "relationship": "friend"})
UPDATE_SUPPORT_PERSON = ("patch", "/participants/{p}/support-persons/{s}", {})
WRITES = {
    "POST participant": CREATE_PARTICIPANT,
    "PATCH participant": UPDATE_PARTICIPANT,
    "POST support person": CREATE_SUPPORT_PERSON,
    "PATCH support person": UPDATE_SUPPORT_PERSON,
}
PARTICIPANT_WRITES = ["POST participant", "PATCH participant"]
SUPPORT_PERSON_WRITES = ["POST support person", "PATCH support person"]

THREE_MB = "x" * (3 * 1024 * 1024)

# Raw bodies, for every write endpoint: (id, body, status).
RAW_BODIES = [
    ("malformed JSON", '{"display_name": "Noor', 400),
    ("not JSON at all", "display_name=Noor", 400),
    ("JSON null", "null", 422),
    ("JSON array", '[{"display_name": "Noor"}]', 422),
    ("JSON string", '"Noor"', 422),
    ("3 MB body", json.dumps({"notes": THREE_MB, "display_name": THREE_MB}), 413),
]

# Field values laid over the valid body: (id, endpoints, fields, status).
PARTICIPANT_CASES = [
    ("display_name is a number", {"display_name": 123}, 422),
    ("display_name is a list", {"display_name": ["Noor"]}, 422),
    ("display_name is blank", {"display_name": "   "}, 422),
    ("display_name has 151 chars", {"display_name": "x" * 151}, 422),
    ("legal_name has 151 chars", {"legal_name": "x" * 151}, 422),
    ("date_of_birth is not a date", {"date_of_birth": "not a date"}, 422),
    ("date_of_birth is impossible", {"date_of_birth": "1990-02-30"}, 422),
    ("date_of_birth is a number", {"date_of_birth": 86400}, 422),
    ("date_of_birth is a numeric string", {"date_of_birth": "0"}, 422),
    ("date_of_birth is a datetime", {"date_of_birth": "1990-01-31T00:00:00"}, 422),
    ("email is invalid", {"email": "marisol at example"}, 422),
    ("email has 255 chars", {"email": "x" * 243 + "@example.org"}, 422),
    ("phone has letters", {"phone": "call me"}, 422),
    ("phone has 41 chars", {"phone": "1" * 41}, 422),
    ("preferred_language is not a tag", {"preferred_language": "english!"}, 422),
    ("pronouns has 41 chars", {"pronouns": "x" * 41}, 422),
    ("pronouns has a NUL", {"pronouns": "they\x00them"}, 422),
    ("display_name has a NUL", {"display_name": "Noor\x00"}, 422),
    ("cultural_background has 1001 chars", {"cultural_background": "x" * 1001}, 422),
    ("accessibility_needs has 1001 chars", {"accessibility_needs": "x" * 1001}, 422),
    ("unknown field", {"favourite_colour": "green"}, 422),
    ("read-only pseudonym", {"pseudonym": "P-AAAAAA"}, 422),
    ("read-only id", {"id": 999}, 422),
    ("read-only archived_at", {"archived_at": "2020-01-01T00:00:00Z"}, 422),
    ("organization", {"organization_id": 999}, 422),
]
SUPPORT_PERSON_CASES = [
    ("name is a number", {"name": 123}, 422),
    ("name is blank", {"name": ""}, 422),
    ("name has 151 chars", {"name": "x" * 151}, 422),
    ("relationship is invalid", {"relationship": "enemy"}, 422),
    ("relationship is the label", {"relationship": "Family member"}, 422),
    ("may_contact is 'yes'", {"may_contact": "yes"}, 422),
    ("may_contact is 1", {"may_contact": 1}, 422),
    ("may_contact is 'true'", {"may_contact": "true"}, 422),
    ("email is invalid", {"email": "tomas@"}, 422),
    ("phone has letters", {"phone": "ring ring"}, 422),
    ("notes has 2001 chars", {"notes": "x" * 2001}, 422),
    ("notes has a NUL", {"notes": "a\x00b"}, 422),
    ("unknown field", {"favourite_colour": "green"}, 422),
    ("moved to another participant", {"participant_id": 999}, 422),
    ("read-only archived_at", {"archived_at": "2020-01-01T00:00:00Z"}, 422),
]
ONLY_ON = [
    ("POST participant", "display_name missing", {"display_name": MISSING}, 422),
    ("POST participant", "display_name is null", {"display_name": None}, 422),
    ("POST participant", "email is null", {"email": None}, 422),
    ("POST support person", "name missing", {"name": MISSING}, 422),
    ("POST support person", "relationship missing", {"relationship": MISSING}, 422),
    ("POST support person", "may_contact is null", {"may_contact": None}, 422),
    *[
        ("PATCH participant", f"{field} is null", {field: None}, 422)
        for field in ("display_name", "legal_name", "email", "phone", "preferred_language", "pronouns")
    ],
    *[
        ("PATCH support person", f"{field} is null", {field: None}, 422)
        for field in ("name", "relationship", "email", "phone", "may_contact", "notes")
    ],
]

CASES = [
    *[pytest.param(w, body, status, id=f"{w}: {name}") for w in WRITES for name, body, status in RAW_BODIES],
    *[pytest.param(w, f, s, id=f"{w}: {name}") for w in PARTICIPANT_WRITES for name, f, s in PARTICIPANT_CASES],
    *[pytest.param(w, f, s, id=f"{w}: {name}") for w in SUPPORT_PERSON_WRITES for name, f, s in SUPPORT_PERSON_CASES],
    *[pytest.param(w, f, s, id=f"{w}: {name}") for w, name, f, s in ONLY_ON],
]


def body_for(write: str, fields):
    if isinstance(fields, str):
        return fields
    body = {**WRITES[write][2], **fields}
    return {k: v for k, v in body.items() if v is not MISSING}


@pytest.fixture
def support_person(participant):
    return participant.support_persons.get()


@pytest.mark.parametrize(("write", "fields", "status"), CASES)
def test_it_rejects_bad_input_and_changes_nothing(
    client, alice_api, participant, support_person, write, fields, status
):
    method, path, _valid = WRITES[write]
    before = snapshot(participant, support_person)

    r = call(client, method, path.format(p=participant.pk, s=support_person.pk), body_for(write, fields), **alice_api)

    assert_error(r, status)
    assert snapshot(participant, support_person) == before


@pytest.mark.parametrize("write", WRITES)
def test_it_accepts_the_valid_body_the_bad_cases_are_built_on(client, alice_api, participant, support_person, write):
    """The control for the cases above: without the fault, the same request succeeds."""
    method, path, valid = WRITES[write]
    body = valid or ({"pronouns": "she/her"} if write == "PATCH participant" else {"notes": "Call first."})

    r = call(client, method, path.format(p=participant.pk, s=support_person.pk), body, **alice_api)

    assert r.status_code in (200, 201), r.content


def test_it_points_at_the_offending_field(client, alice_api):
    r = call(client, "post", "/participants", {"display_name": "x" * 151, "email": "nope"}, **alice_api)

    detail = assert_error(r, 422)["detail"]
    assert sorted(e["loc"][-1] for e in detail) == ["display_name", "email"]
    assert all(set(e) == {"loc", "msg", "type"} for e in detail)
    assert "x" * 151 not in json.dumps(detail)


UNKNOWN_IDS = [
    pytest.param("patch", "/participants/{missing}", {"display_name": "Ghost"}, id="PATCH unknown participant"),
    pytest.param("delete", "/participants/{missing}", None, id="DELETE unknown participant"),
    pytest.param(
        "post",
        "/participants/{missing}/support-persons",
        {"name": "Ghost", "relationship": "friend"},
        id="POST support person of unknown participant",
    ),
    pytest.param(
        "patch", "/participants/{p}/support-persons/{missing}", {"notes": "x"}, id="PATCH unknown support person"
    ),
    pytest.param("delete", "/participants/{p}/support-persons/{missing}", None, id="DELETE unknown support person"),
    pytest.param(
        "patch",
        "/participants/{missing}/support-persons/{s}",
        {"notes": "x"},
        id="PATCH support person under unknown participant",
    ),
    pytest.param("get", "/participants/{missing}", None, id="GET unknown participant"),
    pytest.param("get", "/participants/{p}/support-persons/{missing}", None, id="GET unknown support person"),
    pytest.param("get", "/participants/2147483648000000000000", None, id="GET out-of-range id"),
]


@pytest.mark.parametrize(("method", "path", "body"), UNKNOWN_IDS)
def test_it_answers_404_for_unknown_ids_and_changes_nothing(
    client, alice_api, participant, support_person, method, path, body
):
    before = snapshot(participant, support_person)

    r = call(client, method, path.format(p=participant.pk, s=support_person.pk, missing=987654), body, **alice_api)

    assert_error(r, 404)
    assert snapshot(participant, support_person) == before


@pytest.mark.parametrize("path", ["/participants/abc", "/participants/1.5", "/participants/{p}/support-persons/abc"])
def test_it_answers_422_for_ids_that_are_not_integers(client, alice_api, participant, path):
    assert_error(call(client, "get", path.format(p=participant.pk), **alice_api), 422)
