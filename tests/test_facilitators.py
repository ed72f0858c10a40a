"""Facilitator profiles: services (audited, without PII), selectors, and the pages with tenant
isolation, role checks, bad input and a constant number of queries on the list."""

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.core.crypto import PREFIX
from communitas.core.models import AuditEntry
from communitas.facilitators import selectors, services
from communitas.facilitators.models import Competency, Credential, FacilitatorProfile, SupervisionEntry, Training
from tests.facilitator_helpers import add_credential, make_profile, snapshot
from tests.factories import make_user

Role = Membership.Role
TODAY = timezone.localdate()
PAST = (TODAY - timedelta(days=200)).isoformat()
FUTURE = (TODAY + timedelta(days=5)).isoformat()
NOTE = "Talked through countertransference after the March circle."
DETAIL_LINK = re.compile(r'href="/facilitators/(\d+)/"')


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bob_profile(org, alice, bob):
    profile = make_profile(org, alice, user=bob, display_name="Bob Okafor", languages=["en"])
    add_credential(profile, alice)
    return profile


@pytest.fixture
def guide(org):
    return make_user(org, Role.CEREMONIAL_GUIDE, email="guide@cascadia.example")


@pytest.fixture
def guide_profile(org, alice):
    """A ceremonial guide with no login and no licence."""
    return make_profile(org, alice, display_name="Abuela Rosa", languages=["es", "qu"])


@pytest.fixture
def outsider_profile(other_org, charlie):
    profile = make_profile(other_org, charlie, display_name="Dale Whitcomb")
    add_credential(profile, charlie, kind="physician", jurisdiction="US-CO")
    return profile


@pytest.fixture
def supervision(bob_profile, alice):
    return services.supervision_entry_add(
        profile=bob_profile, actor=alice, supervisor=alice, met_on=TODAY - timedelta(days=3), minutes=50, notes=NOTE
    )


def _audit(action):
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()


# --- services --------------------------------------------------------------------------------


def test_it_audits_a_new_profile_by_field_names_only(org, alice, bob):
    profile = make_profile(org, alice, user=bob, display_name="Ximena Torres", bio="Grew up in Lima.")

    entry = _audit("facilitators.profile.created")
    assert entry.actor_id == alice.pk and entry.organization_id == org.pk
    assert entry.object_id == str(profile.pk)
    assert entry.data == {"fields": ["bio", "display_name", "languages", "user"], "user": bob.pk}
    assert "Ximena" not in json.dumps(entry.data) and "Lima" not in json.dumps(entry.data)


def test_it_audits_only_the_fields_an_update_changed(bob_profile, alice):
    services.profile_update(
        profile=bob_profile, actor=alice, display_name="Robert Okafor", active=False, bio="Hospice chaplain."
    )

    entry = _audit("facilitators.profile.updated")
    assert entry.data == {"fields": ["active", "display_name"], "active": False}
    assert "Robert" not in json.dumps(entry.data)
    before = AuditEntry.objects.count()
    services.profile_update(profile=bob_profile, actor=alice, display_name="Robert Okafor")
    assert AuditEntry.objects.count() == before


def test_it_keeps_the_bio_and_supervision_notes_encrypted_at_rest(bob_profile, supervision):
    with connection.cursor() as cursor:
        cursor.execute("SELECT bio FROM facilitators_facilitatorprofile WHERE id = %s", [bob_profile.pk])
        (bio,) = cursor.fetchone()
        cursor.execute("SELECT notes FROM facilitators_supervisionentry WHERE id = %s", [supervision.pk])
        (notes,) = cursor.fetchone()

    assert bio.startswith(PREFIX + "$") and notes.startswith(PREFIX + "$")
    assert SupervisionEntry.objects.get(pk=supervision.pk).notes == NOTE


def test_it_audits_credentials_trainings_competencies_and_supervision_without_numbers_or_notes(
    bob_profile, alice, supervision
):
    credential = add_credential(bob_profile, alice, kind="bls_cpr", jurisdiction="US", number="AHA-998877")
    services.credential_verify(credential=credential, actor=alice)
    services.training_add(
        profile=bob_profile, actor=alice, program_name="InnerTrek", hours=120, practicum_hours=40, completed_on=TODAY
    )
    services.competency_add(profile=bob_profile, actor=alice, code="group_facilitation", attained_on=TODAY)

    added = _audit("facilitators.credential.added").data
    assert added == {
        "profile": bob_profile.pk,
        "kind": "bls_cpr",
        "jurisdiction": "US",
        "fields": ["issuing_jurisdiction", "kind", "number", "valid_from", "valid_to"],
    }
    assert _audit("facilitators.credential.verified").data == {
        "profile": bob_profile.pk,
        "kind": "bls_cpr",
        "again": False,
    }
    assert _audit("facilitators.training.added").data == {
        "profile": bob_profile.pk,
        "hours": "120",
        "practicum_hours": "40",
    }
    assert _audit("facilitators.competency.added").data == {"profile": bob_profile.pk, "code": "group_facilitation"}
    assert _audit("facilitators.supervision_entry.added").data == {
        "profile": bob_profile.pk,
        "supervisor": alice.pk,
        "minutes": 50,
    }
    everything = json.dumps([e.data for e in AuditEntry.objects.filter(action__startswith="facilitators.")])
    for secret in ("AHA-998877", "PSF-000123", "countertransference", "Bob Okafor", "InnerTrek"):
        assert secret not in everything


def test_it_records_who_verified_a_credential_and_when(bob_profile, alice):
    credential = bob_profile.credentials.get()

    services.credential_verify(credential=credential, actor=alice)
    services.credential_verify(credential=credential, actor=alice)

    credential.refresh_from_db()
    assert credential.verified_by == alice
    assert timezone.now() - credential.verified_at < timedelta(minutes=1)
    assert _audit("facilitators.credential.verified").data["again"] is True


def test_it_lets_nobody_verify_their_own_credential(org, alice):
    own = make_profile(org, alice, user=alice, display_name="Alice Moreno")
    credential = add_credential(own, alice)

    with pytest.raises(PermissionDenied):
        services.credential_verify(credential=credential, actor=alice)
    credential.refresh_from_db()
    assert credential.verified_at is None


@pytest.mark.parametrize("who", ["bob", "rita", "charlie", "nobody"])
def test_it_lets_only_the_organizations_coordinators_and_admins_write(request, bob_profile, who):
    actor = None if who == "nobody" else request.getfixturevalue(who)
    credential = bob_profile.credentials.get()
    before = snapshot(bob_profile, credential)
    writes = [
        lambda: make_profile(bob_profile.organization, actor),
        lambda: services.profile_update(profile=bob_profile, actor=actor, display_name="Changed"),
        lambda: add_credential(bob_profile, actor),
        lambda: services.credential_verify(credential=credential, actor=actor),
        lambda: services.training_add(
            profile=bob_profile, actor=actor, program_name="X", hours=1, practicum_hours=0, completed_on=TODAY
        ),
        lambda: services.competency_add(profile=bob_profile, actor=actor, code="bls_cpr", attained_on=TODAY),
        lambda: services.supervision_entry_add(
            profile=bob_profile, actor=actor, supervisor=bob_profile.user, met_on=TODAY, minutes=5
        ),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied):
            write()
    assert snapshot(bob_profile, credential) == before


def test_it_lets_an_administrator_manage_profiles(org):
    admin = make_user(org, Role.ADMIN, email="admin@cascadia.example")

    profile = make_profile(org, admin)

    assert profile.organization == org


def test_it_refuses_to_link_a_login_from_another_organization_or_twice(org, alice, bob, charlie, bob_profile):
    before = snapshot(bob_profile)
    with pytest.raises(ValidationError) as outsider:
        make_profile(org, alice, user=charlie)
    with pytest.raises(ValidationError) as twice:
        make_profile(org, alice, user=bob)

    assert "user" in outsider.value.message_dict
    assert "already has a facilitator profile" in str(twice.value)
    assert snapshot(bob_profile) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"valid_from": TODAY, "valid_to": TODAY - timedelta(days=1)}, "cannot end before it starts"),
        ({"kind": "oregon_facilitator_license", "jurisdiction": "US-CO"}, "issued in US-OR"),
        ({"kind": "colorado_facilitator", "jurisdiction": "US-OR"}, "issued in US-CO"),
        ({"kind": "colorado_clinical_facilitator", "jurisdiction": "US-WA"}, "issued in US-CO"),
        ({"kind": "physician", "jurisdiction": "Oregon"}, "ISO 3166"),
        ({"kind": "therapist"}, "not a valid choice"),
    ],
)
def test_it_refuses_an_impossible_credential(bob_profile, alice, fields, message):
    before = snapshot(bob_profile)

    with pytest.raises(ValidationError, match=message):
        add_credential(bob_profile, alice, **fields)
    assert snapshot(bob_profile) == before


def test_it_accepts_a_credential_that_starts_and_ends_on_the_same_day(bob_profile, alice):
    credential = add_credential(bob_profile, alice, kind="bls_cpr", jurisdiction="US", valid_from=TODAY, days_left=0)

    assert credential.valid_from == credential.valid_to == TODAY


def test_it_records_each_competency_once(bob_profile, alice):
    services.competency_add(profile=bob_profile, actor=alice, code="cultural_humility", attained_on=TODAY)

    with pytest.raises(ValidationError, match="already recorded"):
        services.competency_add(profile=bob_profile, actor=alice, code="cultural_humility", attained_on=TODAY)
    assert Competency.objects.filter(profile=bob_profile).count() == 1


def test_it_wants_a_supervisor_from_the_organization_who_is_not_the_person_supervised(bob_profile, alice, bob, charlie):
    with pytest.raises(ValidationError, match="member of this organization"):
        services.supervision_entry_add(profile=bob_profile, actor=alice, supervisor=charlie, met_on=TODAY, minutes=30)
    with pytest.raises(ValidationError, match="cannot supervise themself"):
        services.supervision_entry_add(profile=bob_profile, actor=alice, supervisor=bob, met_on=TODAY, minutes=30)
    assert not SupervisionEntry.objects.exists()


def test_it_refuses_records_dated_in_the_future(bob_profile, alice):
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(ValidationError):
        services.training_add(
            profile=bob_profile, actor=alice, program_name="X", hours=1, practicum_hours=0, completed_on=tomorrow
        )
    with pytest.raises(ValidationError):
        services.competency_add(profile=bob_profile, actor=alice, code="bls_cpr", attained_on=tomorrow)
    with pytest.raises(ValidationError):
        services.supervision_entry_add(profile=bob_profile, actor=alice, supervisor=alice, met_on=tomorrow, minutes=5)
    assert not Training.objects.exists() and not Competency.objects.exists()


def test_it_refuses_fields_a_service_does_not_know(org, alice):
    with pytest.raises(ValueError, match="unknown fields: organization_id"):
        make_profile(org, alice, organization_id=999)


# --- selectors -------------------------------------------------------------------------------


def test_it_lists_the_credentials_about_to_lapse_in_one_organization(
    org, alice, charlie, bob_profile, guide_profile, outsider_profile
):
    soon = add_credential(guide_profile, alice, kind="ceremonial_lineage", jurisdiction="PE", days_left=20)
    later = add_credential(guide_profile, alice, kind="bls_cpr", jurisdiction="US", days_left=59)
    gone = add_credential(bob_profile, alice, kind="physician", days_left=-2)
    add_credential(bob_profile, alice, kind="psychologist", days_left=61)
    retired = make_profile(org, alice, display_name="Retired Person", active=False)
    add_credential(retired, alice, days_left=1)
    add_credential(outsider_profile, charlie, days_left=3)

    warnings = selectors.expiring_credentials(org.pk, TODAY)

    assert [(w.credential, w.days_left, w.level) for w in warnings] == [
        (gone, -2, "expired"),
        (soon, 20, "30"),
        (later, 59, "60"),
    ]


def test_it_answers_404_for_another_organizations_profile_or_credential(org, alice, bob_profile, outsider_profile):
    alice_membership = Membership.objects.get(user=alice, organization=org)

    with pytest.raises(Http404):
        selectors.profile_get_for_user(alice_membership, outsider_profile.pk)
    with pytest.raises(Http404):
        selectors.profile_get_for_user(None, bob_profile.pk)
    with pytest.raises(Http404):
        selectors.credential_get(bob_profile, outsider_profile.credentials.get().pk)


# --- pages: list and detail ------------------------------------------------------------------


def test_it_lists_facilitators_with_licence_status_and_expiry_badges(
    alice_client, org, alice, bob_profile, guide_profile
):
    add_credential(guide_profile, alice, kind="bls_cpr", jurisdiction="US", days_left=45)
    add_credential(guide_profile, alice, kind="ceremonial_lineage", jurisdiction="PE", days_left=12)
    add_credential(bob_profile, alice, kind="physician", days_left=-3)

    r = alice_client.get(reverse("facilitators:list"))

    html = r.content.decode()
    assert r.status_code == 200
    assert sorted(map(int, DETAIL_LINK.findall(html))) == sorted([bob_profile.pk, guide_profile.pk])
    assert "Licensed in US-OR" in html and "Not licensed" in html
    assert "Expires in 45 days" in html and 'class="pill open"' in html
    assert "Expires in 12 days" in html
    assert "Expired 3 days ago" in html
    assert "Medical" not in html.split("Abuela Rosa")[1]
    assert reverse("facilitators:create") in html


def test_it_shows_an_expiring_credential_on_its_last_day_as_expiring_today(alice_client, alice, guide_profile):
    add_credential(guide_profile, alice, kind="bls_cpr", jurisdiction="US", days_left=0)

    assert "Expires today" in alice_client.get(reverse("facilitators:list")).content.decode()


def test_it_never_lists_another_organizations_facilitators(charlie_client, bob_profile, outsider_profile):
    html = charlie_client.get(reverse("facilitators:list")).content.decode()

    assert "Dale Whitcomb" in html
    assert "Bob Okafor" not in html


def test_it_shows_a_profile_with_credentials_trainings_competencies_and_supervision(
    alice_client, alice, bob_profile, supervision
):
    services.training_add(
        profile=bob_profile, actor=alice, program_name="InnerTrek", hours=120, practicum_hours=40, completed_on=TODAY
    )
    services.competency_add(profile=bob_profile, actor=alice, code="trauma_informed_care", attained_on=TODAY)

    html = alice_client.get(reverse("facilitators:detail", args=[bob_profile.pk])).content.decode()

    assert "Bob Okafor" in html and "Hospice chaplain." in html
    assert "Oregon psilocybin facilitator licence" in html and "PSF-000123" in html
    assert (
        "not verified" in html
        and reverse("facilitators:credential_verify", args=[bob_profile.pk, bob_profile.credentials.get().pk]) in html
    )
    assert "InnerTrek" in html and "Licensing in US-OR asks for at least 120 hours and 40 practicum hours." in html
    assert "Trauma-informed care" in html
    assert NOTE in html


def test_it_lets_a_facilitator_see_the_list_and_their_own_profile_with_notes(
    bob_client, bob_profile, guide_profile, supervision
):
    listed = bob_client.get(reverse("facilitators:list"))
    own = bob_client.get(reverse("facilitators:detail", args=[bob_profile.pk]))
    colleague = bob_client.get(reverse("facilitators:detail", args=[guide_profile.pk]))

    assert listed.status_code == 200
    assert DETAIL_LINK.findall(listed.content.decode()) == [str(bob_profile.pk)]
    assert "Abuela Rosa" in listed.content.decode()
    assert reverse("facilitators:create") not in listed.content.decode()
    assert own.status_code == 200 and NOTE in own.content.decode()
    assert reverse("facilitators:credential_add", args=[bob_profile.pk]) not in own.content.decode()
    assert "Mark verified" not in own.content.decode()
    assert colleague.status_code == 403


def test_it_lets_a_ceremonial_guide_see_the_list_and_their_own_profile(org, alice, guide, bob_profile):
    own = make_profile(org, alice, user=guide, display_name="Taita Juan")
    client = _client(guide)

    assert client.get(reverse("facilitators:list")).status_code == 200
    assert client.get(reverse("facilitators:detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("facilitators:detail", args=[bob_profile.pk])).status_code == 403


def test_it_shows_the_facilitators_nav_entry_only_to_roles_that_may_open_it(alice_client, bob_client, org, rita):
    link = f'href="{reverse("facilitators:list")}"'

    assert link in alice_client.get(reverse("participants:list")).content.decode()
    assert link in bob_client.get(reverse("participants:list")).content.decode()
    assert link not in _client(rita).get(reverse("accounts:api_tokens")).content.decode()
    hospitality = make_user(org, Role.HOSPITALITY, email="desk@cascadia.example")
    assert link not in _client(hospitality).get(reverse("accounts:api_tokens")).content.decode()


# --- pages: forms ----------------------------------------------------------------------------


def test_it_adds_and_edits_a_profile(alice_client, org, bob):
    r = alice_client.post(
        reverse("facilitators:create"),
        {
            "display_name": "Luz Ortega",
            "user": bob.pk,
            "languages": "es, en ; pt-BR, es",
            "bio": "Doula.",
            "active": "on",
        },
    )
    profile = FacilitatorProfile.objects.get(display_name="Luz Ortega")
    assert r.status_code == 302 and r["Location"] == reverse("facilitators:detail", args=[profile.pk])
    assert (profile.organization, profile.user, profile.languages, profile.bio) == (
        org,
        bob,
        ["es", "en", "pt-BR"],
        "Doula.",
    )

    form = alice_client.get(reverse("facilitators:edit", args=[profile.pk]))
    assert 'value="es, en, pt-BR"' in form.content.decode()
    alice_client.post(
        reverse("facilitators:edit", args=[profile.pk]),
        {"display_name": "Luz M. Ortega", "languages": "es", "user": ""},
    )

    profile.refresh_from_db()
    assert (profile.display_name, profile.languages, profile.user, profile.active) == (
        "Luz M. Ortega",
        ["es"],
        None,
        False,
    )
    assert _audit("facilitators.profile.updated").data["fields"] == [
        "active",
        "bio",
        "display_name",
        "languages",
        "user",
    ]


def test_it_adds_each_kind_of_record_from_its_form(alice_client, alice, bob_profile):
    pk = bob_profile.pk
    posts = [
        ("credential_add", {"kind": "bls_cpr", "number": "", "issuing_jurisdiction": " us ", "valid_from": PAST}),
        (
            "training_add",
            {"program_name": "MAPS MDMA training", "hours": "100.5", "practicum_hours": "0", "completed_on": PAST},
        ),
        ("competency_add", {"code": "mdma_protocol", "attained_on": PAST}),
        ("supervision_add", {"supervisor": alice.pk, "met_on": PAST, "minutes": "90", "notes": "Fine."}),
    ]
    for name, data in posts:
        assert alice_client.get(reverse(f"facilitators:{name}", args=[pk])).status_code == 200
        r = alice_client.post(reverse(f"facilitators:{name}", args=[pk]), data)
        assert r.status_code == 302, (name, r.content.decode())

    assert bob_profile.credentials.get(kind="bls_cpr").issuing_jurisdiction == "US"
    assert str(Training.objects.get(profile=bob_profile).hours) == "100.5"
    assert Competency.objects.get(profile=bob_profile).code == "mdma_protocol"
    assert SupervisionEntry.objects.get(profile=bob_profile).notes == "Fine."


def test_it_verifies_a_credential_from_the_profile_page(alice_client, alice, bob_profile):
    credential = bob_profile.credentials.get()
    url = reverse("facilitators:credential_verify", args=[bob_profile.pk, credential.pk])

    assert alice_client.get(url).status_code == 405
    r = alice_client.post(url)

    credential.refresh_from_db()
    assert r.status_code == 302 and credential.verified_by == alice
    assert "Verify again" in alice_client.get(reverse("facilitators:detail", args=[bob_profile.pk])).content.decode()


# Every page, with the form data a valid POST sends. {s} is the supervisor (alice).
def _pages(profile, credential, supervisor):
    p = profile.pk
    return {
        "list": ("get", reverse("facilitators:list"), None),
        "create GET": ("get", reverse("facilitators:create"), None),
        "create": ("post", reverse("facilitators:create"), {"display_name": "New Person", "languages": "en"}),
        "detail": ("get", reverse("facilitators:detail", args=[p]), None),
        "edit GET": ("get", reverse("facilitators:edit", args=[p]), None),
        "edit": ("post", reverse("facilitators:edit", args=[p]), {"display_name": "Renamed", "languages": "en"}),
        "credential GET": ("get", reverse("facilitators:credential_add", args=[p]), None),
        "credential": (
            "post",
            reverse("facilitators:credential_add", args=[p]),
            {"kind": "physician", "issuing_jurisdiction": "US-OR", "valid_from": PAST},
        ),
        "verify": ("post", reverse("facilitators:credential_verify", args=[p, credential.pk]), {}),
        "training GET": ("get", reverse("facilitators:training_add", args=[p]), None),
        "training": (
            "post",
            reverse("facilitators:training_add", args=[p]),
            {"program_name": "X", "hours": "1", "practicum_hours": "0", "completed_on": PAST},
        ),
        "competency GET": ("get", reverse("facilitators:competency_add", args=[p]), None),
        "competency": (
            "post",
            reverse("facilitators:competency_add", args=[p]),
            {"code": "bls_cpr", "attained_on": PAST},
        ),
        "supervision GET": ("get", reverse("facilitators:supervision_add", args=[p]), None),
        "supervision": (
            "post",
            reverse("facilitators:supervision_add", args=[p]),
            {"supervisor": supervisor.pk, "met_on": PAST, "minutes": "30"},
        ),
    }


ORG_PAGES = ["list", "create GET", "create"]
PROFILE_PAGES = [
    "detail",
    "edit GET",
    "edit",
    "credential GET",
    "credential",
    "verify",
    "training GET",
    "training",
    "competency GET",
    "competency",
    "supervision GET",
    "supervision",
]
WRITE_PAGES = [name for name in ORG_PAGES + PROFILE_PAGES if name not in ("list", "detail")]


def _send(client, page):
    method, url, data = page
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize("name", PROFILE_PAGES)
def test_it_answers_404_to_another_organizations_coordinator_on_every_profile_page(
    charlie_client, alice, bob_profile, name
):
    credential = bob_profile.credentials.get()
    before = snapshot(bob_profile, credential)

    r = _send(charlie_client, _pages(bob_profile, credential, alice)[name])

    assert r.status_code == 404
    assert snapshot(bob_profile, credential) == before


def test_it_answers_404_for_a_credential_under_another_profile(
    alice_client, bob_profile, guide_profile, outsider_profile
):
    for profile, credential in [
        (guide_profile, bob_profile.credentials.get()),
        (bob_profile, outsider_profile.credentials.get()),
    ]:
        r = alice_client.post(reverse("facilitators:credential_verify", args=[profile.pk, credential.pk]))
        assert r.status_code == 404
    assert not Credential.objects.filter(verified_at__isnull=False).exists()


def test_it_answers_404_for_a_missing_profile(alice_client):
    assert alice_client.get(reverse("facilitators:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PEER_SUPPORTER, Role.HOSPITALITY])
@pytest.mark.parametrize("name", ORG_PAGES + PROFILE_PAGES)
def test_it_answers_403_to_roles_outside_the_care_team_on_every_page(org, alice, bob_profile, role, name):
    credential = bob_profile.credentials.get()
    client = _client(make_user(org, role))
    before = snapshot(bob_profile, credential)

    r = _send(client, _pages(bob_profile, credential, alice)[name])

    assert r.status_code == 403
    assert snapshot(bob_profile, credential) == before


@pytest.mark.parametrize("name", WRITE_PAGES)
def test_it_answers_403_to_a_facilitator_on_every_write_even_on_their_own_profile(bob_client, alice, bob_profile, name):
    credential = bob_profile.credentials.get()
    before = snapshot(bob_profile, credential)

    r = _send(bob_client, _pages(bob_profile, credential, alice)[name])

    assert r.status_code == 403
    assert snapshot(bob_profile, credential) == before


BAD_POSTS = [
    ("create", {"display_name": "   ", "languages": "en"}),
    ("create", {"display_name": "X", "languages": "english!"}),
    ("create", {"display_name": "X", "languages": ", ".join(f"l{chr(97 + i)}" for i in range(21))}),
    ("create", {"display_name": "X", "user": "{charlie}"}),
    ("create", {"display_name": "X", "user": "{bob}"}),  # bob already has a profile
    ("create", {"display_name": "X" * 151}),
    ("create", {"display_name": "X", "bio": "b" * 2001}),
    ("edit", {"display_name": ""}),
    ("edit", {"display_name": "X", "languages": "en, 12"}),
    ("edit", {"display_name": "X", "user": "{charlie}"}),
    ("credential", {"kind": "shaman", "issuing_jurisdiction": "US-OR", "valid_from": PAST}),
    ("credential", {"kind": "physician", "issuing_jurisdiction": "Oregon", "valid_from": PAST}),
    ("credential", {"kind": "physician", "issuing_jurisdiction": "US-OR"}),
    ("credential", {"kind": "physician", "issuing_jurisdiction": "US-OR", "valid_from": "yesterday"}),
    (
        "credential",
        {"kind": "physician", "issuing_jurisdiction": "US-OR", "valid_from": PAST, "valid_to": "2000-01-01"},
    ),
    ("credential", {"kind": "oregon_facilitator_license", "issuing_jurisdiction": "US-CO", "valid_from": PAST}),
    ("credential", {"kind": "colorado_facilitator", "issuing_jurisdiction": "US-OR", "valid_from": PAST}),
    ("credential", {"kind": "physician", "issuing_jurisdiction": "US-OR", "valid_from": PAST, "number": "9" * 65}),
    ("training", {"program_name": "", "hours": "1", "practicum_hours": "0", "completed_on": PAST}),
    ("training", {"program_name": "X", "hours": "-1", "practicum_hours": "0", "completed_on": PAST}),
    ("training", {"program_name": "X", "hours": "many", "practicum_hours": "0", "completed_on": PAST}),
    ("training", {"program_name": "X", "hours": "1", "practicum_hours": "5001", "completed_on": PAST}),
    ("training", {"program_name": "X", "hours": "1", "practicum_hours": "0", "completed_on": FUTURE}),
    ("competency", {"code": "telepathy", "attained_on": PAST}),
    ("competency", {"code": "bls_cpr", "attained_on": FUTURE}),
    ("competency", {"code": "group_facilitation", "attained_on": PAST}),  # already recorded
    ("supervision", {"supervisor": "{charlie}", "met_on": PAST, "minutes": "30"}),
    ("supervision", {"supervisor": "{bob}", "met_on": PAST, "minutes": "30"}),  # supervising himself
    ("supervision", {"supervisor": "{alice}", "met_on": PAST, "minutes": "0"}),
    ("supervision", {"supervisor": "{alice}", "met_on": PAST, "minutes": "721"}),
    ("supervision", {"supervisor": "{alice}", "met_on": FUTURE, "minutes": "30"}),
    ("supervision", {"supervisor": "{alice}", "met_on": PAST, "minutes": "30", "notes": "n" * 4001}),
]


@pytest.mark.parametrize(("name", "data"), BAD_POSTS, ids=[f"{n}: {i}" for i, (n, _) in enumerate(BAD_POSTS)])
def test_it_answers_400_to_bad_input_on_every_form_and_changes_nothing(
    alice_client, alice, bob, charlie, bob_profile, name, data
):
    services.competency_add(profile=bob_profile, actor=alice, code="group_facilitation", attained_on=TODAY)
    credential = bob_profile.credentials.get()
    people = {"{alice}": alice.pk, "{bob}": bob.pk, "{charlie}": charlie.pk}
    body = {k: people.get(v, v) for k, v in data.items()}
    _method, url, _valid = _pages(bob_profile, credential, alice)[name]
    before = snapshot(bob_profile, credential)

    r = alice_client.post(url, body)

    assert r.status_code == 400, r.content.decode()[:500]
    assert 'class="error"' in r.content.decode()
    assert snapshot(bob_profile, credential) == before


def test_it_serves_every_page_with_no_inline_script_or_style(alice_client, alice, bob_profile, supervision):
    credential = bob_profile.credentials.get()
    pages = _pages(bob_profile, credential, alice)
    for name in [
        "list",
        "detail",
        "create GET",
        "edit GET",
        "credential GET",
        "training GET",
        "competency GET",
        "supervision GET",
    ]:
        html = _send(alice_client, pages[name]).content.decode()
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, name
        assert re.search(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", html) is None, name


# --- query counts ----------------------------------------------------------------------------


def _add_facilitators(org, actor, count, start=0):
    for i in range(start, start + count):
        profile = make_profile(org, actor, display_name=f"Guide {i:02d}")
        add_credential(profile, actor, days_left=20 + i)
        add_credential(profile, actor, kind="bls_cpr", jurisdiction="US", days_left=None)


def test_it_lists_3_or_12_facilitators_in_the_same_number_of_queries(
    alice_client, org, alice, django_assert_num_queries
):
    url = reverse("facilitators:list")
    _add_facilitators(org, alice, 3)
    alice_client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        few = alice_client.get(url)
    baseline = len(ctx.captured_queries)

    _add_facilitators(org, alice, 9, start=3)
    with django_assert_num_queries(baseline):
        many = alice_client.get(url)

    assert len(DETAIL_LINK.findall(few.content.decode())) == 3
    assert len(DETAIL_LINK.findall(many.content.decode())) == 12
    assert many.content.decode().count("Licensed in US-OR") == 12


def test_it_shows_a_profile_with_1_or_10_records_of_each_kind_in_the_same_number_of_queries(
    alice_client, alice, bob_profile, django_assert_num_queries
):
    url = reverse("facilitators:detail", args=[bob_profile.pk])
    alice_client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        alice_client.get(url)
    baseline = len(ctx.captured_queries)

    codes = [c for c, _ in Competency.Code.choices]
    for i in range(9):
        add_credential(bob_profile, alice, kind="bls_cpr", jurisdiction="US", days_left=10 + i)
        services.training_add(
            profile=bob_profile, actor=alice, program_name=f"T{i}", hours=1, practicum_hours=0, completed_on=TODAY
        )
        services.competency_add(profile=bob_profile, actor=alice, code=codes[i], attained_on=TODAY)
        services.supervision_entry_add(profile=bob_profile, actor=alice, supervisor=alice, met_on=TODAY, minutes=10)
        services.credential_verify(credential=bob_profile.credentials.order_by("-id").first(), actor=alice)
    with django_assert_num_queries(baseline):
        r = alice_client.get(url)
    html = r.content.decode()
    assert html.count("Verify again") == 9 and html.count("Mark verified") == 1
    assert html.count('<td data-label="Training program">T') == 9
    assert html.count('<td data-label="Minutes">10</td>') == 9
