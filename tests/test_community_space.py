"""A participant's community space at /c/<token>/ (no account), and the staff page that
creates and revokes links to it."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from communitas.community.links import community_link_create, community_link_revoke
from communitas.community.models import CommunityLink
from communitas.core.models import AuditEntry
from communitas.participants.services import participant_archive
from tests.community_helpers import community, meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, alice, bob):
    return community(org, alice, bob)


def test_it_shows_their_circle_with_a_member_count_facilitators_and_next_meetings(world, alice):
    meeting(world, alice, days=3, title="Thursday gathering")
    meeting(world, alice, days=-3, title="Last week's gathering")
    ana, ben = world.members[0], world.members[1]
    page = Client().get(world.space(ana)).content.decode()
    assert "Thursday circle" in page and "3 members" in page
    assert "Bob Facilitator" in page
    assert "Thursday gathering" in page and "Last week&#x27;s gathering" not in page
    assert "Welcome, Ana" in page
    assert ben.display_name not in page and "Ben" not in page  # other members are not named


def test_a_cancelled_meeting_is_not_listed(world, alice):
    cancelled = meeting(world, alice, days=2, title="Called off")
    cancelled.status = "cancelled"
    cancelled.save(update_fields=["status"])
    assert "Called off" not in Client().get(world.space(world.members[0])).content.decode()


def test_someone_in_no_circle_sees_that_and_nothing_of_others(world):
    page = Client().get(world.space(world.stranger)).content.decode()
    assert "You are not in a circle yet." in page
    assert "Thursday circle" not in page


def test_a_link_that_does_not_work_shows_one_page_without_data(world, alice):
    ana = world.members[0]
    token = world.tokens[ana.pk]
    tampered = Client().get(f"/c/{token[:-2]}xx/")
    assert tampered.status_code == 404
    link = CommunityLink.objects.get(participant=ana)
    community_link_revoke(link=link, actor=alice)
    revoked = Client().get(world.space(ana))
    assert revoked.status_code == 410
    assert tampered.content == revoked.content  # the same words whatever the reason
    body = revoked.content.decode()
    assert "This link does not work" in body and "Ana" not in body and "Thursday circle" not in body
    assert Client().get(f"/c/{token[:-2]}xx/reflections/").status_code == 404


def test_an_expired_link_and_an_archived_participant_close_the_space(world, alice):
    ana, ben = world.members[0], world.members[1]
    CommunityLink.objects.filter(participant=ana).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert Client().get(world.space(ana)).status_code == 410
    participant_archive(participant=ben, actor=alice)
    response = Client().get(world.space(ben))
    assert response.status_code == 410 and "Ben" not in response.content.decode()


def test_space_pages_are_never_cached_or_indexed(world):
    response = Client().get(world.space(world.members[0]))
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_it_speaks_the_participants_language(org, alice, bob):
    world = community(org, alice, bob)
    person = world.members[0]
    person.preferred_language = "es"
    person.save(update_fields=["preferred_language"])
    assert '<html lang="es">' in Client().get(world.space(person)).content.decode()
    assert '<html lang="en">' in Client().get(world.space(person) + "?lang=en").content.decode()


def test_it_links_to_the_group_agreements_when_that_page_exists(world):
    page = Client().get(world.space(world.members[0])).content.decode()
    token = world.tokens[world.members[0].pk]
    try:
        url = reverse("space:agreements", args=[token])
    except NoReverseMatch:
        assert "Group agreements" not in page
    else:
        assert url in page


def test_a_coordinator_creates_a_link_that_is_shown_once_and_works(world, alice_client):
    dana = world.stranger
    url = f"/community/participants/{dana.pk}/space/"
    response = alice_client.post(url, {"days": "30"})
    assert response.status_code == 200
    link = re.search(r'id="space-link">([^<]+)<', response.content.decode()).group(1).replace("http://testserver", "")
    assert "Welcome, Dana" in Client().get(link).content.decode()
    newest = CommunityLink.objects.filter(participant=dana).latest("created_at")
    assert (newest.expires_at - timezone.now()).days in (29, 30)
    again = alice_client.get(url).content.decode()
    assert 'id="space-link"' not in again and link not in again  # shown once only
    entry = AuditEntry.objects.filter(action="community.link.created").latest("id")
    assert entry.data == {"participant": dana.pseudonym, "days": 30}


def test_a_coordinator_revokes_a_link_and_it_stops_at_once(world, alice_client):
    ana = world.members[0]
    link = CommunityLink.objects.get(participant=ana)
    response = alice_client.post(f"/community/participants/{ana.pk}/space/{link.pk}/revoke/")
    assert response.status_code == 302
    assert Client().get(world.space(ana)).status_code == 410
    assert AuditEntry.objects.filter(action="community.link.revoked", object_id=str(link.pk)).exists()


def test_bad_link_input_changes_nothing(world, alice_client):
    before = CommunityLink.objects.count()
    response = alice_client.post(f"/community/participants/{world.stranger.pk}/space/", {"days": "5000"})
    assert response.status_code == 400 and CommunityLink.objects.count() == before


def test_only_coordinators_and_admins_manage_links_and_only_in_their_organization(
    world, alice, bob_client, charlie_client
):
    ana = world.members[0]
    url = f"/community/participants/{ana.pk}/space/"
    assert bob_client.get(url).status_code == 403
    assert bob_client.post(url, {"days": "30"}).status_code == 403
    assert charlie_client.get(url).status_code == 404
    link = CommunityLink.objects.get(participant=ana)
    assert charlie_client.post(f"{url}{link.pk}/revoke/").status_code == 404
    assert Client().get(url).status_code == 302
    assert CommunityLink.objects.filter(participant=ana).count() == 1
    assert CommunityLink.objects.get(participant=ana).revoked_at is None
    _other_link, _token = community_link_create(participant=world.stranger, actor=alice)
    other = CommunityLink.objects.filter(participant=world.stranger).latest("id")
    assert bob_client.post(f"{url}{other.pk}/revoke/").status_code == 403


def test_a_link_of_one_participant_cannot_be_revoked_through_another(world, alice_client):
    ana, ben = world.members[0], world.members[1]
    bens = CommunityLink.objects.get(participant=ben)
    assert alice_client.post(f"/community/participants/{ana.pk}/space/{bens.pk}/revoke/").status_code == 404
    assert CommunityLink.objects.get(pk=bens.pk).revoked_at is None


def test_the_home_page_costs_a_fixed_number_of_queries(world, alice, django_assert_max_num_queries):
    for days in (1, 2, 3, 4):
        meeting(world, alice, days=days)
    with django_assert_max_num_queries(12):
        assert Client().get(world.space(world.members[0])).status_code == 200
