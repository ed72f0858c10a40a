"""Every successful participant API write appends one audit entry naming fields, never their values."""

import json

import pytest

from communitas.core.audit import audit_verify
from communitas.core.models import AuditEntry
from tests.api_helpers import call, row

# The fixture's identity, which must never reach an audit entry.
KNOWN_PII = ["Marisol", "Quispe", "marisol@example.net", "503 555 0147", "0147", "Tomás", "sam@example.org"]

WRITES = [
    pytest.param(
        "post",
        "/participants",
        {
            "display_name": "Amara Okafor",
            "legal_name": "Amarachi Okafor",
            "email": "amara@example.org",
            "phone": "+1 541 555 0199",
            "date_of_birth": "1984-07-09",
            "cultural_background": "Igbo; Catholic upbringing",
        },
        "participants.participant.created",
        "participants.participant",
        lambda p, s: {  # every field that ends up non-empty, the default language included
            "fields": [
                "cultural_background",
                "date_of_birth",
                "display_name",
                "email",
                "legal_name",
                "phone",
                "preferred_language",
            ]
        },
        id="participant created",
    ),
    pytest.param(
        "patch",
        "/participants/{p}",
        {"display_name": "Lucía Mamani", "email": "lucia@example.org", "pronouns": "they/them"},
        "participants.participant.updated",
        "participants.participant",
        lambda p, s: {"fields": ["display_name", "email"]},  # pronouns were already they/them
        id="participant updated",
    ),
    pytest.param(
        "delete",
        "/participants/{p}",
        None,
        "participants.participant.archived",
        "participants.participant",
        lambda p, s: {},
        id="participant archived",
    ),
    pytest.param(
        "post",
        "/participants/{p}/support-persons",
        {
            "name": "Ana Quispe",
            "relationship": "family",
            "email": "ana@example.org",
            "phone": "+1 503 555 0100",
            "may_contact": True,
            "notes": "Knows about the ceremony date",
        },
        "participants.support_person.created",
        "participants.supportperson",
        lambda p, s: {"participant": p.pseudonym, "may_contact": True},
        id="support person created",
    ),
    pytest.param(
        "patch",
        "/participants/{p}/support-persons/{s}",
        {"name": "Tomas Q.", "may_contact": False, "notes": "Only by email", "relationship": "family"},
        "participants.support_person.updated",
        "participants.supportperson",
        lambda p, s: {"fields": ["may_contact", "name", "notes"]},  # relationship was already family
        id="support person updated",
    ),
    pytest.param(
        "delete",
        "/participants/{p}/support-persons/{s}",
        None,
        "participants.support_person.archived",
        "participants.supportperson",
        lambda p, s: {},
        id="support person archived",
    ),
]


@pytest.fixture
def support_person(participant):
    return participant.support_persons.get()


def sent_values(body) -> list[str]:
    """The identifying values a request sent (not choices or flags, which are not PII)."""
    return [v for k, v in (body or {}).items() if isinstance(v, str) and k not in ("relationship", "pronouns")]


@pytest.mark.parametrize(("method", "path", "body", "action", "object_type", "expected_data"), WRITES)
def test_it_audits_a_write_by_field_names_without_values(
    client, alice, alice_api, org, participant, support_person, method, path, body, action, object_type, expected_data
):
    newest = AuditEntry.objects.order_by("-id").first().pk

    r = call(client, method, path.format(p=participant.pk, s=support_person.pk), body, **alice_api)

    assert r.status_code in (200, 201, 204), r.content
    [entry] = AuditEntry.objects.filter(pk__gt=newest)
    assert entry.action == action
    assert entry.actor_id == alice.pk
    assert entry.organization_id == org.pk
    assert entry.chain == f"org:{org.pk}"
    assert entry.object_type == object_type
    written_id = r.json()["id"] if method == "post" else (support_person if "{s}" in path else participant).pk
    assert entry.object_id == str(written_id)
    assert entry.data == expected_data(participant, support_person)
    stored = json.dumps(entry.data, ensure_ascii=False)
    for value in [*KNOWN_PII, *sent_values(body)]:
        assert value not in stored
    assert audit_verify() == (AuditEntry.objects.count(), None)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/participants/{p}", {"display_name": "Marisol Quispe", "preferred_language": "es"}),
        ("/participants/{p}", {}),
        ("/participants/{p}/support-persons/{s}", {"name": "Tomás Quispe", "may_contact": True}),
    ],
    ids=["participant", "participant-empty-patch", "support-person"],
)
def test_it_writes_and_audits_nothing_for_a_patch_that_changes_nothing(
    client, alice_api, participant, support_person, path, body
):
    audit_entries = AuditEntry.objects.count()
    before = [row(participant), row(support_person)]

    r = call(client, "patch", path.format(p=participant.pk, s=support_person.pk), body, **alice_api)

    assert r.status_code == 200, r.content
    assert AuditEntry.objects.count() == audit_entries
    assert [row(participant), row(support_person)] == before
