"""Group agreements: versioned texts a circle's members accept in their community space or in
person (recorded by staff); a new version asks everyone again."""

import pytest
from django.urls import reverse

from communitas.accounts.models import Membership
from communitas.community import circle_services as services
from communitas.community.links import community_link_create, community_link_revoke
from communitas.community.models import AgreementAcceptance, CircleAgreement
from communitas.core.models import AuditEntry
from tests.api_helpers import call
from tests.circle_helpers import assert_error, circle_setting, enrolled, space_token
from tests.factories import make_user

Role = Membership.Role
TEXT_V1 = "We keep what is shared here confidential.\nWe speak from our own experience.\nNo dosing advice."
TEXT_V2 = TEXT_V1 + "\nWe start and end on time."


@pytest.fixture
def setting(org, alice):
    return circle_setting(org, alice, members=3)


@pytest.fixture
def v1(setting, alice):
    return services.agreement_publish(circle=setting.circle, actor=alice, body=TEXT_V1)


def _space(client, token, **post):
    url = reverse("space:agreements", kwargs={"token": token})
    return client.post(url, post) if post else client.get(url)


def test_it_versions_an_agreement_and_refuses_the_same_text_twice(setting, alice, v1):
    v2 = services.agreement_publish(circle=setting.circle, actor=alice, body=TEXT_V2)
    assert (v1.version, v2.version) == (1, 2) and v1.body_hash != v2.body_hash
    with pytest.raises(services.CircleRefused):
        services.agreement_publish(circle=setting.circle, actor=alice, body="  " + TEXT_V2 + "\n")
    with pytest.raises(services.CircleRefused):
        services.agreement_publish(circle=setting.circle, actor=alice, body="   ")
    assert CircleAgreement.objects.count() == 2
    published = AuditEntry.objects.filter(action="community.circle_agreement.published").order_by("id")
    assert [e.data["version"] for e in published] == [1, 2]


def test_a_member_accepts_on_their_phone(setting, alice, v1, client):
    person = setting.members[0]
    token = space_token(person, alice)
    page = _space(client, token)
    assert page.status_code == 200 and "No dosing advice." in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    response = _space(client, token, agreement=v1.pk, agree="on")
    assert response.status_code == 302
    acceptance = AgreementAcceptance.objects.get()
    assert (acceptance.participant, acceptance.via, acceptance.recorded_by) == (person, "space", None)
    assert acceptance.body_hash == v1.body_hash
    assert "You accepted this version" in _space(client, token).content.decode()
    entry = AuditEntry.objects.get(action="community.circle_agreement.accepted")
    assert entry.data == {"circle": setting.circle.pk, "version": 1, "participant": person.pseudonym, "via": "space"}


def test_accepting_needs_the_box_ticked_and_the_current_version(setting, alice, v1, client):
    token = space_token(setting.members[0], alice)
    assert _space(client, token, agreement=v1.pk).status_code == 400
    services.agreement_publish(circle=setting.circle, actor=alice, body=TEXT_V2)
    stale = _space(client, token, agreement=v1.pk, agree="on")
    assert stale.status_code == 400 and "has changed" in stale.content.decode()
    assert AgreementAcceptance.objects.count() == 0


def test_a_new_version_asks_every_member_again(setting, alice, v1, alice_client):
    for person in setting.members[:2]:
        services.agreement_accept(agreement=v1, participant=person)
    page = alice_client.get(f"/community/circles/{setting.circle.pk}/").content.decode()
    assert "2 of 3 members accepted it" in page
    services.agreement_publish(circle=setting.circle, actor=alice, body=TEXT_V2)
    page = alice_client.get(f"/community/circles/{setting.circle.pk}/").content.decode()
    assert "Version 2" in page and "0 of 3 members accepted it" in page
    assert page.count("not-accepted") == 3
    with pytest.raises(services.CircleRefused):
        services.agreement_accept(agreement=v1, participant=setting.members[2])


def test_staff_record_an_acceptance_in_person_with_who_and_when(setting, alice, v1, alice_client):
    person = setting.members[1]
    response = alice_client.post(
        f"/community/circles/{setting.circle.pk}/agreement/record/", {"participant": person.pk}
    )
    assert response.status_code == 302
    acceptance = AgreementAcceptance.objects.get()
    assert (acceptance.via, acceptance.recorded_by, acceptance.participant) == ("in_person", alice, person)
    assert acceptance.accepted_at is not None
    page = alice_client.get(f"/community/circles/{setting.circle.pk}/").content.decode()
    assert "recorded by alice" in page


def test_only_members_accept_and_outsiders_cannot_be_recorded(setting, alice, v1, alice_client, outsider_participant):
    stranger = enrolled(setting.program, alice)
    with pytest.raises(services.CircleRefused):
        services.agreement_accept(agreement=v1, participant=stranger, actor=alice)
    url = f"/community/circles/{setting.circle.pk}/agreement/record/"
    assert alice_client.post(url, {"participant": stranger.pk}).status_code == 404
    assert alice_client.post(url, {"participant": outsider_participant.pk}).status_code == 404
    assert AgreementAcceptance.objects.count() == 0


def test_the_space_page_refuses_bad_and_revoked_links(setting, alice, v1, client):
    assert _space(client, "not-a-token").status_code == 404
    link, token = community_link_create(participant=setting.members[0], actor=alice)
    community_link_revoke(link=link, actor=alice)
    assert _space(client, token, agreement=v1.pk, agree="on").status_code == 410
    assert AgreementAcceptance.objects.count() == 0


def test_publishing_is_for_coordinators(org, alice, client, charlie_client):
    guide_user = make_user(org, Role.FACILITATOR)
    setting = circle_setting(org, alice, guide_user=guide_user)
    client.force_login(guide_user)
    url = f"/community/circles/{setting.circle.pk}/agreement/"
    assert client.post(url, {"body": TEXT_V1}).status_code == 403
    assert charlie_client.post(url, {"body": TEXT_V1}).status_code == 404
    assert CircleAgreement.objects.count() == 0


def test_a_coordinator_publishes_on_the_page(setting, alice_client):
    url = f"/community/circles/{setting.circle.pk}/agreement/"
    assert alice_client.get(url).status_code == 200
    assert alice_client.post(url, {"body": ""}).status_code == 400
    assert alice_client.post(url, {"body": TEXT_V1}).status_code == 302
    assert CircleAgreement.objects.get().body == TEXT_V1
    assert TEXT_V1.splitlines()[0] in alice_client.get(url).content.decode()  # the next version starts from it


# --- API ---------------------------------------------------------------------------------------


def test_the_api_publishes_records_and_reports_acceptance(setting, client, alice_api):
    base = f"/community/circles/{setting.circle.pk}/agreement"
    published = call(client, "post", base, {"body": TEXT_V1}, **alice_api)
    assert published.status_code == 201 and published.json()["version"] == 1
    person = setting.members[0]
    recorded = call(client, "post", base + "/acceptances", {"participant_id": person.pk}, **alice_api)
    assert recorded.status_code == 201 and recorded.json()["via"] == "in_person"
    status = call(client, "get", base, **alice_api).json()
    assert status["current"]["version"] == 1
    accepted = {m["participant"]["id"]: m["accepted_at"] is not None for m in status["members"]}
    assert accepted == {p.pk: p == person for p in setting.members}
    assert "display_name" not in str(status)


def test_the_api_refuses_bad_input_other_organizations_and_facilitators(
    setting, client, alice_api, charlie_api, bob_api
):
    base = f"/community/circles/{setting.circle.pk}/agreement"
    assert_error(call(client, "post", base, {"body": TEXT_V1, "version": 7}, **alice_api), 422)
    assert_error(call(client, "post", base, {"body": ""}, **alice_api), 422)
    assert_error(
        call(client, "post", base + "/acceptances", {"participant_id": setting.members[0].pk}, **alice_api), 409
    )
    assert_error(call(client, "post", base, {"body": TEXT_V1}, **charlie_api), 404)
    assert_error(call(client, "get", base, **charlie_api), 404)
    assert_error(call(client, "get", base, **bob_api), 404)  # bob does not facilitate this circle
    assert CircleAgreement.objects.count() == 0
