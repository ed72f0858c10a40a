"""The participant web pages: list, search, detail, create, edit, archive and support people,
with tenant isolation and role checks."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from communitas.core.models import AuditEntry
from communitas.participants.models import Participant, ParticipantSearchToken, SupportPerson
from tests.factories import ParticipantFactory, make_support_person

VALID_PARTICIPANT = {
    "display_name": "Ximena Torres",
    "legal_name": "Ximena Torres Vidal",
    "pronouns": "she/her",
    "email": "ximena@example.net",
    "phone": "+1 541 555 0199",
    "date_of_birth": "1984-02-03",
    "preferred_language": "es",
    "cultural_background": "Andean",
    "accessibility_needs": "Large print",
}
VALID_SUPPORT = {
    "name": "Ana Ruiz",
    "relationship": "friend",
    "email": "ana@example.org",
    "phone": "+1 541 555 0100",
    "may_contact": "on",
    "notes": "Call after 5pm",
}
DETAIL_LINK = re.compile(r'href="/participants/(\d+)/"')


def _person(participant):
    return participant.support_persons.get()


def _page_url(name, participant, person):
    if name in ("list", "create"):
        return reverse(f"participants:{name}")
    if name in ("support_edit", "support_remove"):
        return reverse(f"participants:{name}", args=[participant.pk, person.pk])
    return reverse(f"participants:{name}", args=[participant.pk])


# Every page that shows or changes one participant or support person, with the methods it accepts.
RECORD_PAGES = [
    ("detail", "get"),
    ("detail", "post"),
    ("edit", "get"),
    ("edit", "post"),
    ("archive", "post"),
    ("support_add", "post"),
    ("support_edit", "get"),
    ("support_edit", "post"),
    ("support_remove", "post"),
]
POST_ONLY_PAGES = ["archive", "support_add", "support_remove"]
WRITE_PAGES = [
    ("create", "get"),
    ("create", "post"),
    ("edit", "get"),
    ("edit", "post"),
    ("archive", "post"),
    ("support_add", "post"),
    ("support_edit", "get"),
    ("support_edit", "post"),
    ("support_remove", "post"),
]


def _form_data(name):
    if name in ("create", "edit"):
        return dict(VALID_PARTICIPANT)
    if name in ("support_add", "support_edit"):
        return dict(VALID_SUPPORT)
    return {}


def _request(client, method, url, name):
    if method == "post":
        return client.post(url, _form_data(name))
    return client.get(url)


def _snapshot():
    """Everything a participant page could change, decrypted, for before/after comparisons."""
    participants = sorted(
        (p.pk, p.display_name, p.legal_name, p.email, p.phone, p.pronouns, p.archived_at, p.updated_at)
        for p in Participant.objects.all()
    )
    people = sorted(
        (s.pk, s.participant_id, s.name, s.relationship, s.email, s.may_contact, s.archived_at, s.updated_at)
        for s in SupportPerson.objects.all()
    )
    return participants, people, AuditEntry.objects.count(), ParticipantSearchToken.objects.count()


def _listed_ids(response):
    return [int(pk) for pk in DETAIL_LINK.findall(response.content.decode())]


@pytest.fixture
def rita_client(rita):
    client = Client()
    client.force_login(rita)
    return client


@pytest.fixture
def jose(org):
    return ParticipantFactory(
        organization=org,
        display_name="José Alvarado",
        email="jalv.contact@example.net",
        phone="+1 541 555 0123",
    )


# --- list -----------------------------------------------------------------------------------


def test_it_lists_only_live_participants_of_the_current_organization(
    alice_client, participant, jose, outsider_participant
):
    archived = ParticipantFactory(organization=participant.organization, display_name="Archie Gone")
    alice_client.post(reverse("participants:archive", args=[archived.pk]))

    r = alice_client.get(reverse("participants:list"))

    assert r.status_code == 200
    assert set(_listed_ids(r)) == {participant.pk, jose.pk}
    assert "Marisol Quispe" in r.content.decode()
    assert "Dale Whitcomb" not in r.content.decode()
    assert "Archie Gone" not in r.content.decode()


def test_it_paginates_the_list_25_per_page_newest_first(alice_client, org):
    created = [ParticipantFactory(organization=org, display_name=f"Person {i:02d}") for i in range(30)]
    newest_first = [p.pk for p in reversed(created)]

    first = alice_client.get(reverse("participants:list"))
    second = alice_client.get(reverse("participants:list"), {"page": 2})

    assert _listed_ids(first) == newest_first[:25]
    assert _listed_ids(second) == newest_first[25:]
    assert "Page 1 of 2 (30 participants)" in first.content.decode()
    assert "page=2" in first.content.decode()


def test_it_shows_each_participants_count_of_current_support_people(alice_client, participant):
    extra = make_support_person(participant, name="Second Person")
    alice_client.post(reverse("participants:support_remove", args=[participant.pk, extra.pk]))
    make_support_person(participant, name="Third Person")

    r = alice_client.get(reverse("participants:list"))

    cell = re.search(r'data-label="Support people">(\d+)<', r.content.decode())
    assert cell is not None
    assert cell.group(1) == "2"


@pytest.mark.parametrize(
    "query",
    [
        "jose",
        "JOSÉ",
        "José",
        "jos",
        "alva",
        "Alvarado",
        "jose alva",
        "jalv.contact@example.net",
        "JALV.CONTACT@example.net",
        "0123",
        "5550123",
    ],
)
def test_it_finds_a_participant_by_name_prefix_email_or_phone(alice_client, participant, jose, query):
    r = alice_client.get(reverse("participants:list"), {"q": query})

    assert _listed_ids(r) == [jose.pk]


def test_it_finds_a_participant_by_pseudonym_in_any_case(alice_client, participant, jose):
    r = alice_client.get(reverse("participants:list"), {"q": jose.pseudonym.lower()})

    assert _listed_ids(r) == [jose.pk]


@pytest.mark.parametrize("query", ["lvarado", "joses", "other@example.net", "0124", "José Quispe"])
def test_it_does_not_match_infixes_other_values_or_partial_multi_word_queries(alice_client, participant, jose, query):
    r = alice_client.get(reverse("participants:list"), {"q": query})

    assert r.status_code == 200
    assert _listed_ids(r) == []
    assert "No participant matches that search." in r.content.decode()


def test_it_does_not_find_another_organizations_participants_by_search(charlie_client, participant):
    r = charlie_client.get(reverse("participants:list"), {"q": "marisol"})

    assert r.status_code == 200
    assert _listed_ids(r) == []
    assert "Marisol" not in r.content.decode()


def test_it_answers_an_htmx_request_with_only_the_table_fragment(alice_client, participant, jose):
    r = alice_client.get(reverse("participants:list"), {"q": "jose"}, headers={"HX-Request": "true"})

    html = r.content.decode()
    assert r.status_code == 200
    assert [t.name for t in r.templates] == ["participants/_table.html"]
    assert html.lstrip().startswith("<table")
    assert "<html" not in html
    assert 'id="q"' not in html
    assert _listed_ids(r) == [jose.pk]
    assert "HX-Request" in r.headers.get("Vary", "")


def test_it_answers_an_htmx_history_restore_with_the_whole_page(alice_client, participant):
    # htmx 2 restores history by fetching the URL with HX-Request and HX-History-Restore-Request
    # and swapping the whole body: a bare table there would wipe out the page around it.
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    r = alice_client.get(reverse("participants:list"), headers=headers)

    assert r.status_code == 200
    assert "participants/list.html" in [t.name for t in r.templates]
    assert "<html" in r.content.decode()


# --- detail ---------------------------------------------------------------------------------


def test_it_shows_a_participants_details_and_support_people(alice_client, participant):
    r = alice_client.get(reverse("participants:detail", args=[participant.pk]))

    html = r.content.decode()
    assert r.status_code == 200
    assert "Marisol Quispe" in html
    assert participant.pseudonym in html
    assert "marisol@example.net" in html
    assert "+1 503 555 0147" in html
    assert "Tomás Quispe" in html
    assert reverse("participants:edit", args=[participant.pk]) in html
    assert reverse("participants:archive", args=[participant.pk]) in html


def test_it_leaves_removed_support_people_off_the_detail_page(alice_client, participant):
    person = _person(participant)
    alice_client.post(reverse("participants:support_remove", args=[participant.pk, person.pk]))

    r = alice_client.get(reverse("participants:detail", args=[participant.pk]))

    assert "Tomás Quispe" not in r.content.decode()
    assert "No support people recorded." in r.content.decode()


def test_it_answers_404_for_a_missing_participant(alice_client, participant):
    r = alice_client.get(reverse("participants:detail", args=[participant.pk + 1000]))

    assert r.status_code == 404


# --- create ---------------------------------------------------------------------------------


def test_it_shows_an_empty_form_for_a_new_participant(alice_client, org):
    r = alice_client.get(reverse("participants:create"))

    assert r.status_code == 200
    assert 'name="display_name"' in r.content.decode()


def test_it_creates_a_participant_and_redirects_to_it(alice, alice_client, org):
    r = alice_client.post(reverse("participants:create"), VALID_PARTICIPANT)

    created = Participant.objects.get(organization=org)
    assert r.status_code == 302
    assert r.url == reverse("participants:detail", args=[created.pk])
    assert created.display_name == "Ximena Torres"
    assert created.email == "ximena@example.net"
    assert str(created.date_of_birth) == "1984-02-03"
    assert created.accessibility_needs == "Large print"
    assert created.pseudonym.startswith("P-")
    entry = AuditEntry.objects.get(action="participants.participant.created")
    assert entry.actor_id == alice.pk
    assert entry.object_id == str(created.pk)
    assert "Ximena" not in str(entry.data)
    found = alice_client.get(reverse("participants:list"), {"q": "ximena"})
    assert _listed_ids(found) == [created.pk]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", ""),
        ("email", "not-an-email"),
        ("phone", "call me"),
        ("date_of_birth", "1984-13-45"),
        ("preferred_language", "english please"),
    ],
)
def test_it_rerenders_an_invalid_new_participant_with_errors_and_creates_nothing(alice_client, org, field, value):
    before = _snapshot()

    r = alice_client.post(reverse("participants:create"), {**VALID_PARTICIPANT, field: value})

    assert r.status_code == 200
    assert r.context["form"].errors.keys() == {field}
    assert 'role="alert"' in r.content.decode()
    assert _snapshot() == before
    assert not Participant.objects.exists()


# --- edit -----------------------------------------------------------------------------------


def test_it_shows_the_edit_form_filled_in(alice_client, participant):
    r = alice_client.get(reverse("participants:edit", args=[participant.pk]))

    assert r.status_code == 200
    assert 'value="Marisol Quispe"' in r.content.decode()
    assert 'value="marisol@example.net"' in r.content.decode()


def test_it_saves_an_edit_and_reindexes_search(alice, alice_client, participant):
    r = alice_client.post(reverse("participants:edit", args=[participant.pk]), VALID_PARTICIPANT)

    assert r.status_code == 302
    assert r.url == reverse("participants:detail", args=[participant.pk])
    participant.refresh_from_db()
    assert participant.display_name == "Ximena Torres"
    assert participant.phone == "+1 541 555 0199"
    assert participant.preferred_language == "es"
    entry = AuditEntry.objects.filter(action="participants.participant.updated").get()
    assert entry.actor_id == alice.pk
    assert "display_name" in entry.data["fields"]
    assert _listed_ids(alice_client.get(reverse("participants:list"), {"q": "ximena"})) == [participant.pk]
    assert _listed_ids(alice_client.get(reverse("participants:list"), {"q": "marisol"})) == []


@pytest.mark.parametrize(("field", "value"), [("display_name", ""), ("email", "nope"), ("phone", "call me")])
def test_it_rejects_an_invalid_edit_and_changes_nothing(alice_client, participant, field, value):
    before = _snapshot()

    r = alice_client.post(reverse("participants:edit", args=[participant.pk]), {**VALID_PARTICIPANT, field: value})

    assert r.status_code == 200
    assert field in r.context["form"].errors
    assert _snapshot() == before
    participant.refresh_from_db()
    assert participant.display_name == "Marisol Quispe"


# --- archive --------------------------------------------------------------------------------


def test_it_archives_a_participant_on_post(alice, alice_client, participant):
    r = alice_client.post(reverse("participants:archive", args=[participant.pk]))

    assert r.status_code == 302
    assert r.url == reverse("participants:list")
    participant.refresh_from_db()
    assert participant.archived_at is not None
    assert AuditEntry.objects.filter(action="participants.participant.archived", actor_id=alice.pk).count() == 1
    assert _listed_ids(alice_client.get(reverse("participants:list"))) == []
    assert alice_client.get(reverse("participants:detail", args=[participant.pk])).status_code == 404


def test_it_refuses_to_archive_on_get(alice_client, participant):
    r = alice_client.get(reverse("participants:archive", args=[participant.pk]))

    assert r.status_code == 405
    participant.refresh_from_db()
    assert participant.archived_at is None


# --- support people -------------------------------------------------------------------------


def test_it_adds_a_support_person(alice, alice_client, participant):
    r = alice_client.post(reverse("participants:support_add", args=[participant.pk]), VALID_SUPPORT)

    assert r.status_code == 302
    assert r.url == reverse("participants:detail", args=[participant.pk])
    added = SupportPerson.objects.get(participant=participant, relationship="friend")
    assert added.name == "Ana Ruiz"
    assert added.may_contact is True
    assert added.organization_id == participant.organization_id
    assert AuditEntry.objects.filter(action="participants.support_person.created", actor_id=alice.pk).count() == 1
    assert "Ana Ruiz" in alice_client.get(r.url).content.decode()


def test_it_rejects_an_invalid_support_person_and_adds_nothing(alice_client, participant):
    before = _snapshot()

    r = alice_client.post(
        reverse("participants:support_add", args=[participant.pk]), {**VALID_SUPPORT, "relationship": "nemesis"}
    )

    assert r.status_code == 400
    assert "relationship" in r.context["form"].errors
    assert _snapshot() == before


def test_it_edits_a_support_person(alice_client, participant):
    person = _person(participant)
    url = reverse("participants:support_edit", args=[participant.pk, person.pk])

    form = alice_client.get(url)
    r = alice_client.post(url, {**VALID_SUPPORT, "name": "Tomás Q. Mamani", "may_contact": ""})

    assert form.status_code == 200
    assert 'value="Tomás Quispe"' in form.content.decode()
    assert r.status_code == 302
    person.refresh_from_db()
    assert person.name == "Tomás Q. Mamani"
    assert person.relationship == "friend"
    assert person.may_contact is False


def test_it_rejects_an_invalid_support_person_edit_and_changes_nothing(alice_client, participant):
    person = _person(participant)
    before = _snapshot()

    r = alice_client.post(
        reverse("participants:support_edit", args=[participant.pk, person.pk]), {**VALID_SUPPORT, "name": ""}
    )

    assert r.status_code == 200
    assert "name" in r.context["form"].errors
    assert _snapshot() == before


def test_it_removes_a_support_person_on_post_only(alice_client, participant):
    person = _person(participant)
    url = reverse("participants:support_remove", args=[participant.pk, person.pk])

    refused = alice_client.get(url)
    person.refresh_from_db()
    assert refused.status_code == 405
    assert person.archived_at is None

    r = alice_client.post(url)

    assert r.status_code == 302
    person.refresh_from_db()
    assert person.archived_at is not None
    assert alice_client.get(reverse("participants:support_edit", args=[participant.pk, person.pk])).status_code == 404


def test_it_answers_404_for_a_support_person_under_another_participant(alice_client, participant, jose):
    person = _person(participant)
    before = _snapshot()

    for method, name in [("get", "support_edit"), ("post", "support_edit"), ("post", "support_remove")]:
        r = _request(alice_client, method, reverse(f"participants:{name}", args=[jose.pk, person.pk]), name)
        assert r.status_code == 404, (method, name)

    assert _snapshot() == before


# --- tenant isolation -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method"), RECORD_PAGES)
def test_it_answers_404_to_another_organizations_coordinator(charlie_client, participant, name, method):
    url = _page_url(name, participant, _person(participant))
    before = _snapshot()

    r = _request(charlie_client, method, url, name)

    assert r.status_code == 404
    assert "Marisol" not in r.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("name", "method"), [("support_edit", "get"), ("support_edit", "post"), ("support_remove", "post")]
)
def test_it_answers_404_for_another_organizations_support_person_under_ones_own_participant(
    charlie_client, participant, outsider_participant, name, method
):
    url = reverse(f"participants:{name}", args=[outsider_participant.pk, _person(participant).pk])
    before = _snapshot()

    r = _request(charlie_client, method, url, name)

    assert r.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", POST_ONLY_PAGES)
def test_it_refuses_get_on_post_only_pages_without_revealing_whether_the_record_exists(
    charlie_client, participant, name
):
    person = _person(participant)
    real = _page_url(name, participant, person)
    missing = real.replace(f"/{participant.pk}/", f"/{participant.pk + 1000}/", 1)
    before = _snapshot()

    assert charlie_client.get(real).status_code == charlie_client.get(missing).status_code == 405
    assert _snapshot() == before


# --- roles ----------------------------------------------------------------------------------


def test_it_lets_a_facilitator_view_the_list_and_detail_without_edit_controls(bob_client, participant):
    listing = bob_client.get(reverse("participants:list"))
    detail = bob_client.get(reverse("participants:detail", args=[participant.pk]))

    assert listing.status_code == 200
    assert _listed_ids(listing) == [participant.pk]
    assert reverse("participants:create") not in listing.content.decode()
    assert detail.status_code == 200
    assert "Tomás Quispe" in detail.content.decode()
    assert reverse("participants:edit", args=[participant.pk]) not in detail.content.decode()
    assert reverse("participants:archive", args=[participant.pk]) not in detail.content.decode()
    assert reverse("participants:support_add", args=[participant.pk]) not in detail.content.decode()


@pytest.mark.parametrize(("name", "method"), WRITE_PAGES)
def test_it_answers_403_to_a_facilitator_for_every_write(bob_client, participant, name, method):
    before = _snapshot()

    r = _request(bob_client, method, _page_url(name, participant, _person(participant)), name)

    assert r.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "method"), [("list", "get"), *RECORD_PAGES, ("create", "get"), ("create", "post")])
def test_it_answers_403_to_a_researcher_for_every_participant_page(rita_client, participant, name, method):
    before = _snapshot()

    r = _request(rita_client, method, _page_url(name, participant, _person(participant)), name)

    assert r.status_code == 403
    assert "Marisol" not in r.content.decode()
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "method"), [("list", "get"), *RECORD_PAGES, ("create", "get"), ("create", "post")])
def test_it_sends_anonymous_visitors_to_the_login_page(client, participant, name, method):
    url = _page_url(name, participant, _person(participant))
    before = _snapshot()

    r = _request(client, method, url, name)

    assert r.status_code == 302
    assert r.url.startswith(reverse("accounts:login") + "?next=")
    assert _snapshot() == before
