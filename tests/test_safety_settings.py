"""Administrators set the safety contact and the crisis resources participants see."""

import pytest
from django.test import Client

from communitas.accounts.models import Membership
from communitas.outcomes.services import response_submit
from communitas.safety.models import SafetyAlert, SafetySettings
from tests.factories import make_user
from tests.outcomes_helpers import baseline_link


@pytest.fixture
def admin_client(org):
    admin = make_user(org, Membership.Role.ADMIN, email="pat@cascadia.example")
    client = Client()
    client.force_login(admin)
    return client


def test_it_pages_the_chosen_contact_and_shows_the_organizations_resources(admin_client, org, participant, bob):
    r = admin_client.post(
        "/safety/settings/",
        {
            "safety_contact": bob.pk,
            "crisis_resources": "Lines for Life | 800-273-8255 | Oregon youth and adult crisis line\n\n"
            "Trans Lifeline | 877-565-8860 | Peer support by and for trans people",
        },
    )
    assert r.status_code == 302
    assessment, _link, token = baseline_link(org, participant)
    response_submit(
        assessment=assessment, answers={**{str(n): 0 for n in range(1, 9)}, "9": 1}, language="en", source="link"
    )
    assert SafetyAlert.objects.get().assigned_to == bob
    page = Client().get(f"/a/{token}/done").content.decode()
    assert "Lines for Life" in page and "877-565-8860" in page and "988" not in page


def test_it_refuses_malformed_resources_and_changes_nothing(admin_client, org):
    r = admin_client.post("/safety/settings/", {"crisis_resources": "just a name"})
    assert r.status_code == 200 and "line 1" in r.content.decode()
    assert not SafetySettings.objects.exists()


def test_only_an_administrator_may_change_them(alice_client, charlie_client):
    assert alice_client.get("/safety/settings/").status_code == 403
    assert charlie_client.post("/safety/settings/", {"crisis_resources": ""}).status_code == 403
    assert not SafetySettings.objects.exists()


def test_an_administrator_cannot_page_someone_from_another_organization(other_org, alice):
    admin = make_user(other_org, Membership.Role.ADMIN, email="root@stillwater.example")
    client = Client()
    client.force_login(admin)
    r = client.post("/safety/settings/", {"safety_contact": alice.pk, "crisis_resources": ""})
    assert r.status_code == 200 and "safety_contact" in r.context["form"].errors
    assert not SafetySettings.objects.exists()
