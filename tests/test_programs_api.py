"""The programs API: programs, the readiness roster, retreats, circles and lawfully staffed
sessions under /api/v1/, sealed off between organizations, limited by role, refusing bad input
and unlawful sessions without changing anything."""

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.facilitators.models import Credential, FacilitatorProfile
from communitas.participants.models import Participant
from communitas.programs import session_services as services
from communitas.programs.models import (
    Attendance,
    Circle,
    DoseRecord,
    Enrollment,
    Program,
    Retreat,
    Session,
    VitalSigns,
)
from tests import api_helpers
from tests.api_helpers import call
from tests.conftest import bearer
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import ParticipantFactory, make_user
from tests.session_helpers import doses, make_ready, setting, when

Role = Membership.Role
MISSING, REPEAT_PARTICIPANT, REPEAT_FACILITATOR = object(), object(), object()
ERROR_CODES = {**api_helpers.ERROR_CODES, 409: "conflict"}


def assert_error(response, status: int) -> dict:
    """``api_helpers.assert_error``, knowing 409 too."""
    if status in api_helpers.ERROR_CODES:
        return api_helpers.assert_error(response, status)
    assert response.status_code == status, response.content
    body = response.json()
    assert body == {"error": ERROR_CODES[status], "detail": body["detail"]} and body["detail"], body
    return body


@dataclass
class World:
    program: Program
    document: object
    guide: FacilitatorProfile
    people: list[Participant]
    retreat: Retreat
    circle: Circle
    planned: Session
    running: Session


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


def build(org, actor) -> World:
    """An Oregon program with a licensed guide and two ready people, a retreat and a circle, one
    planned session and one under way (its people each agreed 20 mg)."""
    program, document, guide, people = setting(org, actor)
    retreat = services.retreat_create(
        program=program,
        actor=actor,
        name="Autumn retreat",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 3, 4),
        capacity=2,
    )
    circle = services.circle_create(program=program, actor=actor, name="Thursday circle", retreat=retreat)
    sessions = []
    for days in (7, 8):
        start, end = when(days=days)
        sessions.append(
            services.session_plan(
                program=program,
                actor=actor,
                kind="administration",
                title=f"Group session {days}",
                planned_start=start,
                planned_end=end,
                facilitators=[guide],
                participants=people,
                planned_doses=doses(people),
            )
        )
    running = services.session_start(session=sessions[1], actor=actor)
    return World(program, document, guide, people, retreat, circle, sessions[0], running)


@pytest.fixture
def world(org, alice) -> World:
    return build(org, alice)


@pytest.fixture
def theirs(other_org, charlie) -> World:
    return build(other_org, charlie)


def snapshot() -> dict:
    """Everything a programs write touches."""
    return {
        "programs": sorted(
            Program.objects.values_list(
                "pk", "name", "substance", "jurisdiction", "framework", "model", "description", "registration_open"
            )
        ),
        "retreats": sorted(Retreat.objects.values_list("pk", "name", "capacity")),
        "circles": sorted(Circle.objects.values_list("pk", "name", "retreat_id")),
        "members": sorted(Circle.members.through.objects.values_list("circle_id", "participant_id")),
        "circle_staff": sorted(Circle.facilitators.through.objects.values_list("circle_id", "facilitatorprofile_id")),
        "sessions": sorted(Session.objects.values_list("pk", "status", "started_at", "ended_at")),
        "session_staff": sorted(
            Session.facilitators.through.objects.values_list("session_id", "facilitatorprofile_id")
        ),
        "attendance": sorted(Attendance.objects.values_list("session_id", "participant_id", "planned_dose_mg")),
        "enrollments": sorted(Enrollment.objects.values_list("pk", "retreat_id", "status")),
        "doses": DoseRecord.objects.count(),
        "vitals": VitalSigns.objects.count(),
        "participants": Participant.objects.count(),
        "audit_entries": AuditEntry.objects.count(),
    }


# --- every endpoint, with a valid body built from a world ----------------------------------------


def retreat_body(w: World) -> dict:
    return {
        "name": "Spring retreat",
        "starts_on": "2027-05-01",
        "ends_on": "2027-05-04",
        "venue": "Cedar Lodge",
        "capacity": 12,
        "rooms": ["Hall", "Garden"],
    }


def enrollment_body(w: World) -> dict:
    return {"participant_id": w.people[0].pk}


def circle_body(w: World) -> dict:
    return {"name": "Veterans circle", "language": "en", "affinity": "veterans", "capacity": 8, "retreat_id": None}


def members_body(w: World) -> dict:
    return {"participant_ids": [p.pk for p in w.people], "facilitator_ids": [w.guide.pk]}


def session_body(w: World) -> dict:
    start, end = when(days=9)
    return {
        "kind": "administration",
        "activity": "",
        "title": "Saturday session",
        "location": "Cedar room",
        "planned_start": _iso(start),
        "planned_end": _iso(end),
        "facilitator_ids": [w.guide.pk],
        "participants": [{"participant_id": p.pk, "planned_dose_mg": "20"} for p in w.people],
        "circle_id": None,
        "retreat_id": None,
    }


def program_patch_body(w: World) -> dict:
    """Nothing that decides lawfulness: the world has sessions planned and under way."""
    return {"name": "Group sessions, renamed", "model": "retreat", "description": "Weekly groups."}


def no_body(w: World) -> None:
    return None


def empty_body(w: World) -> str:
    """Start and end take no fields: an empty body."""
    return ""


def dose_body(w: World) -> dict:
    return {
        "participant_id": w.people[0].pk,
        "product": "P. cubensis, whole",
        "unique_id": "LOT-77",
        "amount_mg": "20",
        "kind": "initial",
        "taken_at": _iso(timezone.now()),
    }


def vitals_body(w: World) -> dict:
    return {
        "participant_id": w.people[0].pk,
        "taken_at": _iso(timezone.now()),
        "systolic": 128,
        "diastolic": 80,
        "heart_rate": 76,
        "temperature_c": "36.8",
        "spo2": 98,
    }


READS = [
    ("get", "/programs", no_body),
    ("get", "/programs/{program}", no_body),
    ("get", "/programs/{program}/roster", no_body),
    ("get", "/programs/{program}/retreats", no_body),
    ("get", "/retreats/{retreat}", no_body),
    ("get", "/programs/{program}/circles", no_body),
    ("get", "/circles/{circle}", no_body),
    ("get", "/programs/{program}/sessions", no_body),
    ("get", "/sessions/{planned}", no_body),
]
WRITES = [
    ("post", "/programs/{program}/retreats", retreat_body),
    ("post", "/retreats/{retreat}/enrollments", enrollment_body),
    ("post", "/programs/{program}/circles", circle_body),
    ("put", "/circles/{circle}/members", members_body),
    ("post", "/programs/{program}/sessions", session_body),
    ("post", "/sessions/{planned}/start", empty_body),
    ("post", "/sessions/{running}/end", empty_body),
    ("post", "/sessions/{running}/doses", dose_body),
    ("post", "/sessions/{running}/vitals", vitals_body),
    ("patch", "/programs/{program}", program_patch_body),
]
ENDPOINTS = READS + WRITES
# Planning and editing; running a session (start, end, doses, vitals) is the care team's.
MANAGER_WRITES = [*WRITES[:5], WRITES[9]]
OBJECT_ENDPOINTS = [e for e in ENDPOINTS if "{" in e[1]]
ROSTER = ("get", "/programs/{program}/roster", no_body)
PROGRAM_READS = READS[:2]  # what the programs page shows retreat staff too


def endpoint_id(endpoint) -> str:
    return f"{endpoint[0].upper()} {endpoint[1]}"


def path_for(template: str, w: World) -> str:
    return template.format(
        program=w.program.pk, retreat=w.retreat.pk, circle=w.circle.pk, planned=w.planned.pk, running=w.running.pk
    )


def send(client, endpoint, w: World, headers: dict, body=MISSING):
    method, template, make_body = endpoint
    return call(client, method, path_for(template, w), make_body(w) if body is MISSING else body, **headers)


def audited(action: str, pk, actor) -> bool:
    return AuditEntry.objects.filter(action=action, object_id=str(pk), actor_id=actor.pk).count() == 1


def violations(response, rule: str) -> list[dict]:
    detail = assert_error(response, 422)["detail"]
    assert all(set(v) == {"rule", "message", "source"} and v["source"] for v in detail), detail
    assert rule in {v["rule"] for v in detail}, detail
    return detail


# --- what each endpoint does ---------------------------------------------------------------------


def test_it_lists_the_organizations_programs_with_their_legal_shape(client, alice_api, world, theirs):
    r = call(client, "get", "/programs", **alice_api)

    assert r.status_code == 200, r.content
    assert r.json()["count"] == 1
    assert r.json()["items"][0]["id"] == world.program.pk


def test_it_shows_a_program_with_framework_model_jurisdiction_and_substance(client, alice_api, world):
    r = call(client, "get", f"/programs/{world.program.pk}", **alice_api)

    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body[k] for k in ("name", "framework", "model", "jurisdiction", "substance")} == {
        "name": "Group sessions",
        "framework": "licensed_service_center",
        "model": "service_center_group",
        "jurisdiction": "US-OR",
        "substance": "psilocybin",
    }


def test_it_gives_the_roster_as_readiness_status_and_pseudonym_only(client, alice_api, world, org, alice):
    stranger = ParticipantFactory(organization=org, display_name="Wren Ashdown")
    from communitas.programs.services import enrollment_create

    enrollment_create(program=world.program, participant=stranger, actor=alice)

    r = call(client, "get", f"/programs/{world.program.pk}/roster", **alice_api)

    assert r.status_code == 200, r.content
    rows = {row["participant"]["id"]: row for row in r.json()["items"]}
    assert rows[world.people[0].pk]["readiness"] == "ready"
    assert rows[stranger.pk]["readiness"] == "not_ready"
    assert rows[stranger.pk]["participant"] == {"id": stranger.pk, "pseudonym": stranger.pseudonym}
    assert set(rows[stranger.pk]) == {"enrollment_id", "participant", "readiness"}
    assert "Wren" not in r.content.decode()


def test_it_lists_and_shows_retreats_with_places_taken(client, alice_api, world, alice):
    services.retreat_enroll(retreat=world.retreat, participant=world.people[0], actor=alice)

    listed = call(client, "get", f"/programs/{world.program.pk}/retreats", **alice_api)
    shown = call(client, "get", f"/retreats/{world.retreat.pk}", **alice_api)

    assert listed.status_code == 200, listed.content
    assert [(r["id"], r["places_taken"]) for r in listed.json()["items"]] == [(world.retreat.pk, 1)]
    assert shown.status_code == 200, shown.content
    assert shown.json()["capacity"] == 2 and shown.json()["places_taken"] == 1
    assert shown.json()["participants"] == [{"id": world.people[0].pk, "pseudonym": world.people[0].pseudonym}]


def test_it_creates_a_retreat(client, alice_api, world, alice):
    r = call(client, "post", f"/programs/{world.program.pk}/retreats", retreat_body(world), **alice_api)

    assert r.status_code == 201, r.content
    retreat = Retreat.objects.get(pk=r.json()["id"])
    assert (retreat.program, retreat.capacity, retreat.rooms) == (world.program, 12, ["Hall", "Garden"])
    assert r.json()["places_taken"] == 0 and r.json()["participants"] == []
    assert audited("programs.retreat.created", retreat.pk, alice)


def test_it_enrolls_a_participant_into_a_retreat(client, alice_api, world):
    r = call(client, "post", f"/retreats/{world.retreat.pk}/enrollments", enrollment_body(world), **alice_api)
    again = call(client, "post", f"/retreats/{world.retreat.pk}/enrollments", enrollment_body(world), **alice_api)

    assert r.status_code == 201, r.content
    assert r.json()["retreat_id"] == world.retreat.pk
    assert r.json()["participant"] == {"id": world.people[0].pk, "pseudonym": world.people[0].pseudonym}
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert Enrollment.objects.filter(retreat=world.retreat).count() == 1
    assert AuditEntry.objects.filter(action="programs.enrollment.retreat_assigned").count() == 1


def test_it_answers_409_when_the_retreat_is_full(client, alice_api, world, alice):
    third = make_ready(world.program, world.document, alice)
    for person in world.people:
        services.retreat_enroll(retreat=world.retreat, participant=person, actor=alice)
    before = snapshot()

    r = call(client, "post", f"/retreats/{world.retreat.pk}/enrollments", {"participant_id": third.pk}, **alice_api)

    body = assert_error(r, 409)
    assert body["detail"] == "Autumn retreat is full (2 places)"
    assert snapshot() == before


def test_it_lists_creates_and_shows_circles(client, alice_api, world, alice):
    created = call(
        client,
        "post",
        f"/programs/{world.program.pk}/circles",
        {**circle_body(world), "retreat_id": world.retreat.pk},
        **alice_api,
    )
    listed = call(client, "get", f"/programs/{world.program.pk}/circles", **alice_api)
    shown = call(client, "get", f"/circles/{created.json()['id']}", **alice_api)

    assert created.status_code == 201, created.content
    assert created.json()["retreat_id"] == world.retreat.pk and created.json()["affinity"] == "veterans"
    assert created.json()["members"] == [] and created.json()["facilitators"] == []
    assert {c["name"] for c in listed.json()["items"]} == {"Thursday circle", "Veterans circle"}
    assert shown.status_code == 200 and shown.json()["capacity"] == 8
    assert audited("programs.circle.created", created.json()["id"], alice)


def test_it_sets_a_circles_members_and_facilitators(client, alice_api, world):
    r = call(client, "put", f"/circles/{world.circle.pk}/members", members_body(world), **alice_api)

    assert r.status_code == 200, r.content
    assert r.json()["members"] == [{"id": p.pk, "pseudonym": p.pseudonym} for p in world.people]
    assert r.json()["facilitators"] == [{"id": world.guide.pk, "display_name": "Ana Lucía Ramos"}]
    assert set(world.circle.members.all()) == set(world.people)
    emptied = call(
        client,
        "put",
        f"/circles/{world.circle.pk}/members",
        {"participant_ids": [], "facilitator_ids": []},
        **alice_api,
    )
    assert emptied.status_code == 200 and emptied.json()["members"] == []
    assert AuditEntry.objects.filter(action="programs.circle.members_set").count() == 2


def test_it_answers_409_when_a_circle_would_hold_more_than_its_capacity(client, alice_api, world, alice):
    small = services.circle_create(program=world.program, actor=alice, name="Pair", capacity=2)
    third = make_ready(world.program, world.document, alice)
    before = snapshot()

    r = call(
        client,
        "put",
        f"/circles/{small.pk}/members",
        {"participant_ids": [*(p.pk for p in world.people), third.pk], "facilitator_ids": []},
        **alice_api,
    )

    assert "holds 2 people" in assert_error(r, 409)["detail"]
    assert snapshot() == before


def test_it_plans_a_validated_session(client, alice_api, world, alice):
    r = call(client, "post", f"/programs/{world.program.pk}/sessions", session_body(world), **alice_api)

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "planned" and body["kind"] == "administration"
    assert body["staff"] == [{"id": world.guide.pk, "display_name": "Ana Lucía Ramos"}]
    assert [(a["participant"]["id"], a["planned_dose_mg"], a["status"]) for a in body["attendance"]] == [
        (p.pk, "20.00", "expected") for p in world.people
    ]
    assert body["validation"]["at"] == "plan" and body["validation"]["violations"] == []
    assert body["doses"] == [] and body["vitals"] == []
    assert audited("programs.session.planned", body["id"], alice)


def test_it_plans_a_circle_session_in_the_circles_retreat(client, alice_api, world, alice):
    services.circle_set_members(circle=world.circle, actor=alice, participants=world.people, facilitators=[])
    start, end = when(days=10)
    body = {
        "kind": "circle_meeting",
        "activity": "group_discussion",
        "title": "Integration circle",
        "planned_start": _iso(start),
        "planned_end": _iso(end),
        "facilitator_ids": [world.guide.pk],
        "participants": [{"participant_id": world.people[0].pk}],
        "circle_id": world.circle.pk,
    }

    r = call(client, "post", f"/programs/{world.program.pk}/sessions", body, **alice_api)

    assert r.status_code == 201, r.content
    assert (r.json()["circle_id"], r.json()["retreat_id"]) == (world.circle.pk, world.retreat.pk)
    assert r.json()["attendance"][0]["planned_dose_mg"] is None


def test_it_lists_and_shows_sessions_with_staff_attendance_and_validation(client, alice_api, world, alice):
    services.dose_record(
        session=world.running,
        participant=world.people[0],
        actor=alice,
        product="P",
        unique_id="L1",
        amount_mg=Decimal("20"),
        kind="initial",
        taken_at=world.running.started_at,
    )

    listed = call(client, "get", f"/programs/{world.program.pk}/sessions", **alice_api)
    shown = call(client, "get", f"/sessions/{world.running.pk}", **alice_api)

    assert listed.status_code == 200, listed.content
    in_order = list(
        Session.objects.filter(program=world.program).order_by("planned_start").values_list("pk", flat=True)
    )
    assert [s["id"] for s in listed.json()["items"]] == in_order
    assert {world.planned.pk, world.running.pk} <= set(in_order)
    assert shown.status_code == 200, shown.content
    body = shown.json()
    assert body["status"] == "in_progress" and body["validation"]["at"] == "start"
    assert [s["id"] for s in body["staff"]] == [world.guide.pk]
    assert len(body["attendance"]) == 2
    assert [(d["participant"]["id"], d["amount_mg"], d["unique_id"]) for d in body["doses"]] == [
        (world.people[0].pk, "20.00", "L1")
    ]


def test_it_names_participants_by_pseudonym_only(client, alice_api, world, alice):
    services.circle_set_members(circle=world.circle, actor=alice, participants=world.people, facilitators=[])
    for person in world.people:
        services.retreat_enroll(retreat=world.retreat, participant=person, actor=alice)
    paths = [
        f"/programs/{world.program.pk}/roster",
        f"/retreats/{world.retreat.pk}",
        f"/circles/{world.circle.pk}",
        f"/programs/{world.program.pk}/sessions",
        f"/sessions/{world.running.pk}",
    ]
    for path in paths:
        text = call(client, "get", path, **alice_api).content.decode()
        for person in world.people:
            assert person.pseudonym in text, path
            assert person.display_name not in text and person.email not in text, path


def test_it_starts_and_ends_a_session(client, alice_api, world, alice):
    started = call(client, "post", f"/sessions/{world.planned.pk}/start", "", **alice_api)
    ended = call(client, "post", f"/sessions/{world.planned.pk}/end", {}, **alice_api)

    assert started.status_code == 200, started.content
    assert started.json()["status"] == "in_progress" and started.json()["validation"]["at"] == "start"
    assert ended.status_code == 200, ended.content
    assert ended.json()["status"] == "completed" and ended.json()["ended_at"]
    assert AuditEntry.objects.filter(action="programs.session.ended", actor_id=alice.pk).count() == 1


def test_it_answers_409_to_starting_or_ending_a_session_in_the_wrong_state(client, alice_api, world):
    before = snapshot()

    again = call(client, "post", f"/sessions/{world.running.pk}/start", "", **alice_api)
    too_soon = call(client, "post", f"/sessions/{world.planned.pk}/end", "null", **alice_api)

    assert assert_error(again, 409)["detail"] == "the session is in_progress"
    assert assert_error(too_soon, 409)["detail"] == "the session is planned"
    assert snapshot() == before


def test_it_records_a_dose(client, alice_api, world, alice):
    r = call(client, "post", f"/sessions/{world.running.pk}/doses", dose_body(world), **alice_api)

    assert r.status_code == 201, r.content
    assert r.json()["amount_mg"] == "20.00" and r.json()["recorded_by_id"] == alice.pk
    assert r.json()["participant"] == {"id": world.people[0].pk, "pseudonym": world.people[0].pseudonym}
    assert DoseRecord.objects.get().unique_id == "LOT-77"
    assert AuditEntry.objects.filter(action="programs.dose.recorded").count() == 1


def test_it_records_vital_signs(client, alice_api, world):
    r = call(client, "post", f"/sessions/{world.running.pk}/vitals", vitals_body(world), **alice_api)

    assert r.status_code == 201, r.content
    assert (r.json()["systolic"], r.json()["diastolic"], r.json()["temperature_c"]) == (128, 80, "36.8")
    assert VitalSigns.objects.get().spo2 == 98
    assert AuditEntry.objects.filter(action="programs.vitals.recorded").count() == 1


def test_it_answers_409_to_a_dose_outside_an_administration_under_way(client, alice_api, world):
    before = snapshot()

    r = call(client, "post", f"/sessions/{world.planned.pk}/doses", dose_body(world), **alice_api)

    assert "started" in assert_error(r, 409)["detail"]
    assert snapshot() == before


# --- refusals come back as violations, and nothing is saved --------------------------------------


def test_it_refuses_a_dose_over_the_session_maximum(client, alice_api, world):
    first = call(
        client, "post", f"/sessions/{world.running.pk}/doses", {**dose_body(world), "amount_mg": "35"}, **alice_api
    )
    assert first.status_code == 201, first.content
    before = snapshot()

    r = call(
        client, "post", f"/sessions/{world.running.pk}/doses", {**dose_body(world), "kind": "secondary"}, **alice_api
    )

    detail = violations(r, "MAX-DOSE")
    assert "55" in detail[0]["message"]
    assert snapshot() == before


def test_it_refuses_an_expired_credential(client, alice_api, world, org, alice):
    lapsed = make_profile(org, alice, display_name="Sam Lapsed", languages=["en"])
    add_credential(lapsed, alice, days_left=-1, valid_from=datetime.date(2024, 1, 1))
    before = snapshot()

    r = call(
        client,
        "post",
        f"/programs/{world.program.pk}/sessions",
        {**session_body(world), "facilitator_ids": [lapsed.pk]},
        **alice_api,
    )

    detail = violations(r, "LICENCE")
    assert any(v["message"].startswith("Sam Lapsed:") for v in detail)
    assert snapshot() == before


def test_it_refuses_a_missing_language(client, alice_api, world, alice):
    speaker = make_ready(world.program, world.document, alice, preferred_language="vi")
    body = session_body(world)
    body["participants"].append({"participant_id": speaker.pk, "planned_dose_mg": "20"})
    before = snapshot()

    r = call(client, "post", f"/programs/{world.program.pk}/sessions", body, **alice_api)

    detail = violations(r, "LANGUAGE")
    assert any("vi" in v["message"] and speaker.pseudonym in v["message"] for v in detail)
    assert snapshot() == before


def test_it_refuses_too_few_facilitators_for_the_largest_dose(client, alice_api, world, alice):
    people = [*world.people, *(make_ready(world.program, world.document, alice) for _ in range(3))]
    body = {
        **session_body(world),
        "participants": [
            {"participant_id": p.pk, "planned_dose_mg": "30" if i == 0 else "10"} for i, p in enumerate(people)
        ],
    }
    before = snapshot()

    violations(call(client, "post", f"/programs/{world.program.pk}/sessions", body, **alice_api), "OR-GROUP-RATIO")
    assert snapshot() == before


def test_it_refuses_a_program_that_is_not_lawful(client, alice_api, world):
    Program.objects.filter(pk=world.program.pk).update(substance="mdma")
    before = snapshot()

    r = call(client, "post", f"/programs/{world.program.pk}/sessions", session_body(world), **alice_api)

    assert violations(r, "LAWFUL")[0]["source"] == "compliance registry"
    assert snapshot() == before


def test_it_refuses_someone_who_is_not_ready(client, alice_api, world, org, alice):
    from communitas.programs.services import enrollment_create

    stranger = ParticipantFactory(organization=org)
    enrollment_create(program=world.program, participant=stranger, actor=alice)
    body = session_body(world)
    body["participants"].append({"participant_id": stranger.pk, "planned_dose_mg": "20"})
    before = snapshot()

    violations(call(client, "post", f"/programs/{world.program.pk}/sessions", body, **alice_api), "READY")
    assert snapshot() == before


def test_it_checks_again_at_the_start(client, alice_api, world):
    Credential.objects.filter(profile=world.guide).update(
        valid_to=datetime.date(2020, 1, 1), valid_from=datetime.date(2019, 1, 1)
    )
    before = snapshot()

    r = call(client, "post", f"/sessions/{world.planned.pk}/start", {}, **alice_api)

    violations(r, "LICENCE")
    assert snapshot() == before


# --- tenant isolation ----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=endpoint_id)
def test_it_answers_404_to_another_organization_for_every_endpoint(client, charlie_api, world, theirs, endpoint):
    before = snapshot()

    assert_error(send(client, endpoint, world, charlie_api, body=endpoint[2](theirs)), 404)
    assert snapshot() == before


def test_it_never_lists_another_organizations_programs(client, charlie_api, world, theirs):
    r = call(client, "get", "/programs?limit=100", **charlie_api)

    assert [p["id"] for p in r.json()["items"]] == [theirs.program.pk]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_serves_the_other_organization_its_own(client, charlie_api, theirs, endpoint):
    assert send(client, endpoint, theirs, charlie_api).status_code in (200, 201)


# Body ids that name another organization's rows: (endpoint, fields laid over the valid body).
FOREIGN = [
    pytest.param(WRITES[1], lambda t: {"participant_id": t.people[0].pk}, id="enroll their participant"),
    pytest.param(WRITES[2], lambda t: {"retreat_id": t.retreat.pk}, id="circle in their retreat"),
    pytest.param(WRITES[3], lambda t: {"participant_ids": [t.people[0].pk]}, id="circle with their participant"),
    pytest.param(WRITES[3], lambda t: {"facilitator_ids": [t.guide.pk]}, id="circle with their facilitator"),
    pytest.param(WRITES[4], lambda t: {"facilitator_ids": [t.guide.pk]}, id="session with their facilitator"),
    pytest.param(
        WRITES[4],
        lambda t: {"participants": [{"participant_id": t.people[0].pk, "planned_dose_mg": "20"}]},
        id="session with their participant",
    ),
    pytest.param(WRITES[4], lambda t: {"circle_id": t.circle.pk}, id="session in their circle"),
    pytest.param(WRITES[4], lambda t: {"retreat_id": t.retreat.pk}, id="session in their retreat"),
    pytest.param(WRITES[7], lambda t: {"participant_id": t.people[0].pk}, id="dose for their participant"),
    pytest.param(WRITES[8], lambda t: {"participant_id": t.people[0].pk}, id="vitals for their participant"),
]


@pytest.mark.parametrize(("endpoint", "fields"), FOREIGN)
def test_it_answers_404_for_another_organizations_ids_in_a_body(client, alice_api, world, theirs, endpoint, fields):
    before = snapshot()

    r = send(client, endpoint, world, alice_api, body={**endpoint[2](world), **fields(theirs)})

    assert_error(r, 404)
    assert snapshot() == before


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", READS, ids=endpoint_id)
def test_it_lets_a_facilitator_read_everything(client, bob_api, world, endpoint):
    assert send(client, endpoint, world, bob_api).status_code == 200


@pytest.mark.parametrize("endpoint", MANAGER_WRITES, ids=endpoint_id)
def test_it_answers_403_to_a_facilitator_for_every_write(client, bob_api, world, endpoint):
    before = snapshot()

    assert_error(send(client, endpoint, world, bob_api), 403)
    assert snapshot() == before


def test_a_facilitator_runs_a_session_like_on_the_page(client, bob_api, world):
    r = send(client, ("post", "/sessions/{planned}/start", empty_body), world, bob_api)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "in_progress"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_answers_403_to_a_researcher_everywhere(client, rita_api, world, endpoint):
    before = snapshot()

    assert_error(send(client, endpoint, world, rita_api), 403)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_it_lets_retreat_staff_read_the_roster(client, org, world, role):
    r = send(client, ROSTER, world, bearer(make_user(org, role), org))

    assert r.status_code == 200, r.content
    assert {row["readiness"] for row in r.json()["items"]} == {"ready"}


@pytest.mark.parametrize("role", [Role.HOSPITALITY, Role.PEER_SUPPORTER])
def test_it_shows_retreat_staff_programs_as_the_programs_page_does(client, org, world, theirs, role):
    headers = bearer(make_user(org, role), org)
    seen = {"id": world.program.pk, "name": "Group sessions", "substance": "psilocybin", "jurisdiction": "US-OR"}

    listed = call(client, "get", "/programs", **headers)
    shown = call(client, "get", f"/programs/{world.program.pk}", **headers)

    assert listed.status_code == 200, listed.content
    assert listed.json()["items"] == [seen]
    assert shown.status_code == 200, shown.content
    assert shown.json() == seen
    assert_error(call(client, "get", f"/programs/{theirs.program.pk}", **headers), 404)


@pytest.mark.parametrize("role", [Role.HOSPITALITY, Role.PEER_SUPPORTER])
@pytest.mark.parametrize("endpoint", PROGRAM_READS, ids=endpoint_id)
def test_it_answers_retreat_staff_where_the_page_lets_them_in(client, org, world, role, endpoint):
    """The API and the programs page let in the same people."""
    user = make_user(org, role)
    page = Client()
    page.force_login(user)

    assert page.get("/programs/").status_code == 200
    assert send(client, endpoint, world, bearer(user, org)).status_code == 200


@pytest.mark.parametrize("role", [Role.HOSPITALITY, Role.PEER_SUPPORTER])
@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e != ROSTER and e not in PROGRAM_READS], ids=endpoint_id)
def test_it_answers_403_to_retreat_staff_for_everything_but_programs_and_the_roster(client, org, world, role, endpoint):
    headers = bearer(make_user(org, role), org)
    before = snapshot()

    assert_error(send(client, endpoint, world, headers), 403)
    assert snapshot() == before


def test_it_answers_404_to_retreat_staff_for_another_organizations_roster(client, other_org, world):
    headers = bearer(make_user(other_org, Role.HOSPITALITY), other_org)

    assert_error(send(client, ROSTER, world, headers), 404)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_it_answers_401_without_a_token(client, world, endpoint):
    before = snapshot()

    assert_error(send(client, endpoint, world, {}), 401)
    assert snapshot() == before


# --- bad input -----------------------------------------------------------------------------------

RAW = [
    ("malformed JSON", '{"name": "No', 400),
    ("not JSON", "name=Noor", 400),
    ("JSON null", "null", 422),
    ("JSON array", "[]", 422),
    ("JSON string", '"Noor"', 422),
    ("JSON number", "7", 422),
]
LONG = "x" * 201
RETREAT_CASES = [
    ("name missing", {"name": MISSING}),
    ("name blank", {"name": "  "}),
    ("name a number", {"name": 7}),
    ("name too long", {"name": LONG}),
    ("name with NUL", {"name": "Au\x00tumn"}),
    ("venue too long", {"venue": LONG}),
    ("starts_on not a date", {"starts_on": "soon"}),
    ("starts_on impossible", {"starts_on": "2027-02-30"}),
    ("starts_on a number", {"starts_on": 86400}),
    ("starts_on a datetime", {"starts_on": "2027-05-01T00:00:00Z"}),
    ("ends before it starts", {"starts_on": "2027-05-04", "ends_on": "2027-05-01"}),
    ("capacity zero", {"capacity": 0}),
    ("capacity negative", {"capacity": -3}),
    ("capacity a string", {"capacity": "12"}),
    ("capacity a float", {"capacity": 12.5}),
    ("capacity a bool", {"capacity": True}),
    ("capacity huge", {"capacity": 10**12}),
    ("capacity null", {"capacity": None}),
    ("rooms not a list", {"rooms": "Hall"}),
    ("a room blank", {"rooms": [""]}),
    ("a room a number", {"rooms": [1]}),
    ("a room too long", {"rooms": [LONG]}),
    ("101 rooms", {"rooms": [f"Room {i}" for i in range(101)]}),
    ("unknown field", {"colour": "green"}),
    ("organization", {"organization_id": 1}),
    ("program moved", {"program_id": 1}),
]
ENROLLMENT_CASES = [
    ("participant_id missing", {"participant_id": MISSING}),
    ("participant_id a string", {"participant_id": "5"}),
    ("participant_id a bool", {"participant_id": True}),
    ("participant_id a float", {"participant_id": 1.5}),
    ("participant_id null", {"participant_id": None}),
    ("participant_id zero", {"participant_id": 0}),
    ("participant_id beyond 64 bits", {"participant_id": 2**64}),
    ("unknown field", {"status": "enrolled"}),
]
CIRCLE_CASES = [
    ("name missing", {"name": MISSING}),
    ("name blank", {"name": ""}),
    ("name too long", {"name": LONG}),
    ("language not a tag", {"language": "English"}),
    ("language too long", {"language": "en-" + "a" * 20}),
    ("affinity too long", {"affinity": "a" * 61}),
    ("capacity one", {"capacity": 1}),
    ("capacity 61", {"capacity": 61}),
    ("capacity a string", {"capacity": "8"}),
    ("retreat_id a string", {"retreat_id": "1"}),
    ("unknown field", {"members": []}),
]
MEMBERS_CASES = [
    ("participant_ids missing", {"participant_ids": MISSING}),
    ("facilitator_ids missing", {"facilitator_ids": MISSING}),
    ("participant_ids not a list", {"participant_ids": 5}),
    ("participant_ids of strings", {"participant_ids": ["5"]}),
    ("participant_ids null", {"participant_ids": None}),
    ("participant repeated", REPEAT_PARTICIPANT),
    ("201 participants", {"participant_ids": list(range(1, 202))}),
    ("51 facilitators", {"facilitator_ids": list(range(1, 52))}),
    ("unknown field", {"name": "Renamed"}),
]
SESSION_CASES = [
    ("kind missing", {"kind": MISSING}),
    ("kind unknown", {"kind": "party"}),
    ("kind is the label", {"kind": "Administration"}),
    ("activity unknown", {"activity": "dancing"}),
    ("title missing", {"title": MISSING}),
    ("title blank", {"title": " "}),
    ("title too long", {"title": LONG}),
    ("location too long", {"location": LONG}),
    ("planned_start missing", {"planned_start": MISSING}),
    ("planned_start naive", {"planned_start": "2027-05-01T10:00:00"}),
    ("planned_start a number", {"planned_start": 1800000000}),
    ("planned_start a date", {"planned_start": "2027-05-01"}),
    ("planned_start impossible", {"planned_start": "2027-02-30T10:00:00Z"}),
    ("planned_start in year 1", {"planned_start": "0001-01-01T00:00:00+01:00"}),
    ("ends before it starts", {"planned_start": "2027-05-01T16:00:00Z", "planned_end": "2027-05-01T10:00:00Z"}),
    ("ends as it starts", {"planned_start": "2027-05-01T10:00:00Z", "planned_end": "2027-05-01T10:00:00Z"}),
    ("facilitator_ids not a list", {"facilitator_ids": 3}),
    ("facilitator repeated", REPEAT_FACILITATOR),
    ("participants not a list", {"participants": {"participant_id": 1}}),
    ("participant repeated", REPEAT_PARTICIPANT),
    ("participant entry a number", {"participants": [1]}),
    ("participant entry with unknown field", {"participants": [{"participant_id": 1, "name": "Noor"}]}),
    ("dose zero", {"participants": [{"participant_id": 1, "planned_dose_mg": "0"}]}),
    ("dose negative", {"participants": [{"participant_id": 1, "planned_dose_mg": -5}]}),
    ("dose over 1000", {"participants": [{"participant_id": 1, "planned_dose_mg": "1000.01"}]}),
    ("dose with 3 decimals", {"participants": [{"participant_id": 1, "planned_dose_mg": "20.125"}]}),
    ("dose not a number", {"participants": [{"participant_id": 1, "planned_dose_mg": "twenty"}]}),
    ("dose NaN", {"participants": [{"participant_id": 1, "planned_dose_mg": "NaN"}]}),
    ("dose a bool", {"participants": [{"participant_id": 1, "planned_dose_mg": True}]}),
    ("201 participants", {"participants": [{"participant_id": i} for i in range(1, 202)]}),
    ("circle_id a string", {"circle_id": "1"}),
    ("unknown field", {"status": "in_progress"}),
    ("validation sent", {"validation": {}}),
]
ACTION_CASES = [
    ("unknown field", {"force": True}),
    ("a list", []),
]
DOSE_CASES = [
    ("participant_id missing", {"participant_id": MISSING}),
    ("participant_id a string", {"participant_id": "1"}),
    ("product blank", {"product": ""}),
    ("product too long", {"product": LONG}),
    ("unique_id blank", {"unique_id": " "}),
    ("unique_id too long", {"unique_id": "u" * 101}),
    ("amount missing", {"amount_mg": MISSING}),
    ("amount zero", {"amount_mg": 0}),
    ("amount negative", {"amount_mg": "-1"}),
    ("amount Infinity", {"amount_mg": "Infinity"}),
    ("amount a bool", {"amount_mg": True}),
    ("amount too precise", {"amount_mg": "1.001"}),
    ("amount too large", {"amount_mg": 100000}),
    ("kind unknown", {"kind": "booster"}),
    ("taken_at naive", {"taken_at": "2027-05-01T10:00:00"}),
    ("taken_at nonsense", {"taken_at": "now"}),
    ("taken_at in 9999", {"taken_at": "9999-12-31T23:59:59-12:00"}),
    ("recorded_by sent", {"recorded_by_id": 1}),
    ("unknown field", {"notes": "x"}),
]
VITALS_CASES = [
    ("no measurement", {"systolic": None, "diastolic": None, "heart_rate": None, "temperature_c": None, "spo2": None}),
    ("only systolic", {"diastolic": None}),
    ("systolic too high", {"systolic": 301}),
    ("systolic a string", {"systolic": "128"}),
    ("systolic a float", {"systolic": 128.5}),
    ("diastolic too low", {"diastolic": 19}),
    ("heart rate a bool", {"heart_rate": True}),
    ("heart rate too high", {"heart_rate": 251}),
    ("temperature too low", {"temperature_c": 29.9}),
    ("temperature too precise", {"temperature_c": "36.85"}),
    ("temperature a bool", {"temperature_c": False}),
    ("spo2 over 100", {"spo2": 101}),
    ("taken_at missing", {"taken_at": MISSING}),
    ("taken_at a number", {"taken_at": 0}),
    ("unknown field", {"respiration": 16}),
]
PROGRAM_PATCH_CASES = [
    ("name blank", {"name": " "}),
    ("name null", {"name": None}),
    ("name too long", {"name": LONG}),
    ("substance unknown", {"substance": "dmt"}),
    ("jurisdiction lower case", {"jurisdiction": "us-or"}),
    ("framework a number", {"framework": 1}),
    ("model unknown", {"model": "cult"}),
    ("description too long", {"description": "d" * 4001}),
    ("description null", {"description": None}),
    ("registration sent", {"registration_open": True}),
    ("unknown field", {"organization_id": 1}),
]
FIELD_CASES = {
    WRITES[0]: RETREAT_CASES,
    WRITES[1]: ENROLLMENT_CASES,
    WRITES[2]: CIRCLE_CASES,
    WRITES[3]: MEMBERS_CASES,
    WRITES[4]: SESSION_CASES,
    WRITES[5]: ACTION_CASES,
    WRITES[6]: ACTION_CASES,
    WRITES[7]: DOSE_CASES,
    WRITES[8]: VITALS_CASES,
    WRITES[9]: PROGRAM_PATCH_CASES,
}


def lay(endpoint, w: World, fields):
    """The endpoint's valid body with ``fields`` laid over it (or one id listed twice)."""
    if isinstance(fields, list):
        return json.dumps(fields)
    body = dict(endpoint[2](w) or {})
    if fields is REPEAT_FACILITATOR:
        return {**body, "facilitator_ids": [w.guide.pk, w.guide.pk]}
    if fields is REPEAT_PARTICIPANT and "participant_ids" in body:
        return {**body, "participant_ids": [w.people[0].pk, w.people[0].pk]}
    if fields is REPEAT_PARTICIPANT:
        return {**body, "participants": [body["participants"][0], body["participants"][0]]}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not MISSING}


ACTIONS = [WRITES[5], WRITES[6]]
CASES = [
    *[
        pytest.param(e, body, status, id=f"{endpoint_id(e)}: {name}")
        for e in WRITES
        for name, body, status in RAW
        if not (e in ACTIONS and body == "null")  # null is "no fields" there
    ],
    *[
        pytest.param(e, fields, 422, id=f"{endpoint_id(e)}: {name}")
        for e, cases in FIELD_CASES.items()
        for name, fields in cases
    ],
]


@pytest.mark.parametrize(("endpoint", "fields", "status"), CASES)
def test_it_refuses_bad_input_to_every_write_and_changes_nothing(client, alice_api, world, endpoint, fields, status):
    body = fields if isinstance(fields, str) else lay(endpoint, world, fields)
    before = snapshot()

    assert_error(send(client, endpoint, world, alice_api, body=body), status)
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", WRITES, ids=endpoint_id)
def test_it_refuses_a_body_over_the_size_limit(client, alice_api, world, endpoint):
    huge = json.dumps({"name": "x" * (3 * 1024 * 1024)})
    before = snapshot()

    assert_error(send(client, endpoint, world, alice_api, body=huge), 413)
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", WRITES, ids=endpoint_id)
def test_it_accepts_the_valid_body_the_bad_cases_are_built_on(client, alice_api, world, endpoint):
    """The control for the cases above: without the fault, the same request succeeds."""
    assert send(client, endpoint, world, alice_api).status_code in (200, 201)


UNKNOWN = 987654
UNKNOWN_IDS = [
    *[pytest.param(e, None, id=f"{endpoint_id(e)}: unknown path id") for e in OBJECT_ENDPOINTS],
    pytest.param(WRITES[1], {"participant_id": UNKNOWN}, id="enroll an unknown participant"),
    pytest.param(WRITES[2], {"retreat_id": UNKNOWN}, id="circle in an unknown retreat"),
    pytest.param(WRITES[3], {"participant_ids": [UNKNOWN]}, id="circle with an unknown participant"),
    pytest.param(WRITES[3], {"facilitator_ids": [UNKNOWN]}, id="circle with an unknown facilitator"),
    pytest.param(WRITES[4], {"facilitator_ids": [UNKNOWN]}, id="session with an unknown facilitator"),
    pytest.param(WRITES[4], {"participants": [{"participant_id": UNKNOWN}]}, id="session with an unknown participant"),
    pytest.param(WRITES[4], {"circle_id": UNKNOWN}, id="session in an unknown circle"),
    pytest.param(WRITES[4], {"retreat_id": UNKNOWN}, id="session in an unknown retreat"),
    pytest.param(WRITES[7], {"participant_id": UNKNOWN}, id="dose for an unknown participant"),
    pytest.param(WRITES[8], {"participant_id": UNKNOWN}, id="vitals for an unknown participant"),
]


@pytest.mark.parametrize(("endpoint", "fields"), UNKNOWN_IDS)
def test_it_answers_404_for_unknown_ids_and_changes_nothing(client, alice_api, world, endpoint, fields):
    method, template, make_body = endpoint
    valid = make_body(world)
    ids = dict.fromkeys(("program", "retreat", "circle", "planned", "running"), UNKNOWN)
    path = template.format(**ids) if fields is None else path_for(template, world)
    body = valid if not isinstance(valid, dict) else {**valid, **(fields or {})}
    before = snapshot()

    assert_error(call(client, method, path, body, **alice_api), 404)
    assert snapshot() == before


def test_it_answers_404_for_a_participant_of_this_organization_outside_the_program(client, alice_api, world, org):
    outside = ParticipantFactory(organization=org)
    before = snapshot()

    enroll = call(
        client, "post", f"/retreats/{world.retreat.pk}/enrollments", {"participant_id": outside.pk}, **alice_api
    )
    dose = call(
        client,
        "post",
        f"/sessions/{world.running.pk}/doses",
        {**dose_body(world), "participant_id": outside.pk},
        **alice_api,
    )

    assert "enrolled in this program" in assert_error(enroll, 404)["detail"]
    assert "in this session" in assert_error(dose, 404)["detail"]
    assert snapshot() == before


def test_it_answers_404_for_a_retreat_or_circle_of_another_program(client, alice_api, world, org, alice):
    from communitas.programs.services import program_create

    other_program = program_create(
        organization=org, actor=alice, name="Another program", substance="psilocybin", jurisdiction="US-OR"
    )
    elsewhere = services.circle_create(program=other_program, actor=alice, name="Elsewhere")
    before = snapshot()

    r = call(
        client,
        "post",
        f"/programs/{world.program.pk}/sessions",
        {**session_body(world), "circle_id": elsewhere.pk},
        **alice_api,
    )

    assert_error(r, 404)
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/programs/abc", "/retreats/1.5", "/sessions/-1x/start", "/circles/ten"])
def test_it_answers_422_for_path_ids_that_are_not_integers(client, alice_api, world, path):
    method, body = ("post", "") if path.endswith("start") else ("get", None)

    assert_error(call(client, method, path, body, **alice_api), 422)


def test_it_points_at_the_offending_fields(client, alice_api, world):
    body = {**session_body(world), "title": "", "kind": "party"}

    detail = assert_error(call(client, "post", f"/programs/{world.program.pk}/sessions", body, **alice_api), 422)[
        "detail"
    ]

    assert sorted(e["loc"][-1] for e in detail) == ["kind", "title"]


# --- cost ----------------------------------------------------------------------------------------


def test_it_lists_sessions_in_a_fixed_number_of_queries(client, alice_api, world, alice, django_assert_max_num_queries):
    path = f"/programs/{world.program.pk}/sessions"
    with django_assert_max_num_queries(12) as few:
        call(client, "get", path, **alice_api)
    for days in (11, 12, 13):
        start, end = when(days=days)
        services.session_plan(
            program=world.program,
            actor=alice,
            kind="integration",
            title="More",
            planned_start=start,
            planned_end=end,
            facilitators=[world.guide],
            participants=world.people,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = call(client, "get", path, **alice_api)
    assert r.json()["count"] == Session.objects.filter(program=world.program).count() >= 5
