"""Community partners and referrals: a directory with encrypted contact people, referrals that
move through their statuses with dates, and the same rules on pages and in the API."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from communitas.accounts.models import Membership
from communitas.community import partner_services as services
from communitas.community.models import Partner, Referral
from communitas.core.models import AuditEntry
from tests.api_helpers import call
from tests.circle_helpers import assert_error
from tests.conftest import bearer
from tests.factories import make_user

Role = Membership.Role
CLINIC = {
    "name": "Willamette Integration Clinic",
    "kind": "clinic",
    "description": "Integration therapy, sliding scale.",
    "public_phone": "+1 503 555 0100",
    "contact_name": "Dr. Imani Okafor",
    "contact_email": "imani@willamette.example",
    "contact_phone": "+1 503 555 0199",
    "languages": ["en", "es"],
    "services": ["integration therapy", "psychiatric consultation"],
}


@pytest.fixture
def clinic(org, alice):
    return services.partner_create(organization=org, actor=alice, **CLINIC)


@pytest.fixture
def referral(participant, clinic, alice):
    return services.referral_create(participant=participant, partner=clinic, actor=alice, note="Asked for Spanish")


# --- the directory -----------------------------------------------------------------------------


def test_it_keeps_the_contact_person_encrypted_and_out_of_the_audit(clinic):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_name, contact_email, contact_phone, name FROM community_partner WHERE id = %s", [clinic.pk]
        )
        name, email, phone, org_name = cursor.fetchone()
    assert "Okafor" not in name and "imani" not in email and "0199" not in phone
    assert org_name == CLINIC["name"]  # the organization's own name is not personal
    assert Partner.objects.get(pk=clinic.pk).contact_name == "Dr. Imani Okafor"
    audit = AuditEntry.objects.get(action="community.partner.created")
    assert "Okafor" not in json.dumps(audit.data) and audit.data == {"kind": "clinic"}


def test_it_refuses_a_duplicate_name_bad_languages_and_unknown_fields(org, alice, clinic):
    with pytest.raises(ValidationError):
        services.partner_create(organization=org, actor=alice, **CLINIC)
    with pytest.raises(ValidationError):
        services.partner_create(organization=org, actor=alice, name="Peer line", kind="crisis_line", languages=["e n"])
    with pytest.raises(ValueError, match="unknown"):
        services.partner_create(organization=org, actor=alice, name="Peer line", kind="crisis_line", secret=1)
    assert Partner.objects.count() == 1


def test_an_edit_is_audited_by_field_name_and_bad_edits_change_nothing(clinic, alice):
    services.partner_update(partner=clinic, actor=alice, contact_name="Dr. Ada Reyes", active=False)
    assert AuditEntry.objects.get(action="community.partner.updated").data == {"fields": ["active", "contact_name"]}
    with pytest.raises(ValidationError):
        services.partner_update(partner=clinic, actor=alice, kind="spaceship")
    fresh = Partner.objects.get(pk=clinic.pk)
    assert (fresh.kind, fresh.contact_name, fresh.active) == ("clinic", "Dr. Ada Reyes", False)


# --- referrals ---------------------------------------------------------------------------------


def test_a_referral_moves_through_its_statuses_with_dates(referral, alice):
    assert (referral.status, referral.made_at) == ("suggested", None)
    suggested_at = referral.status_changed_at
    made = services.referral_set_status(referral=referral, status="made", actor=alice)
    assert made.made_at is not None and made.status_changed_at > suggested_at
    services.referral_set_status(referral=referral, status="accepted", actor=alice)
    done = services.referral_set_status(referral=referral, status="completed", actor=alice, note="Six sessions")
    assert (done.status, done.completed_at is not None, done.note) == ("completed", True, "Six sessions")
    changes = AuditEntry.objects.filter(action="community.referral.status_changed").order_by("id")
    assert [(e.data["previous"], e.data["status"]) for e in changes] == [
        ("suggested", "made"),
        ("made", "accepted"),
        ("accepted", "completed"),
    ]
    assert "Six" not in json.dumps([e.data for e in changes])
    assert Referral.objects.filter(status="completed", participant=referral.participant).count() == 1


@pytest.mark.parametrize(
    ("start", "to"), [("suggested", "completed"), ("suggested", "accepted"), ("made", "suggested")]
)
def test_it_refuses_a_jump_between_statuses(referral, alice, start, to):
    if start == "made":
        services.referral_set_status(referral=referral, status="made", actor=alice)
    with pytest.raises(services.PartnerRefused):
        services.referral_set_status(referral=referral, status=to, actor=alice)
    assert Referral.objects.get(pk=referral.pk).status == start


def test_a_closed_referral_is_finished(referral, alice):
    services.referral_set_status(referral=referral, status="closed", actor=alice)
    with pytest.raises(services.PartnerRefused):
        services.referral_set_status(referral=referral, status="made", actor=alice)


def test_it_refers_only_to_an_active_partner_of_the_same_organization(clinic, alice, participant, outsider_participant):
    with pytest.raises(services.PartnerRefused):
        services.referral_create(participant=outsider_participant, partner=clinic, actor=alice)
    services.partner_update(partner=clinic, actor=alice, active=False)
    with pytest.raises(services.PartnerRefused):
        services.referral_create(participant=participant, partner=clinic, actor=alice)
    assert Referral.objects.count() == 0


# --- pages -------------------------------------------------------------------------------------


def _form(**overrides):
    data = {
        **CLINIC,
        "languages": "en, es",
        "services": "integration therapy\npsychiatric consultation",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_a_coordinator_adds_and_edits_a_partner_on_the_pages(alice_client):
    assert alice_client.post("/community/partners/new/", _form(kind="")).status_code == 400
    response = alice_client.post("/community/partners/new/", _form())
    partner = Partner.objects.get()
    assert response.status_code == 302 and partner.services == ["integration therapy", "psychiatric consultation"]
    assert alice_client.post("/community/partners/new/", _form()).status_code == 400  # same name
    edit = alice_client.post(f"/community/partners/{partner.pk}/edit/", _form(languages="en, es, qu"))
    assert edit.status_code == 302 and Partner.objects.get().languages == ["en", "es", "qu"]
    listing = alice_client.get("/community/partners/").content.decode()
    assert (
        CLINIC["name"] in listing
        and "Dr. Imani Okafor" in alice_client.get(f"/community/partners/{partner.pk}/").content.decode()
    )


def test_who_sees_the_directory(clinic, org, bob_client, charlie_client, client):
    assert bob_client.get("/community/partners/").status_code == 200
    assert bob_client.post("/community/partners/new/", _form(name="Other")).status_code == 403
    assert charlie_client.get(f"/community/partners/{clinic.pk}/").status_code == 404
    assert charlie_client.get(f"/community/partners/{clinic.pk}/edit/").status_code == 404
    for role in (Role.RESEARCHER, Role.HOSPITALITY):
        client.force_login(make_user(org, role))
        assert client.get("/community/partners/").status_code == 403
    assert Partner.objects.count() == 1


def test_staff_refer_a_participant_and_change_the_status_on_the_page(participant, clinic, alice_client, bob_client):
    url = f"/community/participants/{participant.pk}/referrals/"
    assert (
        alice_client.post(url, {"partner": clinic.pk, "status": "made", "note": "Prefers Spanish"}).status_code == 302
    )
    referral = Referral.objects.get()
    assert referral.status == "made" and referral.made_at is not None
    assert alice_client.post(f"/community/referrals/{referral.pk}/status/", {"status": "accepted"}).status_code == 302
    assert Referral.objects.get().status == "accepted"
    alice_client.post(f"/community/referrals/{referral.pk}/status/", {"status": "suggested"})
    assert Referral.objects.get().status == "accepted"  # refused, unchanged
    page = bob_client.get(url)
    assert page.status_code == 200 and "Prefers Spanish" in page.content.decode()
    assert bob_client.post(f"/community/referrals/{referral.pk}/status/", {"status": "completed"}).status_code == 403


def test_referrals_are_sealed_from_other_organizations_and_non_clinical_roles(
    participant, referral, org, charlie_client, client
):
    assert charlie_client.get(f"/community/participants/{participant.pk}/referrals/").status_code == 404
    assert charlie_client.post(f"/community/referrals/{referral.pk}/status/", {"status": "made"}).status_code == 404
    for role in (Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER):
        client.force_login(make_user(org, role))
        assert client.get(f"/community/participants/{participant.pk}/referrals/").status_code == 403
    assert Referral.objects.get().status == "suggested"


# --- API ---------------------------------------------------------------------------------------


def test_the_api_manages_partners(client, alice_api, bob_api):
    created = call(client, "post", "/community/partners", CLINIC, **alice_api)
    assert created.status_code == 201 and created.json()["contact_name"] == "Dr. Imani Okafor"
    pid = created.json()["id"]
    patched = call(client, "patch", f"/community/partners/{pid}", {"active": False}, **alice_api)
    assert patched.json()["active"] is False
    assert call(client, "get", "/community/partners", **bob_api).json()["count"] == 1
    assert_error(call(client, "patch", f"/community/partners/{pid}", {"active": True}, **bob_api), 403)


@pytest.mark.parametrize(
    "body",
    [
        {**CLINIC, "rating": 5},
        {**CLINIC, "kind": "spaceship"},
        {**CLINIC, "languages": ["en", "en"]},
        {**CLINIC, "website": "javascript:alert(1)"},
        {**CLINIC, "active": "yes"},
    ],
    ids=["unknown-field", "kind", "repeated-language", "website", "active"],
)
def test_the_api_refuses_bad_partners_and_saves_nothing(client, alice_api, body):
    assert_error(call(client, "post", "/community/partners", body, **alice_api), 422)
    assert Partner.objects.count() == 0


def test_the_api_refers_and_keeps_to_roles_and_organizations(participant, clinic, client, alice_api, charlie_api, org):
    path = f"/community/participants/{participant.pk}/referrals"
    created = call(client, "post", path, {"partner_id": clinic.pk}, **alice_api)
    assert created.status_code == 201 and created.json()["status"] == "suggested"
    rid = created.json()["id"]
    changed = call(client, "post", f"/community/referrals/{rid}/status", {"status": "made"}, **alice_api)
    assert changed.json()["made_at"] and changed.json()["participant"] == {
        "id": participant.pk,
        "pseudonym": participant.pseudonym,
    }
    assert_error(call(client, "post", f"/community/referrals/{rid}/status", {"status": "suggested"}, **alice_api), 409)
    assert_error(call(client, "post", path, {"partner_id": clinic.pk, "status": "completed"}, **alice_api), 422)
    assert_error(call(client, "get", path, **charlie_api), 404)
    assert_error(call(client, "get", f"/community/partners/{clinic.pk}", **charlie_api), 404)
    assert_error(call(client, "post", f"/community/referrals/{rid}/status", {"status": "closed"}, **charlie_api), 404)
    assert_error(call(client, "get", path, **bearer(make_user(org, Role.RESEARCHER), org)), 403)
    assert [r["status"] for r in call(client, "get", path, **alice_api).json()] == ["made"]
