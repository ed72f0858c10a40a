"""`communitas seed-scale`: one organization at scale, written in bulk. Run here at 300 people
(three circles); the counts scale with N, identity is stored encrypted, the manifest's paths
work, a second run for the same organization is refused without writing anything, and the
audit chain holds one entry for the whole seeding."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from communitas.accounts.models import Membership, Organization, User
from communitas.core.models import AuditEntry
from communitas.outcomes.definitions import get_builtin
from communitas.outcomes.models import Assessment, Response, Score
from communitas.outcomes.scoring import score
from communitas.participants.models import ConsentDecision, Participant, ParticipantSearchToken
from communitas.participants.selectors import participants_for_membership
from communitas.programs.models import Attendance, Circle, Enrollment, Retreat, Session
from communitas.safety.models import Screening

N = 300
NAME = "Scale Test Collective"


def seed(tmp_path, *, participants=N, name=NAME, seed=0) -> dict:
    path = tmp_path / f"manifest-{seed}-{participants}.json"
    call_command(
        "seed_scale",
        participants=participants,
        organization_name=name,
        seed=seed,
        manifest=path,
        stdout=StringIO(),
        stderr=StringIO(),
    )
    return json.loads(path.read_text())


@pytest.fixture
def manifest(db, tmp_path):
    return seed(tmp_path)


@pytest.fixture
def organization(manifest):
    return Organization.objects.get(pk=manifest["organization"]["id"])


def _table_counts() -> dict[str, int]:
    models = [Organization, User, Participant, Enrollment, Circle, Session, Attendance, Assessment, Response, Score]
    return {m._meta.label: m.objects.count() for m in [*models, AuditEntry]}


def _login(client: Client, manifest: dict, role: str = "coordinator") -> None:
    login = manifest["logins"][role]
    r = client.post("/accounts/login/", {"email": login["email"], "password": login["password"]})
    assert r.status_code == 302


def test_it_creates_n_participants_in_circles_of_about_a_hundred_with_twenty_questionnaires_each(
    manifest, organization
):
    people = Participant.objects.filter(organization=organization)
    circles = Circle.objects.filter(organization=organization)
    assert people.count() == N
    assert circles.count() == N // 100 == Retreat.objects.filter(organization=organization).count()
    assert all(80 <= c.members.count() <= 105 for c in circles)
    assert Enrollment.objects.filter(organization=organization).count() == N
    responses = Response.objects.filter(organization=organization).count()
    assert 14 * N <= responses <= 26 * N
    assert Score.objects.filter(organization=organization).count() == responses
    assert Assessment.objects.filter(organization=organization).count() > responses
    assert Attendance.objects.filter(organization=organization, status="attended").exists()
    assert Session.objects.filter(organization=organization, kind="circle_meeting", status="completed").exists()
    assert manifest["counts"]["participants"] == N and manifest["counts"]["responses"] == responses
    roles = set(Membership.objects.filter(organization=organization).values_list("role", flat=True))
    assert {"coordinator", "facilitator", "researcher"} <= roles


def test_it_keeps_the_mix_realistic_consents_screenings_and_scores_from_the_engines(organization):
    decisions = ConsentDecision.objects.filter(organization=organization, scope="research")
    assert decisions.filter(granted=True).exists() and decisions.filter(granted=False).exists()
    outcomes = set(Screening.objects.filter(organization=organization).values_list("outcome", flat=True))
    assert {"eligible", "needs_review"} <= outcomes
    statuses = set(Enrollment.objects.filter(organization=organization).values_list("status", flat=True))
    assert {"enrolled", "completed", "withdrawn"} <= statuses
    for response in Response.objects.filter(organization=organization).select_related("score")[:200]:
        result = score(get_builtin(response.instrument_code), response.answers)
        assert (response.score.total, response.score.band) == (result.total, result.band or "")


def test_it_stores_identity_encrypted_and_searchable_by_the_blind_index(manifest, organization):
    person = Participant.objects.get(pk=manifest["sample"]["participant_id"])
    person.full_clean()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT display_name, email, date_of_birth FROM participants_participant WHERE id = %s", [person.pk]
        )
        raw = cursor.fetchone()
    assert all(value.startswith("enc1$") for value in raw)
    assert person.display_name not in raw and person.email not in raw
    assert ParticipantSearchToken.objects.filter(participant=person).exists()
    membership = Membership.objects.get(organization=organization, role="coordinator")
    found = participants_for_membership(membership, person.display_name.split()[-1])
    assert person in found


def test_the_manifest_paths_open_for_the_coordinator_and_the_participant_links_without_login(manifest):
    staff = Client()
    _login(staff, manifest)
    sample = manifest["sample"]
    for key in ["participant", "program", "retreat", "circle", "session", "enrollment"]:
        assert staff.get(sample[f"{key}_path"]).status_code == 200, key
    assert str(sample["circle_id"]) in sample["circle_path"]
    search = staff.get("/participants/", {"q": sample["participant_search"]})
    assert search.status_code == 200
    anonymous = Client()
    assert sample["assessment_link_path"].startswith("/a/") and sample["space_path"].startswith("/c/")
    assert anonymous.get(sample["assessment_link_path"]).status_code == 200
    assert anonymous.get(sample["space_path"]).status_code == 200


def test_it_refuses_an_organization_that_exists_and_changes_nothing(manifest, tmp_path):
    before = _table_counts()
    for name in [NAME, NAME.upper()]:
        with pytest.raises(CommandError, match="already exists"):
            seed(tmp_path, name=name, participants=50)
    assert _table_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("participants", [0, -5])
def test_it_refuses_fewer_than_one_participant(tmp_path, participants):
    with pytest.raises(CommandError, match="at least 1"):
        seed(tmp_path, participants=participants)
    assert not Organization.objects.exists() and not (tmp_path / f"manifest-0-{participants}.json").exists()


def test_it_audits_the_seeding_once_without_pii_and_the_chain_stays_valid(manifest, organization):
    entries = AuditEntry.objects.filter(organization_id=organization.pk)
    assert entries.filter(action="demo.organization.seeded").count() == 1
    assert set(entries.values_list("action", flat=True)) == {
        "demo.organization.seeded",
        "outcomes.link.created",
        "community.link.created",
    }
    seeded = entries.get(action="demo.organization.seeded")
    assert seeded.data["rows"]["participants"] == N
    names = Participant.objects.filter(organization=organization).values_list("display_name", flat=True)[:50]
    assert not any(name in json.dumps(seeded.data) for name in names)
    call_command("verify_audit", stdout=StringIO())


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_people_in_another_organization(tmp_path):
    first = seed(tmp_path, participants=120, name="First Scale Org", seed=7)
    second = seed(tmp_path, participants=120, name="Second Scale Org", seed=7)

    def names(m):
        rows = Participant.objects.filter(organization_id=m["organization"]["id"]).order_by("pk")
        return [(p.display_name, p.email, p.date_of_birth) for p in rows]

    assert names(first) == names(second) and len(names(first)) == 120
    assert first["counts"] == second["counts"]
