"""Helpers for the participant API tests: calling the API, the error shape, database snapshots."""

import json

from communitas.core.models import AuditEntry
from communitas.participants.models import Participant, ParticipantSearchToken, SupportPerson

JSON = "application/json"
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    422: "validation_error",
}

# Every endpoint, as (method, path template, a valid body). {p} is a participant id, {s} a support person id.
READS = [
    ("get", "/participants", None),
    ("get", "/participants/{p}", None),
    ("get", "/participants/{p}/support-persons", None),
    ("get", "/participants/{p}/support-persons/{s}", None),
]
WRITES = [
    ("post", "/participants", {"display_name": "Noor Haddad"}),
    ("patch", "/participants/{p}", {"display_name": "Renamed Person"}),
    ("delete", "/participants/{p}", None),
    ("post", "/participants/{p}/support-persons", {"name": "Ines Ortega", "relationship": "friend"}),
    ("patch", "/participants/{p}/support-persons/{s}", {"may_contact": False, "notes": "changed"}),
    ("delete", "/participants/{p}/support-persons/{s}", None),
]
ENDPOINTS = READS + WRITES


def endpoint_id(endpoint) -> str:
    method, path, _body = endpoint
    return f"{method.upper()} {path}"


def call(client, method: str, path: str, body=None, **headers):
    """Call /api/v1<path>. A dict body is sent as JSON, a str or bytes body as is."""
    kwargs = dict(headers)
    if body is not None:
        kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
        kwargs["content_type"] = JSON
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def assert_error(response, status: int) -> dict:
    """The response has ``status`` and the one error shape, ``{"error": <code>, "detail": ...}``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(JSON), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == ERROR_CODES[status], body
    assert isinstance(body["detail"], str | list) and body["detail"], body
    return body


def row(obj) -> dict:
    """Every stored column of ``obj``, freshly read (and decrypted) from the database."""
    fresh = type(obj).objects.get(pk=obj.pk)
    return {field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields}


def snapshot(*objs) -> dict:
    """Row counts of everything a participant write touches, plus the full rows of ``objs``."""
    return {
        "participants": Participant.objects.count(),
        "support_persons": SupportPerson.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
        "search_tokens": sorted(ParticipantSearchToken.objects.values_list("participant_id", "token")),
        "rows": [row(obj) for obj in objs],
    }
