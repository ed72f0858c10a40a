"""POST /api/v1/screen: the rules engine as a stateless API (nothing stored)."""

import json

import pytest

from communitas.core.models import AuditEntry
from communitas.safety.models import Screening

CLEAN = {"age": 40, "phq9_item9": 0}


def _post(client, body, headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/v1/screen", data=data, content_type="application/json", **headers)


def test_it_screens_without_storing_anything(client, alice_api):
    before = AuditEntry.objects.count()
    body = {"substance": "ayahuasca", "jurisdiction": "US-OR", "answers": {**CLEAN, "medications": ["Zoloft"]}}
    r = _post(client, body, alice_api)
    assert r.status_code == 200
    assert r.json()["outcome"] == "excluded" and r.json()["reasons"][0]["rule"] == "D5"
    assert not Screening.objects.exists() and AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{nope", 400),
        ({"substance": "dmt", "jurisdiction": "US-OR", "answers": CLEAN}, 422),
        ({"substance": "psilocybin", "jurisdiction": "US-OR", "answers": {**CLEAN, "age": 300}}, 422),
        ({"substance": "psilocybin", "jurisdiction": "US-OR", "answers": {**CLEAN, "conditions": ["vampirism"]}}, 422),
        ({"substance": "psilocybin", "jurisdiction": "oregon", "answers": CLEAN}, 422),
        ({"substance": "psilocybin", "jurisdiction": "US-OR", "answers": {**CLEAN, "override": True}}, 422),
        ({"substance": "psilocybin", "jurisdiction": "US-OR"}, 422),
    ],
)
def test_it_refuses_bad_input_with_the_error_shape(client, alice_api, body, status):
    r = _post(client, body, alice_api)
    assert r.status_code == status and set(r.json()) == {"error", "detail"}
    assert not Screening.objects.exists()


def test_it_is_for_the_care_team_only(client, rita_api):
    body = {"substance": "psilocybin", "jurisdiction": "US-OR", "answers": CLEAN}
    assert _post(client, body, rita_api).status_code == 403
    assert client.post("/api/v1/screen", data=json.dumps(body), content_type="application/json").status_code == 401
