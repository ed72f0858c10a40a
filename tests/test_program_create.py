"""Coordinators create programs on a page or through the API; bad input changes nothing."""

import json

import pytest

from communitas.core.models import AuditEntry
from communitas.programs.models import Program

BODY = {
    "name": "Winter circle",
    "substance": "psilocybin",
    "jurisdiction": "US-OR",
    "framework": "licensed_service_center",
    "model": "community_circle",
}


def test_a_coordinator_creates_a_program_on_the_page(alice_client, org):
    r = alice_client.post("/programs/new/", {**BODY, "description": "Eight-week circle."})
    assert r.status_code == 302
    program = Program.objects.get(name="Winter circle")
    assert (program.organization, program.model) == (org, "community_circle")
    assert AuditEntry.objects.filter(action="programs.program.created", object_id=str(program.pk)).exists()


@pytest.mark.parametrize("bad", [{"jurisdiction": "oregon"}, {"substance": "dmt"}, {"name": ""}, {"model": "cult"}])
def test_the_page_refuses_bad_input(alice_client, bad):
    assert alice_client.post("/programs/new/", {**BODY, **bad}).status_code == 400
    assert not Program.objects.exists()


def test_a_duplicate_name_is_refused_clearly(alice_client):
    alice_client.post("/programs/new/", BODY)
    r = alice_client.post("/programs/new/", BODY)
    assert r.status_code == 400 and Program.objects.count() == 1


def test_a_facilitator_cannot_create_programs(bob_client):
    assert bob_client.get("/programs/new/").status_code == 403
    assert bob_client.post("/programs/new/", BODY).status_code == 403
    assert not Program.objects.exists()


def _post(client, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/v1/programs", data=data, content_type="application/json", **headers)


def test_the_api_creates_a_program_in_the_callers_organization(client, alice_api, charlie_api, org, other_org):
    r = _post(client, BODY, alice_api)
    assert r.status_code == 201 and r.json()["framework"] == "licensed_service_center"
    assert _post(client, BODY, charlie_api).status_code == 201
    assert (
        Program.objects.filter(organization=org).count() == Program.objects.filter(organization=other_org).count() == 1
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{x", 400),
        ({**BODY, "extra": 1}, 422),
        ({**BODY, "jurisdiction": "us-or"}, 422),
        ({**BODY, "name": "n" * 201}, 422),
        ({**BODY, "substance": 3}, 422),
    ],
)
def test_the_api_refuses_bad_input(client, alice_api, body, status):
    r = _post(client, body, alice_api)
    assert r.status_code == status and set(r.json()) == {"error", "detail"}
    assert not Program.objects.exists()


def test_the_api_refuses_a_duplicate_and_other_roles(client, alice_api, bob_api, rita_api):
    assert _post(client, BODY, alice_api).status_code == 201
    assert _post(client, BODY, alice_api).status_code == 422
    assert _post(client, {**BODY, "name": "Other"}, bob_api).status_code == 403
    assert _post(client, {**BODY, "name": "Other"}, rita_api).status_code == 403
    assert Program.objects.count() == 1
