"""Coordinators edit programs on a page or through PATCH /api/v1/programs/{id}. Bad input, other
roles and other organizations change nothing; jurisdiction, substance and framework stay put
while sessions are planned or under way."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.programs import services
from communitas.programs.models import Program, Session
from communitas.programs.session_services import session_end, session_start
from tests.api_helpers import assert_error, call, row
from tests.conftest import bearer
from tests.factories import make_user
from tests.journey_helpers import oregon_program
from tests.session_helpers import setting

Role = Membership.Role
FORM = {
    "name": "Spring circle",
    "substance": "psilocybin",
    "jurisdiction": "US-OR",
    "framework": "licensed_service_center",
    "model": "service_center_group",
    "description": "",
}


@pytest.fixture
def program(org):
    return oregon_program(org)[0]


@pytest.fixture
def busy(org, alice):
    """An Oregon program with a preparation session planned (see ``session_helpers.setting``)."""
    program, _document, _guide, _people = setting(org, alice)
    assert program.sessions.filter(status=Session.Status.PLANNED).exists()
    return program


def edit_path(program) -> str:
    return f"/programs/{program.pk}/edit/"


def updates(program) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="programs.program.updated", object_id=str(program.pk)))


def patch(client, program, body, headers):
    return call(client, "patch", f"/programs/{program.pk}", body, **headers)


def hospitality_client(org) -> Client:
    client = Client()
    client.force_login(make_user(org, Role.HOSPITALITY))
    return client


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_program_prefilled(alice_client, program):
    program.description = "Eight weeks."
    program.save()

    r = alice_client.get(edit_path(program))

    assert r.status_code == 200
    form = r.context["form"]
    assert {name: form[name].value() for name in FORM} == {**FORM, "description": "Eight weeks."}
    assert r.context["program"] == program


def test_a_coordinator_edits_a_program_on_the_page(alice_client, alice, program):
    body = {**FORM, "name": "Summer circle", "model": "community_circle", "description": "Twelve weeks."}

    r = alice_client.post(edit_path(program), body)

    assert r.status_code == 302 and r["Location"] == f"/programs/{program.pk}/"
    program.refresh_from_db()
    assert (program.name, program.model, program.description) == ("Summer circle", "community_circle", "Twelve weeks.")
    [entry] = updates(program)
    assert entry.actor_id == alice.pk
    assert entry.data == {"fields": ["description", "model", "name"]}


def test_saving_the_form_unchanged_records_nothing(alice_client, program):
    assert alice_client.post(edit_path(program), FORM).status_code == 302
    assert updates(program) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"jurisdiction": "oregon"},
        {"jurisdiction": "us-or"},
        {"substance": "dmt"},
        {"name": ""},
        {"model": "cult"},
        {"framework": "none"},
        {"description": "d" * 4001},
    ],
)
def test_the_page_refuses_bad_input_and_changes_nothing(alice_client, program, bad):
    before = row(program)

    r = alice_client.post(edit_path(program), {**FORM, "name": "Renamed", **bad})

    assert r.status_code == 400 and r.context["form"].errors
    assert row(program) == before and updates(program) == []


def test_the_page_refuses_a_name_another_program_has(alice_client, org, program):
    services.program_create(organization=org, actor=None, name="Winter circle", substance="mdma", jurisdiction="US")
    before = row(program)

    r = alice_client.post(edit_path(program), {**FORM, "name": "Winter circle"})

    assert r.status_code == 400 and r.context["form"].non_field_errors()
    assert row(program) == before and updates(program) == []
    assert b"<h1>Edit Spring circle</h1>" in r.content


def test_the_page_enforces_csrf(alice, program):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    before = row(program)

    assert client.post(edit_path(program), {**FORM, "name": "Renamed"}).status_code == 403
    assert row(program) == before


def test_other_roles_cannot_edit_on_the_page(org, bob_client, alice, program):
    rita_client = Client()
    rita_client.force_login(make_user(org, Role.RESEARCHER))
    before = row(program)

    for client in (bob_client, rita_client, hospitality_client(org)):
        assert client.get(edit_path(program)).status_code == 403
        assert client.post(edit_path(program), {**FORM, "name": "Renamed"}).status_code == 403
    assert row(program) == before and updates(program) == []


def test_another_organizations_program_is_not_found(charlie_client, program):
    before = row(program)

    assert charlie_client.get(edit_path(program)).status_code == 404
    assert charlie_client.post(edit_path(program), {**FORM, "name": "Renamed"}).status_code == 404
    assert row(program) == before


def test_the_detail_page_links_to_edit_for_managers_only(alice_client, bob_client, program):
    link = f'href="{edit_path(program)}"'.encode()

    assert link in alice_client.get(f"/programs/{program.pk}/").content
    assert link not in bob_client.get(f"/programs/{program.pk}/").content


@pytest.mark.parametrize(
    "change", [{"jurisdiction": "US-CO"}, {"substance": "mdma"}, {"framework": "clinical_trial_ind"}]
)
def test_the_page_refuses_a_lawfulness_change_while_sessions_are_planned(alice_client, busy, change):
    before = row(busy)

    r = alice_client.post(edit_path(busy), {**FORM, "name": busy.name, **change})

    assert r.status_code == 400
    assert "Cancel or end them" in " ".join(r.context["form"].non_field_errors())
    assert row(busy) == before and updates(busy) == []


def test_the_page_renames_a_program_with_sessions_planned(alice_client, busy):
    r = alice_client.post(edit_path(busy), {**FORM, "name": "Renamed", "model": "retreat"})

    assert r.status_code == 302
    busy.refresh_from_db()
    assert (busy.name, busy.model) == ("Renamed", "retreat")


def test_the_jurisdiction_may_change_once_every_session_is_over(alice_client, alice, busy):
    for session in busy.sessions.all():
        session_end(session=session_start(session=session, actor=alice), actor=alice)

    r = alice_client.post(edit_path(busy), {**FORM, "name": busy.name, "jurisdiction": "US-CO"})

    assert r.status_code == 302
    busy.refresh_from_db()
    assert busy.jurisdiction == "US-CO"
    assert updates(busy)[0].data == {"fields": ["jurisdiction"]}


def test_cancelled_sessions_do_not_hold_the_substance(alice, busy):
    busy.sessions.update(status=Session.Status.CANCELLED)

    services.program_update(actor=alice, program=busy, substance="ketamine")

    assert Program.objects.get(pk=busy.pk).substance == "ketamine"


# --- the service ---------------------------------------------------------------------------------


def test_the_service_rechecks_the_actor(org, bob, charlie, program):
    before = row(program)

    for actor in (bob, charlie, make_user(org, Role.HOSPITALITY)):
        with pytest.raises(PermissionDenied):
            services.program_update(actor=actor, program=program, name="Renamed")
    assert row(program) == before


def test_the_service_refuses_unknown_fields(alice, program):
    with pytest.raises(TypeError):
        services.program_update(actor=alice, program=program, registration_key="x")


def test_an_invalid_change_leaves_the_program_object_as_it_was(alice, program):
    with pytest.raises(ValidationError):
        services.program_update(actor=alice, program=program, name="Renamed", substance="dmt")

    assert (program.name, program.substance) == ("Spring circle", "psilocybin")
    assert row(program)["name"] == "Spring circle"


# --- the API -------------------------------------------------------------------------------------


def test_the_api_changes_only_the_fields_sent(client, alice_api, alice, program):
    before = row(program)

    r = patch(client, program, {"description": "Eight weeks.", "framework": "authorized_prescriber"}, alice_api)

    assert r.status_code == 200, r.content
    assert r.json()["description"] == "Eight weeks." and r.json()["framework"] == "authorized_prescriber"
    assert r.json()["name"] == "Spring circle" and set(r.json()) >= {"id", "model", "registration_open"}
    after = row(program)
    assert {k for k in after if after[k] != before[k]} == {"description", "framework", "updated_at"}
    [entry] = updates(program)
    assert (entry.actor_id, entry.data) == (alice.pk, {"fields": ["description", "framework"]})


def test_the_api_takes_an_empty_patch_as_no_change(client, alice_api, program):
    r = patch(client, program, {}, alice_api)

    assert r.status_code == 200 and r.json()["id"] == program.pk
    assert updates(program) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"name": "No', 400),
        ("[]", 422),
        ({"registration_open": True}, 422),
        ({"organization_id": 2}, 422),
        ({"name": "Renamed", "colour": "green"}, 422),
        ({"name": None}, 422),
        ({"description": None}, 422),
        ({"name": ""}, 422),
        ({"name": "n" * 201}, 422),
        ({"jurisdiction": "us-or"}, 422),
        ({"substance": "dmt"}, 422),
        ({"model": 3}, 422),
        ({"description": "d" * 4001}, 422),
    ],
)
def test_the_api_refuses_bad_input_and_changes_nothing(client, alice_api, program, body, status):
    before = row(program)

    assert_error(patch(client, program, body, alice_api), status)
    assert row(program) == before and updates(program) == []


def test_the_api_refuses_a_name_another_program_has(client, alice_api, org, program):
    services.program_create(organization=org, actor=None, name="Winter circle", substance="mdma", jurisdiction="US")
    before = row(program)

    assert_error(patch(client, program, {"name": "Winter circle"}, alice_api), 422)
    assert row(program) == before


@pytest.mark.parametrize(
    "change", [{"jurisdiction": "US-CO"}, {"substance": "mdma"}, {"framework": "clinical_trial_ind"}]
)
def test_the_api_answers_409_to_a_lawfulness_change_while_sessions_are_planned(client, alice_api, busy, change):
    before = row(busy)

    r = patch(client, busy, {"description": "Moved.", **change}, alice_api)

    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert "Cancel or end them" in r.json()["detail"]
    assert row(busy) == before and updates(busy) == []


def test_the_api_accepts_the_same_lawfulness_values_while_sessions_are_planned(client, alice_api, busy):
    r = patch(client, busy, {"jurisdiction": "US-OR", "substance": "psilocybin", "name": "Renamed"}, alice_api)

    assert r.status_code == 200, r.content
    assert updates(busy)[0].data == {"fields": ["name"]}


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_the_api_answers_403_to_other_roles(client, org, program, role):
    before = row(program)

    assert_error(patch(client, program, {"name": "Renamed"}, bearer(make_user(org, role), org)), 403)
    assert row(program) == before and updates(program) == []


def test_the_api_answers_404_for_another_organizations_program(client, charlie_api, program):
    before = row(program)

    assert_error(patch(client, program, {"name": "Renamed"}, charlie_api), 404)
    assert_error(call(client, "patch", "/programs/987654", {"name": "Renamed"}, **charlie_api), 404)
    assert row(program) == before


def test_the_api_answers_401_without_a_token(client, program):
    assert_error(patch(client, program, {"name": "Renamed"}, {}), 401)
