"""Data-sharing agreements: nothing about an organization's participants crosses to another
organization without an agreement naming them, the consent scopes and the dates; the recipient's
coordinators download a pseudonymous FHIR Bundle of the listed participants whose consent still
stands, limited to the agreement's scopes; every download is logged on the owner's side."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.interop.models import DataSharingAgreement, ExportLog
from communitas.interop.sharing import (
    SharingError,
    active_agreements,
    agreement_bundle_export,
    agreement_create,
    agreement_revoke,
    shared_participants,
)
from communitas.outcomes import services as outcomes
from communitas.participants.services import consent_sign, consent_withdraw, participant_archive
from communitas.programs.models import Enrollment
from communitas.safety import services as safety
from tests.conftest import bearer
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import OrganizationFactory, make_user
from tests.journey_helpers import oregon_program
from tests.session_helpers import make_ready, prepare

Role = Membership.Role
PHQ9 = {str(n): 1 for n in range(1, 10)}
API = "/api/v1/sharing/agreements"
RESEARCH_TYPES = {"Organization", "Patient", "Consent", "Questionnaire", "QuestionnaireResponse", "Observation"}
PARTICIPATION_TYPES = {"Organization", "Patient", "Consent", "Encounter", "AdverseEvent"}


def _today() -> datetime.date:
    return timezone.localdate()


def _days(n: int) -> datetime.date:
    return _today() + datetime.timedelta(days=n)


@pytest.fixture
def people(org, alice):
    """Three participants of Alice's organization in a preparation session, each with a PHQ-9
    answered and an adverse event; the first two grant participation and research, the third
    participation only."""
    program, document = oregon_program(org, name="Group sessions")
    guide = make_profile(org, alice, display_name="Ana Lucía Ramos", languages=["en"])
    add_credential(guide, alice)
    folks = [
        make_ready(program, document, alice, display_name=f"Marisol {n} Quispe", email=f"p{n}@example.net")
        for n in range(3)
    ]
    prepare(program, alice, guide, folks)
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    for n, person in enumerate(folks):
        granted = {"participation", "research"} if n < 2 else {"participation"}
        consent_sign(
            participant=person, document=document, typed_name=person.display_name, granted=granted, via="staff"
        )
        enrollment = Enrollment.objects.get(program=program, participant=person)
        planned = outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=_days(7), actor=None)
        outcomes.response_submit(assessment=planned[0], answers=PHQ9, language="en", source="staff")
        safety.adverse_event_record(
            participant=person,
            actor=alice,
            jurisdiction="US-OR",
            session_ref="Saturday circle",
            during_administration=False,
            kind="behavioral",
            onset_at=timezone.now() - datetime.timedelta(hours=3),
            description=f"{person.display_name} felt anxious.",
            severity="mild",
            serious=False,
            emergency_services=False,
            outcome="resolved",
            relatedness="possible",
        )
    return folks


@pytest.fixture
def third_org(db):
    return OrganizationFactory(name="Juniper Research Site", slug="juniper", kind="research_site")


@pytest.fixture
def dana(third_org):
    return make_user(third_org, Role.COORDINATOR, email="dana@juniper.example")


@pytest.fixture
def dana_client(dana):
    client = Client()
    client.force_login(dana)
    return client


@pytest.fixture
def fran(other_org):
    """A facilitator at the recipient."""
    return make_user(other_org, Role.FACILITATOR, email="fran@stillwater.example")


def agree(org, alice, recipient, people, scopes=("research",), *, starts=0, ends=30, title="Veterans follow-up"):
    return agreement_create(
        organization=org,
        actor=alice,
        recipient=recipient,
        title=title,
        participant_ids=[p.pk for p in people],
        scopes=list(scopes),
        starts_on=_days(starts),
        ends_on=_days(ends),
    )


def _gate(org, other_org, scope="research", today=None):
    return set(
        shared_participants(owner=org, recipient=other_org, scope=scope, today=today or _today()).values_list(
            "pseudonym", flat=True
        )
    )


def _bundle_url(agreement) -> str:
    return f"/reports/sharing/received/{agreement.pk}/bundle.json"


def _download(client, agreement) -> dict:
    response = client.get(_bundle_url(agreement))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return json.loads(response.content)


def _of(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _types(bundle: dict) -> set[str]:
    return {e["resource"]["resourceType"] for e in bundle["entry"]}


def _patients(bundle: dict) -> set[str]:
    return {p["id"] for p in _of(bundle, "Patient")}


def _subjects(bundle: dict) -> set[str]:
    refs = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        if ref.startswith("Patient/"):
            refs.add(ref.removeprefix("Patient/"))
    return refs


def _valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        _valid(entry["resource"])
    return resource


# Nothing crosses without an agreement


@pytest.mark.django_db
def test_it_shares_nothing_without_an_agreement(org, other_org, people, charlie_client, charlie_api):
    assert _gate(org, other_org) == set() and _gate(org, other_org, "participation") == set()
    assert not active_agreements(other_org, _today()).exists()
    assert charlie_client.get(f"/participants/{people[0].pk}/").status_code == 404
    assert Client().get(API, **charlie_api).json() == []
    assert charlie_client.get("/reports/sharing/received/1/bundle.json").status_code == 404
    assert Client().get(f"{API}/1/bundle", **charlie_api).status_code == 404
    assert not ExportLog.objects.exists()


@pytest.mark.django_db
def test_an_active_agreement_shares_its_listed_consenting_participants_pseudonymously(
    org, alice, other_org, people, charlie_client
):
    agreement = agree(org, alice, other_org, people[:2])
    assert _gate(org, other_org) == {p.pseudonym for p in people[:2]}
    assert _gate(org, other_org, "participation") == set()  # not a scope of the agreement
    bundle = _valid(_download(charlie_client, agreement))
    assert _patients(bundle) == _subjects(bundle) == {p.pseudonym for p in people[:2]}
    assert bundle["type"] == "collection" and bundle["meta"]["security"][0]["code"] == "PSEUDED"
    assert bundle["identifier"]["value"] == str(agreement.pk)
    for patient in _of(bundle, "Patient"):
        assert not {"name", "telecom", "birthDate", "communication", "address"} & set(patient)
    text = json.dumps(bundle, ensure_ascii=False)
    for person in people:
        assert person.display_name not in text and person.email not in text
    assert "felt anxious" not in text and "Preparation" not in text
    (organization,) = _of(bundle, "Organization")
    assert organization["id"] == str(org.pk)


@pytest.mark.django_db
def test_participants_not_listed_stay_home(org, alice, other_org, people, charlie_client):
    agreement = agree(org, alice, other_org, people[:1], scopes=["participation"])
    bundle = _download(charlie_client, agreement)
    assert _patients(bundle) == _subjects(bundle) == {people[0].pseudonym}


@pytest.mark.django_db
def test_an_agreement_shares_only_with_its_recipient_and_only_its_own_participants(
    org, alice, other_org, third_org, people, charlie_client
):
    first = agree(org, alice, other_org, people[:1], scopes=["participation"])
    agree(org, alice, third_org, people[1:], scopes=["participation"], title="Juniper")
    assert _gate(org, other_org, "participation") == {people[0].pseudonym}
    assert _gate(org, third_org, "participation") == {p.pseudonym for p in people[1:]}
    assert _patients(_download(charlie_client, first)) == {people[0].pseudonym}
    second = agree(org, alice, other_org, people[1:2], scopes=["participation"], title="Second")
    assert _patients(_download(charlie_client, second)) == {people[1].pseudonym}  # per agreement
    assert _gate(org, other_org, "participation") == {p.pseudonym for p in people[:2]}


# Scopes limit resource types


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scopes", "types"),
    [
        (["research"], RESEARCH_TYPES),
        (["participation"], PARTICIPATION_TYPES),
        (["participation", "research"], RESEARCH_TYPES | PARTICIPATION_TYPES),
    ],
)
def test_the_scopes_limit_the_resource_types(org, alice, other_org, people, charlie_client, scopes, types):
    agreement = agree(org, alice, other_org, people[:2], scopes=scopes)
    bundle = _valid(_download(charlie_client, agreement))
    assert _types(bundle) == types
    assert "Group" not in _types(bundle)  # circles list other people
    for encounter in _of(bundle, "Encounter"):
        assert encounter["subject"]["reference"].startswith("Patient/") and "partOf" not in encounter
    consents = _of(bundle, "Consent")
    assert {c["category"][1]["coding"][0]["code"] for c in consents} == set(scopes)
    assert {(c["status"], c["provision"]["type"]) for c in consents} == {("active", "permit")}
    assert len(consents) == 2 * len(scopes)  # the current decision per participant and scope


@pytest.mark.django_db
def test_a_participant_shared_for_one_scope_brings_only_that_scopes_resources(
    org, alice, other_org, people, charlie_client
):
    agreement = agree(org, alice, other_org, people[:2], scopes=["participation", "research"])
    consent_withdraw(participant=people[1], scope="research", actor=alice)
    bundle = _download(charlie_client, agreement)
    assert _patients(bundle) == {p.pseudonym for p in people[:2]}
    responses = {r["subject"]["reference"] for r in _of(bundle, "QuestionnaireResponse")}
    events = {e["subject"]["reference"] for e in _of(bundle, "AdverseEvent")}
    assert responses == {f"Patient/{people[0].pseudonym}"}
    assert events == {f"Patient/{p.pseudonym}" for p in people[:2]}


# Dates, revocation, withdrawal


@pytest.mark.django_db
def test_an_agreement_not_started_yet_shares_nothing(org, alice, other_org, people, charlie_client):
    agreement = agree(org, alice, other_org, people[:2], starts=1, ends=10)
    assert _gate(org, other_org) == set()
    assert _gate(org, other_org, today=_days(1)) == {p.pseudonym for p in people[:2]}
    assert charlie_client.get(_bundle_url(agreement)).status_code == 404
    assert not ExportLog.objects.exists()


@pytest.mark.django_db
def test_an_ended_agreement_shares_nothing(org, alice, other_org, people, charlie_client):
    agreement = agree(org, alice, other_org, people[:2], starts=0, ends=5)
    assert _gate(org, other_org, today=_days(5)) == {p.pseudonym for p in people[:2]}  # the last day counts
    assert _gate(org, other_org, today=_days(6)) == set()
    DataSharingAgreement.objects.filter(pk=agreement.pk).update(starts_on=_days(-20), ends_on=_days(-1))
    assert _gate(org, other_org) == set()
    assert charlie_client.get(_bundle_url(agreement)).status_code == 404


@pytest.mark.django_db
def test_a_revoked_agreement_shares_nothing(org, alice, other_org, people, charlie, charlie_client, alice_client):
    agreement = agree(org, alice, other_org, people[:2])
    response = alice_client.post(f"/reports/sharing/{agreement.pk}/revoke")
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.revoked_at is not None
    assert _gate(org, other_org) == set()
    assert charlie_client.get(_bundle_url(agreement)).status_code == 404
    with pytest.raises(Http404):  # the service re-checks
        agreement_bundle_export(agreement=agreement, actor=charlie, membership=charlie.memberships.get(), via="web")
    assert AuditEntry.objects.filter(action="interop.data_sharing_agreement.revoked").count() == 1
    agreement_revoke(agreement=agreement, actor=alice)  # twice changes nothing
    assert AuditEntry.objects.filter(action="interop.data_sharing_agreement.revoked").count() == 1


@pytest.mark.django_db
def test_a_withdrawal_after_the_agreement_stops_the_sharing_at_once(org, alice, other_org, people, charlie_client):
    agreement = agree(org, alice, other_org, people[:2])
    consent_withdraw(participant=people[1], scope="research", actor=alice)
    assert _gate(org, other_org) == {people[0].pseudonym}
    bundle = _download(charlie_client, agreement)
    assert _patients(bundle) == _subjects(bundle) == {people[0].pseudonym}


@pytest.mark.django_db
def test_an_archived_participant_stops_being_shared(org, alice, other_org, people, charlie_client):
    agreement = agree(org, alice, other_org, people[:2])
    participant_archive(participant=people[1], actor=alice)
    assert _patients(_download(charlie_client, agreement)) == {people[0].pseudonym}


# Who gets the bundle


@pytest.mark.django_db
def test_the_owner_and_a_third_organization_get_404_for_the_bundle(
    org, alice, other_org, people, alice_client, dana_client, alice_api, dana, third_org
):
    agreement = agree(org, alice, other_org, people[:2])
    assert alice_client.get(_bundle_url(agreement)).status_code == 404  # the owner is not the recipient
    assert dana_client.get(_bundle_url(agreement)).status_code == 404
    assert Client().get(f"{API}/{agreement.pk}/bundle", **alice_api).status_code == 404
    assert Client().get(f"{API}/{agreement.pk}/bundle", **bearer(dana, third_org)).status_code == 404
    assert _gate(org, third_org) == set()
    dana_membership = Membership.objects.get(user=dana)
    with pytest.raises(PermissionDenied):
        agreement_bundle_export(agreement=agreement, actor=dana, membership=dana_membership, via="web")
    assert not ExportLog.objects.exists()


@pytest.mark.django_db
def test_only_coordinators_and_administrators_share_and_receive(
    org, alice, other_org, people, bob, bob_client, rita_client, bob_api, rita_api, fran
):
    agreement = agree(org, alice, other_org, people[:2])
    for client in (bob_client, rita_client):
        assert client.get("/reports/sharing/").status_code == 403
        assert client.get("/reports/sharing/received/").status_code == 403
        assert client.post(f"/reports/sharing/{agreement.pk}/revoke").status_code == 403
    for headers in (bob_api, rita_api):
        assert Client().get(API, **headers).status_code == 403
        assert Client().post(f"{API}/{agreement.pk}/revoke", **headers).status_code == 403
    fran_client = Client()
    fran_client.force_login(fran)
    assert fran_client.get(_bundle_url(agreement)).status_code == 403
    assert Client().get(f"{API}/{agreement.pk}/bundle", **bearer(fran, other_org)).status_code == 403
    with pytest.raises(PermissionDenied):
        agree(org, bob, other_org, people[:2], title="By a facilitator")
    with pytest.raises(PermissionDenied):
        agreement_revoke(agreement=agreement, actor=bob)
    agreement.refresh_from_db()
    assert agreement.revoked_at is None and DataSharingAgreement.objects.count() == 1


# Creation refuses, saving nothing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("lacking_consent", "1 of the 3 chosen participants have not consented"),
        ("foreign_participant", "1 of the chosen participants are unknown here"),
        ("archived_participant", "1 of the chosen participants are unknown here"),
        ("no_participants", "at least one participant"),
        ("unknown_scope", "unknown or unshareable scopes ['telepathy']"),
        ("unshareable_scope", "unknown or unshareable scopes ['recording']"),
        ("no_scopes", "at least one consent scope"),
        ("self_sharing", "cannot share with itself"),
        ("unknown_recipient", "no organization with that identifier"),
        ("dates_reversed", "end on or after"),
        ("already_ended", "already have ended"),
    ],
)
def test_creation_refuses_and_saves_nothing(org, alice, other_org, people, outsider_participant, case, message):
    kwargs = {
        "organization": org,
        "actor": alice,
        "recipient": other_org,
        "title": "Refused",
        "participant_ids": [p.pk for p in people[:2]],
        "scopes": ["research"],
        "starts_on": _today(),
        "ends_on": _days(30),
    }
    if case == "lacking_consent":
        kwargs["participant_ids"] = [p.pk for p in people]  # the third declined research
    elif case == "foreign_participant":
        kwargs["participant_ids"] = [people[0].pk, outsider_participant.pk]
    elif case == "archived_participant":
        participant_archive(participant=people[1], actor=alice)
    elif case == "no_participants":
        kwargs["participant_ids"] = []
    elif case == "unknown_scope":
        kwargs["scopes"] = ["research", "telepathy"]
    elif case == "unshareable_scope":
        kwargs["scopes"] = ["recording"]
    elif case == "no_scopes":
        kwargs["scopes"] = []
    elif case == "self_sharing":
        kwargs["recipient"] = org
    elif case == "unknown_recipient":
        kwargs["recipient"] = "nowhere"
    elif case == "dates_reversed":
        kwargs["starts_on"], kwargs["ends_on"] = _days(10), _days(5)
    elif case == "already_ended":
        kwargs["starts_on"], kwargs["ends_on"] = _days(-10), _days(-1)
    before = AuditEntry.objects.count()
    with pytest.raises(SharingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        agreement_create(**kwargs)
    assert not DataSharingAgreement.objects.exists()
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_a_participant_whose_newest_consent_declines_cannot_be_listed(org, alice, other_org, people):
    document = people[0].consent_signatures.latest("signed_at").document
    consent_sign(
        participant=people[0], document=document, typed_name="M. Quispe", granted={"participation"}, via="staff"
    )
    with pytest.raises(SharingError, match="1 of the 2 chosen participants"):
        agree(org, alice, other_org, people[:2])
    assert agree(org, alice, other_org, people[:2], scopes=["participation"]).participants.count() == 2


# Audit and export logs


@pytest.mark.django_db
def test_making_downloading_and_revoking_are_audited_and_the_owner_sees_what_left(
    org, alice, other_org, people, charlie, charlie_client, alice_client
):
    agreement = agree(org, alice, other_org, people[:2], scopes=["participation", "research"])
    created = AuditEntry.objects.get(action="interop.data_sharing_agreement.created")
    assert (created.organization_id, created.actor_id, created.object_id) == (org.pk, alice.pk, str(agreement.pk))
    assert created.data == {
        "recipient": other_org.pk,
        "scopes": ["participation", "research"],
        "participants": 2,
        "starts_on": _today().isoformat(),
        "ends_on": _days(30).isoformat(),
    }
    bundle = _download(charlie_client, agreement)
    log = ExportLog.objects.get()
    assert (log.organization_id, log.kind, log.via, log.actor_id) == (org.pk, "sharing", "web", charlie.pk)
    assert log.rows == len(bundle["entry"]) and log.fields == sorted(_types(bundle))
    assert log.parameters["sharing_agreement"] == agreement.pk and log.parameters["recipient"] == other_org.pk
    assert log.parameters["participants"] == 2 and log.parameters["identified"] is False
    assert log.parameters["bundle"] == bundle["id"]
    assert not ExportLog.objects.filter(organization=other_org).exists()
    exported = AuditEntry.objects.get(action="interop.sharing.exported")
    assert (exported.organization_id, exported.actor_id) == (org.pk, charlie.pk)
    received = AuditEntry.objects.get(action="interop.data_sharing_agreement.downloaded")
    assert (received.organization_id, received.actor_id) == (other_org.pk, charlie.pk)
    assert received.data["export_log"] == log.pk and received.data["owner"] == org.pk
    text = json.dumps([e.data for e in AuditEntry.objects.filter(action__startswith="interop.")])
    for person in people:
        assert person.display_name not in text and person.pseudonym not in text
    page = alice_client.get("/reports/sharing/").content.decode()
    assert "Veterans follow-up" in page and "charlie" in page and "Stillwater Veterans Retreats" in page
    assert alice_client.get("/reports/").status_code == 200


# Pages


@pytest.mark.django_db
def test_alice_makes_and_revokes_an_agreement_on_the_page(org, alice, other_org, people, alice_client):
    page = alice_client.get("/reports/sharing/").content.decode()
    assert people[0].display_name in page and people[0].pseudonym in page
    form = {
        "title": "Stillwater follow-up",
        "recipient": "stillwater",
        "participants": [str(p.pk) for p in people[:2]],
        "scopes": ["research", "participation"],
        "starts_on": _today().isoformat(),
        "ends_on": _days(90).isoformat(),
    }
    response = alice_client.post("/reports/sharing/", form)
    assert response.status_code == 302
    agreement = DataSharingAgreement.objects.get()
    assert (agreement.recipient, agreement.scopes, agreement.created_by) == (
        other_org,
        ["research", "participation"],
        alice,
    )
    assert set(agreement.participants.all()) == set(people[:2])
    refused = alice_client.post("/reports/sharing/", {**form, "participants": [str(p.pk) for p in people]})
    assert refused.status_code == 200 and "1 of the 3 chosen participants" in refused.content.decode()
    assert DataSharingAgreement.objects.count() == 1
    alice_client.post(f"/reports/sharing/{agreement.pk}/revoke")
    agreement.refresh_from_db()
    assert agreement.revoked_at is not None


@pytest.mark.django_db
def test_the_recipient_sees_its_agreements_and_downloads_active_ones(
    org, alice, other_org, people, charlie_client, alice_client, dana_client
):
    active = agree(org, alice, other_org, people[:2])
    later = agree(org, alice, other_org, people[:2], starts=5, ends=10, title="Next season")
    page = charlie_client.get("/reports/sharing/received/").content.decode()
    assert "stillwater" in page and "Veterans follow-up" in page and "Next season" in page
    assert _bundle_url(active) in page and _bundle_url(later) not in page
    assert people[0].display_name not in page and people[0].pseudonym not in page
    assert "Veterans follow-up" not in dana_client.get("/reports/sharing/received/").content.decode()
    assert "Veterans follow-up" not in alice_client.get("/reports/sharing/received/").content.decode()
    assert alice_client.post(f"/reports/sharing/{active.pk}/revoke").status_code == 302
    assert charlie_client.post(f"/reports/sharing/{active.pk}/revoke").status_code == 404  # not theirs to revoke


@pytest.mark.django_db
def test_other_organizations_cannot_revoke_or_see_the_owners_agreements(
    org, alice, other_org, people, charlie_client, dana_client
):
    agreement = agree(org, alice, other_org, people[:2])
    for client in (charlie_client, dana_client):
        assert client.post(f"/reports/sharing/{agreement.pk}/revoke").status_code == 404
        assert "Veterans follow-up" not in client.get("/reports/sharing/").content.decode()
    agreement.refresh_from_db()
    assert agreement.revoked_at is None


# API


@pytest.mark.django_db
def test_the_api_makes_lists_shares_and_revokes(org, alice, other_org, people, alice_api, charlie_api, charlie):
    payload = {
        "recipient": "stillwater",
        "title": "Stillwater follow-up",
        "participant_ids": [p.pk for p in people[:2]],
        "scopes": ["research"],
        "starts_on": _today().isoformat(),
        "ends_on": _days(30).isoformat(),
    }
    response = Client().post(API, payload, content_type="application/json", **alice_api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["recipient"], body["status"]) == ("outgoing", "stillwater", "active")
    assert body["participant_ids"] == sorted(p.pk for p in people[:2])
    assert set(body["resource_types"]) == RESEARCH_TYPES
    (incoming,) = Client().get(API, **charlie_api).json()
    assert (incoming["id"], incoming["direction"], incoming["owner"]) == (body["id"], "incoming", "cascadia")
    assert incoming["participant_ids"] is None
    (outgoing,) = Client().get(API, **alice_api).json()
    assert outgoing["direction"] == "outgoing"

    bundle = Client().get(f"{API}/{body['id']}/bundle", **charlie_api)
    assert bundle.status_code == 200
    assert _patients(bundle.json()) == {p.pseudonym for p in people[:2]}
    log = ExportLog.objects.get()
    assert (log.organization_id, log.via, log.actor_id) == (org.pk, "api", charlie.pk)

    assert Client().post(f"{API}/{body['id']}/revoke", **charlie_api).status_code == 404
    revoked = Client().post(f"{API}/{body['id']}/revoke", **alice_api)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert Client().get(f"{API}/{body['id']}/bundle", **charlie_api).status_code == 404


@pytest.mark.django_db
def test_the_api_refuses_bad_agreements_with_the_error_shape(org, alice, other_org, people, alice_api):
    payload = {
        "recipient": "stillwater",
        "title": "Refused",
        "participant_ids": [p.pk for p in people],
        "scopes": ["research"],
        "starts_on": _today().isoformat(),
        "ends_on": _days(30).isoformat(),
    }
    response = Client().post(API, payload, content_type="application/json", **alice_api)
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "detail": "1 of the 3 chosen participants have not consented to every scope (research): "
        "their newest consent must grant each one",
    }
    for bad in (
        {**payload, "recipient": "cascadia", "participant_ids": [people[0].pk]},
        {**payload, "participant_ids": [people[0].pk], "scopes": ["telepathy"]},
        {**payload, "participant_ids": [people[0].pk], "ends_on": _days(-3).isoformat()},
        {**payload, "participant_ids": [people[0].pk], "extra": 1},
        {**payload, "participant_ids": [people[0].pk], "starts_on": "86400"},
    ):
        refused = Client().post(API, bad, content_type="application/json", **alice_api)
        assert refused.status_code == 422 and set(refused.json()) == {"error", "detail"}
    assert not DataSharingAgreement.objects.exists()


@pytest.mark.django_db
def test_the_api_answers_404_for_agreements_of_other_organizations(org, alice, other_org, people, dana, third_org):
    agreement = agree(org, alice, other_org, people[:2])
    dana_api = bearer(dana, third_org)
    assert Client().get(API, **dana_api).json() == []
    assert Client().post(f"{API}/{agreement.pk}/revoke", **dana_api).status_code == 404
    assert Client().get(f"{API}/{agreement.pk}/bundle", **dana_api).status_code == 404
    assert Client().get(f"{API}/999999/bundle", **dana_api).json() == {"error": "not_found", "detail": "Not found."}


@pytest.mark.django_db
def test_the_gate_ignores_unknown_scopes_and_self(org, alice, other_org, people):
    agree(org, alice, other_org, people[:2])
    assert _gate(org, other_org, "recording") == set()
    assert _gate(org, org) == set()
    assert set(shared_participants(owner=other_org, recipient=org, scope="research", today=_today())) == set()
