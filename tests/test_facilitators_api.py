"""The facilitator API: profiles and credentials under /api/v1/facilitators, sealed off between
organizations, limited by role, and refusing bad input without changing anything."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from communitas.accounts import services as account_services
from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.facilitators.models import Credential, FacilitatorProfile
from tests.api_helpers import assert_error, call
from tests.facilitator_helpers import add_credential, make_profile, snapshot
from tests.factories import make_user

Role = Membership.Role
TODAY = timezone.localdate()
PAST = (TODAY - timedelta(days=100)).isoformat()

VALID_PROFILE = {"display_name": "Noor Haddad", "languages": ["ar", "en"], "bio": "Former ICU nurse."}
VALID_CREDENTIAL = {
    "kind": "registered_nurse",
    "number": "RN-445566",
    "issuing_jurisdiction": "US-OR",
    "valid_from": PAST,
    "valid_to": (TODAY + timedelta(days=25)).isoformat(),
}
# Every endpoint, as (method, path template, a valid body). {f} is a facilitator profile id.
ENDPOINTS = [
    ("get", "/facilitators", None),
    ("post", "/facilitators", VALID_PROFILE),
    ("get", "/facilitators/{f}", None),
    ("patch", "/facilitators/{f}", {"display_name": "Renamed"}),
    ("get", "/facilitators/{f}/credentials", None),
    ("post", "/facilitators/{f}/credentials", VALID_CREDENTIAL),
]
OBJECT_ENDPOINTS = [e for e in ENDPOINTS if "{f}" in e[1]]
WRITES = [e for e in ENDPOINTS if e[0] != "get"]


def bearer(user, organization) -> dict:
    _token, raw = account_services.api_token_create(user=user, organization=organization, name="tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def endpoint_id(endpoint) -> str:
    return f"{endpoint[0].upper()} {endpoint[1]}"


def request(client, endpoint, profile, **headers):
    method, path, body = endpoint
    return call(client, method, path.format(f=profile.pk), body, **headers)


@pytest.fixture
def bob_profile(org, alice, bob):
    profile = make_profile(org, alice, user=bob, display_name="Bob Okafor", languages=["en"])
    add_credential(profile, alice, days_left=40)
    return profile


@pytest.fixture
def guide_profile(org, alice):
    return make_profile(org, alice, display_name="Abuela Rosa", languages=["es", "qu"])


@pytest.fixture
def outsider_profile(other_org, charlie):
    profile = make_profile(other_org, charlie, display_name="Dale Whitcomb")
    add_credential(profile, charlie, kind="physician", jurisdiction="US-CO")
    return profile


# --- what each endpoint does -----------------------------------------------------------------


def test_it_lists_profiles_with_their_licence_status_today(client, alice_api, bob_profile, guide_profile):
    r = call(client, "get", "/facilitators", **alice_api)

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 2
    bob = next(p for p in body["items"] if p["id"] == bob_profile.pk)
    credential = bob_profile.credentials.get()
    assert bob["user_id"] == bob_profile.user_id and bob["languages"] == ["en"]
    assert bob["licence"] == {
        "jurisdiction": "US-OR",
        "licensed": True,
        "gaps": [],
        "medically_qualified": False,
        "expiry_warnings": [
            {"credential_id": credential.pk, "kind": "oregon_facilitator_license", "days_left": 40, "level": "60"}
        ],
    }
    rosa = next(p for p in body["items"] if p["id"] == guide_profile.pk)
    assert rosa["licence"]["licensed"] is False and rosa["licence"]["gaps"] == ["oregon_licence"]
    assert rosa["user_id"] is None


def test_it_creates_a_profile_in_the_callers_organization(client, alice_api, alice, org, bob):
    r = call(client, "post", "/facilitators", {**VALID_PROFILE, "user_id": bob.pk}, **alice_api)

    assert r.status_code == 201, r.content
    profile = FacilitatorProfile.objects.get(pk=r.json()["id"])
    assert (profile.organization, profile.user, profile.languages, profile.bio) == (
        org,
        bob,
        ["ar", "en"],
        "Former ICU nurse.",
    )
    assert r.json()["licence"]["licensed"] is False
    entry = AuditEntry.objects.get(action="facilitators.profile.created")
    assert entry.actor_id == alice.pk and "Noor" not in json.dumps(entry.data)


def test_it_updates_only_the_fields_sent_and_may_unlink_a_login(client, alice_api, bob_profile):
    r = call(client, "patch", f"/facilitators/{bob_profile.pk}", {"active": False, "user_id": None}, **alice_api)

    assert r.status_code == 200, r.content
    bob_profile.refresh_from_db()
    assert (bob_profile.active, bob_profile.user, bob_profile.display_name) == (False, None, "Bob Okafor")
    assert r.json()["active"] is False and r.json()["user_id"] is None
    assert AuditEntry.objects.filter(action="facilitators.profile.updated").get().data["fields"] == ["active", "user"]


def test_it_lists_and_adds_credentials(client, alice_api, bob_profile):
    added = call(client, "post", f"/facilitators/{bob_profile.pk}/credentials", VALID_CREDENTIAL, **alice_api)
    listed = call(client, "get", f"/facilitators/{bob_profile.pk}/credentials", **alice_api)
    profile = call(client, "get", f"/facilitators/{bob_profile.pk}", **alice_api)

    assert added.status_code == 201, added.content
    assert added.json()["kind"] == "registered_nurse" and added.json()["verified_at"] is None
    assert listed.json()["count"] == 2
    assert {c["kind"] for c in listed.json()["items"]} == {"oregon_facilitator_license", "registered_nurse"}
    assert profile.json()["licence"]["medically_qualified"] is True
    assert [w["level"] for w in profile.json()["licence"]["expiry_warnings"]] == ["30", "60"]


def test_it_lets_a_facilitator_read_the_list_and_their_own_profile_only(client, bob_api, bob_profile, guide_profile):
    listed = call(client, "get", "/facilitators", **bob_api)
    own = call(client, "get", f"/facilitators/{bob_profile.pk}", **bob_api)
    own_credentials = call(client, "get", f"/facilitators/{bob_profile.pk}/credentials", **bob_api)

    assert listed.status_code == 200 and listed.json()["count"] == 2
    assert own.status_code == 200 and own.json()["display_name"] == "Bob Okafor"
    assert own_credentials.status_code == 200
    assert_error(call(client, "get", f"/facilitators/{guide_profile.pk}", **bob_api), 403)
    assert_error(call(client, "get", f"/facilitators/{guide_profile.pk}/credentials", **bob_api), 403)


def test_it_lets_a_ceremonial_guide_read_the_list(client, org):
    guide = make_user(org, Role.CEREMONIAL_GUIDE)

    assert call(client, "get", "/facilitators", **bearer(guide, org)).status_code == 200


# --- tenant isolation ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=endpoint_id)
def test_it_answers_404_to_another_organization_for_every_object_endpoint(
    client, charlie_api, bob_profile, outsider_profile, endpoint
):
    credential = bob_profile.credentials.get()
    before = snapshot(bob_profile, credential, outsider_profile)

    assert_error(request(client, endpoint, bob_profile, **charlie_api), 404)
    assert snapshot(bob_profile, credential, outsider_profile) == before


def test_it_never_lists_another_organizations_facilitators(client, charlie_api, bob_profile, outsider_profile):
    r = call(client, "get", "/facilitators?limit=100", **charlie_api)

    assert [p["id"] for p in r.json()["items"]] == [outsider_profile.pk]


def test_it_serves_the_other_organization_its_own_profile(client, charlie_api, outsider_profile):
    r = call(client, "get", f"/facilitators/{outsider_profile.pk}", **charlie_api)

    assert r.status_code == 200
    assert r.json()["licence"]["jurisdiction"] == "US-OR"


def test_it_refuses_to_link_a_login_from_another_organization(client, alice_api, charlie, bob_profile):
    before = snapshot(bob_profile)

    created = call(client, "post", "/facilitators", {**VALID_PROFILE, "user_id": charlie.pk}, **alice_api)
    patched = call(client, "patch", f"/facilitators/{bob_profile.pk}", {"user_id": charlie.pk}, **alice_api)

    for r in (created, patched):
        body = assert_error(r, 422)
        assert body["detail"][0]["loc"] == ["body", "user_id"]
    assert snapshot(bob_profile) == before


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PEER_SUPPORTER, Role.HOSPITALITY])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_answers_403_to_roles_outside_the_care_team(client, org, bob_profile, role, endpoint):
    headers = bearer(make_user(org, role), org)
    before = snapshot(bob_profile)

    assert_error(request(client, endpoint, bob_profile, **headers), 403)
    assert snapshot(bob_profile) == before


@pytest.mark.parametrize("endpoint", WRITES, ids=endpoint_id)
def test_it_answers_403_to_a_facilitator_for_every_write_even_on_their_own_profile(
    client, bob_api, bob_profile, endpoint
):
    before = snapshot(bob_profile)

    assert_error(request(client, endpoint, bob_profile, **bob_api), 403)
    assert snapshot(bob_profile) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_answers_401_without_a_token(client, bob_profile, endpoint):
    assert_error(request(client, endpoint, bob_profile), 401)


# --- bad input -------------------------------------------------------------------------------

MISSING = object()
RAW = [
    ("malformed JSON", '{"display_name": "No', 400),
    ("not JSON", "display_name=Noor", 400),
    ("JSON null", "null", 422),
    ("JSON array", "[]", 422),
    ("JSON string", '"Noor"', 422),
]
PROFILE_CASES = [
    ("display_name blank", {"display_name": "  "}),
    ("display_name a number", {"display_name": 7}),
    ("display_name too long", {"display_name": "x" * 151}),
    ("display_name with NUL", {"display_name": "No\x00or"}),
    ("languages not a list", {"languages": "en"}),
    ("language not a tag", {"languages": ["english!"]}),
    ("language a number", {"languages": [1]}),
    ("languages repeated", {"languages": ["en", "en"]}),
    ("21 languages", {"languages": [f"l{chr(97 + i)}" for i in range(21)]}),
    ("bio too long", {"bio": "b" * 2001}),
    ("active a string", {"active": "yes"}),
    ("user_id a string", {"user_id": "5"}),
    ("user_id a bool", {"user_id": True}),
    ("user_id unknown", {"user_id": 999999}),
    ("unknown field", {"favourite_colour": "green"}),
    ("organization", {"organization_id": 1}),
    ("read-only id", {"id": 5}),
]
CREDENTIAL_CASES = [
    ("kind unknown", {"kind": "shaman"}),
    ("kind is the label", {"kind": "Physician licence (MD or DO)"}),
    ("kind missing", {"kind": MISSING}),
    ("jurisdiction lowercase", {"issuing_jurisdiction": "us-or"}),
    ("jurisdiction a name", {"issuing_jurisdiction": "Oregon"}),
    ("jurisdiction missing", {"issuing_jurisdiction": MISSING}),
    ("valid_from missing", {"valid_from": MISSING}),
    ("valid_from not a date", {"valid_from": "soon"}),
    ("valid_from impossible", {"valid_from": "2026-02-30"}),
    ("valid_from a number", {"valid_from": 86400}),
    ("valid_from a datetime", {"valid_from": "2026-01-01T00:00:00"}),
    ("valid_to before valid_from", {"valid_from": "2026-01-02", "valid_to": "2026-01-01"}),
    ("Oregon licence issued in Colorado", {"kind": "oregon_facilitator_license", "issuing_jurisdiction": "US-CO"}),
    ("Colorado licence issued in Oregon", {"kind": "colorado_clinical_facilitator"}),
    ("number too long", {"number": "9" * 65}),
    ("number with NUL", {"number": "1\x002"}),
    ("verified_by", {"verified_by_id": 1}),
    ("verified_at", {"verified_at": "2026-01-01T00:00:00Z"}),
    ("moved to another profile", {"profile_id": 1}),
    ("unknown field", {"colour": "green"}),
]
PATCH_NULLS = [("display_name", None), ("languages", None), ("bio", None), ("active", None)]


def _lay(base: dict, fields: dict) -> dict:
    body = {**base, **fields}
    return {k: v for k, v in body.items() if v is not MISSING}


CASES = [
    *[pytest.param(e, body, status, id=f"{endpoint_id(e)}: {name}") for e in WRITES for name, body, status in RAW],
    *[
        pytest.param(("post", "/facilitators", None), _lay(VALID_PROFILE, f), 422, id=f"POST profile: {name}")
        for name, f in PROFILE_CASES
    ],
    *[
        pytest.param(("patch", "/facilitators/{f}", None), f, 422, id=f"PATCH profile: {name}")
        for name, f in PROFILE_CASES
    ],
    *[
        pytest.param(("patch", "/facilitators/{f}", None), {k: v}, 422, id=f"PATCH profile: {k} null")
        for k, v in PATCH_NULLS
    ],
    pytest.param(("post", "/facilitators", None), {"languages": ["en"]}, 422, id="POST profile: display_name missing"),
    *[
        pytest.param(
            ("post", "/facilitators/{f}/credentials", None),
            _lay(VALID_CREDENTIAL, f),
            422,
            id=f"POST credential: {name}",
        )
        for name, f in CREDENTIAL_CASES
    ],
]


@pytest.mark.parametrize(("endpoint", "body", "status"), CASES)
def test_it_refuses_bad_input_to_every_write_and_changes_nothing(
    client, alice_api, bob_profile, endpoint, body, status
):
    method, path, _valid = endpoint
    credential = bob_profile.credentials.get()
    before = snapshot(bob_profile, credential)

    r = call(client, method, path.format(f=bob_profile.pk), body, **alice_api)

    assert_error(r, status)
    assert snapshot(bob_profile, credential) == before
    assert Credential.objects.count() == 1


def test_it_refuses_a_second_profile_for_the_same_login(client, alice_api, bob, bob_profile):
    before = snapshot(bob_profile)

    r = call(client, "post", "/facilitators", {**VALID_PROFILE, "user_id": bob.pk}, **alice_api)

    assert_error(r, 422)
    assert snapshot(bob_profile) == before


def test_it_refuses_a_body_over_the_size_limit(client, alice_api, bob_profile):
    before = snapshot(bob_profile)
    huge = json.dumps({"display_name": "x", "bio": "y" * (3 * 1024 * 1024)})

    assert_error(call(client, "post", "/facilitators", huge, **alice_api), 413)
    assert snapshot(bob_profile) == before
