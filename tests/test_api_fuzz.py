"""API fuzzing: schemathesis reads /api/v1/openapi.json from the app in-process and calls every
operation with generated requests, valid and invalid, as a coordinator, a facilitator and a
researcher of a populated organization. No request may answer 5xx, and every response must be
declared: its status code, its content type and its body's shape.

Generation is deterministic (a fixed seed, derandomized), bounded per operation, and needs no
network: requests go through Django's WSGI handler inside the test's transaction. Each example
runs in its own savepoint, rolled back after the call, so every example sees the same data and
none depends on the order Hypothesis tries them in. Ids in paths, queries and bodies are drawn
from the organization's real rows (and another organization's, which must answer 404) as often
as from Hypothesis, so the fuzzer gets past the 404s into the handlers."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from communitas.accounts.models import Membership
from communitas.community import circle_services, partner_services, pod_services
from communitas.community.models import (
    CircleSeries,
    CircleWaitlistEntry,
    ContributionApproval,
    FormationRun,
    NeverTogether,
    Partner,
    PartnerContribution,
    Pod,
    Referral,
)
from communitas.community.reflection_services import reflection_create
from communitas.compliance import services as compliance
from communitas.compliance.models import OrganizationRulePack
from communitas.facilitators.models import Credential, FacilitatorProfile
from communitas.interop.models import DataSharingAgreement
from communitas.interop.sharing import agreement_create
from communitas.outcomes import services as outcomes
from communitas.outcomes.models import Assessment, Response, Score
from communitas.participants.models import Participant, SupportPerson
from communitas.participants.services import consent_sign
from communitas.programs.models import Circle, Program, Retreat, Session
from communitas.programs.session_services import circle_create, dose_record, session_plan, session_start
from tests.api_helpers import assert_error, call
from tests.circle_helpers import series_fields
from tests.community_helpers import community, meeting
from tests.conftest import bearer
from tests.facilitator_helpers import add_credential
from tests.factories import OrganizationFactory, make_support_person, make_user
from tests.outcomes_helpers import enrolled_with_schedule
from tests.session_helpers import doses, make_ready, when

Role = Membership.Role
SEED = 20260901
PHQ9 = {str(n): 1 for n in range(1, 10)}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Generated examples per operation and role. COMMUNITAS_FUZZ=deep adds schemathesis' coverage phase
# (every boundary and wrong type of every parameter and body field) and five times the examples:
# about twelve minutes instead of a minute and a half: after a change to the API, not in every CI run.
DEEP = os.environ.get("COMMUNITAS_FUZZ") == "deep"
EXAMPLES = (
    {Role.COORDINATOR: 50, Role.FACILITATOR: 20, Role.RESEARCHER: 20}
    if DEEP
    else {
        Role.COORDINATOR: 10,
        Role.FACILITATOR: 4,
        Role.RESEARCHER: 4,
    }
)

# Which rows an id parameter (in a path, a query or a body) names.
ID_SOURCES = {
    "participant_id": Participant,
    "patient": Participant,
    "person_id": SupportPerson,
    "assessment_id": Assessment,
    "response_id": Response,
    "score_id": Score,
    "program_id": Program,
    "retreat_id": Retreat,
    "circle_id": Circle,
    "session_id": Session,
    "profile_id": FacilitatorProfile,
    "credential_id": Credential,
    "pack_id": OrganizationRulePack,
    "series_id": CircleSeries,
    "entry_id": CircleWaitlistEntry,
    "run_id": FormationRun,
    "pod_id": Pod,
    "pair_id": NeverTogether,
    "partner_id": Partner,
    "referral_id": Referral,
    "contribution_id": PartnerContribution,
    "approval_id": ContributionApproval,
    "agreement_id": DataSharingAgreement,
}
ID_LISTS = {"participant_ids": Participant, "facilitator_ids": FacilitatorProfile}
CODES = ["phq9", "gad7", "pcl5"]


# --- a populated organization ---------------------------------------------------------------------


def _rule_pack() -> dict:
    source = {"source": "POL", "effective_from": "2026-01-01"}
    return {
        "jurisdiction": "US-CO",
        "name": "Cascadia Colorado staffing policy",
        "substance": "psilocybin",
        "unit": "mg psilocin",
        "effective_from": "2026-01-01",
        "sources": {"POL": "Written staffing policy v1 (2026-01-01)"},
        "group_ratio": {"rule": "POL-RATIO", "bands": [{"min_mg": 0, "clients_per_facilitator": 4, **source}]},
        "dose_limit": {"rule": "POL-MAX", "max_mg": 30, **source},
        "documents": [{"kind": "liaison_form", "label": "Liaison form", **source}],
    }


def _sessions(world, alice):
    """A ready pair in an administration session under way, with doses given."""
    program, guide = world.program, world.profile
    document = program.consent_documents.get()
    add_credential(guide, alice)
    people = [make_ready(program, document, alice, preferred_language="en") for _ in range(2)]
    start, end = when()
    prep = timezone.now() + datetime.timedelta(hours=1)
    session_plan(
        program=program,
        actor=alice,
        kind="preparation",
        title="Preparation",
        planned_start=prep,
        planned_end=prep + datetime.timedelta(hours=1),
        facilitators=[guide],
        participants=people,
    )
    session = session_plan(
        program=program,
        actor=alice,
        kind="administration",
        title="Group session",
        planned_start=start,
        planned_end=end,
        facilitators=[guide],
        participants=people,
        planned_doses=doses(people),
    )
    session = session_start(session=session, actor=alice)
    dose_record(
        session=session,
        participant=people[0],
        actor=alice,
        product="P. cubensis, whole",
        unique_id="LOT-1",
        amount_mg=Decimal("20"),
        kind="initial",
        taken_at=session.started_at,
    )
    for person in people:
        consent_sign(
            participant=person,
            document=document,
            typed_name=person.display_name,
            granted={"participation", "research"},
            via="staff",
        )
    return people


def _community(org, alice, bob):
    world = community(org, alice, bob, members=4)
    meeting(world, alice, days=3)
    circle_services.series_create(circle=world.circle, actor=alice, **series_fields(meeting_count=3))
    agreement = circle_services.agreement_publish(circle=world.circle, actor=alice, body="We keep confidences.")
    circle_services.agreement_accept(agreement=agreement, participant=world.members[0], actor=alice)
    small = circle_create(program=world.program, actor=alice, name="Small circle", capacity=1, retreat=world.retreat)
    for person in (world.stranger, world.members[1], world.members[2]):
        circle_services.circle_join(circle=small, participant=person, actor=alice)
    pod_services.pods_propose(retreat=world.retreat, actor=alice)
    pod_services.never_together_record(first=world.members[0], second=world.members[3], reason="conflict", actor=alice)
    reflection_create(participant=world.members[0], body="Calm by the river.", visibility="my_circle")
    partner = partner_services.partner_create(organization=org, actor=alice, name="Riverside Clinic", kind="clinic")
    partner_services.referral_create(participant=world.members[0], partner=partner, actor=alice, note="Follow-up")
    contribution = partner_services.contribution_create(
        partner=partner, actor=alice, title="Songs of the river", kind="knowledge"
    )
    partner_services.approval_record(
        contribution=contribution,
        actor=alice,
        approved_by_name="Elder Rose",
        scope="reuse",
        approved_on=timezone.localdate(),
    )
    return world


def _outcomes(org, person):
    _program, _enrollment, assessments = enrolled_with_schedule(org, person)
    outcomes.response_submit(assessment=assessments[0], answers=PHQ9, language="en", source="staff")


def populate(org, other_org, alice, bob, charlie):
    """Alice's organization with a bit of everything the API serves; a little of Charlie's."""
    world = _community(org, alice, bob)
    ready = _sessions(world, alice)
    _outcomes(org, ready[0])
    for person in world.members[:2]:
        make_support_person(person, name="Tomás Quispe", relationship="family")
    compliance.organization_rule_pack_add(actor=alice, organization=org, data=_rule_pack())
    compliance.client_data_record(participant=ready[0], answers={}, withheld=True, actor=alice)
    today = timezone.localdate()
    agreement_create(
        organization=org,
        actor=alice,
        recipient=other_org,
        title="Research follow-up",
        participant_ids=[p.pk for p in ready],
        scopes=["research"],
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
    )
    # Charlie's organization: ids that must answer 404 to Alice's staff.
    theirs = community(other_org, charlie, make_user(other_org, Role.FACILITATOR), members=3)
    _outcomes(other_org, theirs.members[0])


def id_pools(org) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The ids each id parameter may name: the organization's own, and another organization's."""
    ours, theirs = {}, {}
    for name, model in {**ID_SOURCES, **ID_LISTS}.items():
        ours[name] = sorted(model.objects.filter(organization=org).values_list("pk", flat=True))
        theirs[name] = sorted(model.objects.exclude(organization=org).values_list("pk", flat=True))
    return ours, theirs


# --- schemathesis -------------------------------------------------------------------------------


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # role -> the Authorization header of its member
    ours: dict[str, list[int]]  # id parameter -> the ids of the organization's rows
    theirs: dict[str, list[int]]  # id parameter -> the ids of another organization's rows


WORLD: dict[str, World] = {}  # filled by the module's ``world`` fixture, read by the hooks below


def in_process_app(environ, start_response):
    """Django's WSGI handler, keeping the connection open at each request's start and end (as the
    test client does), so that the request runs inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = HANDLER(environ, start_response)
        body = b"".join(response)
        response.close()  # sends request_finished, as a WSGI server would
        return [body]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


HANDLER = WSGIHandler()
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": DEEP}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", in_process_app, config=CONFIG)


def _with_real_ids(data):
    """For each id field, one of the organization's ids, the generated value or another
    organization's id (Hypothesis picks, so runs repeat; it shrinks towards the first)."""
    if not isinstance(data, dict) or not WORLD:
        return st.just(data)
    world = WORLD["world"]
    fields = {}
    for name, value in data.items():
        ours, theirs = world.ours.get(name), world.theirs.get(name)
        if name in ID_SOURCES:
            options = [st.sampled_from(ids) for ids in (ours, [value], theirs) if ids]
        elif name in ID_LISTS:
            options = [st.lists(st.sampled_from(ids), max_size=3, unique=True) for ids in (ours, theirs) if ids]
            options.insert(min(1, len(options)), st.just(value))
        elif name == "code" and isinstance(value, str):
            options = [st.sampled_from(CODES), st.just(value)]
        else:
            options = [st.just(value)]
        fields[name] = st.one_of(options)
    return st.fixed_dictionaries(fields)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _with_real_ids(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _with_real_ids(query)


@schema.hook
def flatmap_body(context, body):
    return _with_real_ids(body)


@pytest.fixture(scope="module", autouse=True)
def world(django_db_setup, django_db_blocker):
    """One populated world for the whole module, in a transaction rolled back at its end; each
    test runs in a savepoint inside it (pytest-django), each example in one more (below)."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        org = OrganizationFactory(name="Cascadia Community Psilocybin", slug="cascadia")
        other_org = OrganizationFactory(name="Stillwater Veterans Retreats", slug="stillwater", kind="retreat_center")
        cast = {
            Role.COORDINATOR: make_user(org, Role.COORDINATOR, email="alice@cascadia.example"),
            Role.FACILITATOR: make_user(org, Role.FACILITATOR, email="bob@cascadia.example"),
            Role.RESEARCHER: make_user(org, Role.RESEARCHER, email="rita@cascadia.example"),
        }
        charlie = make_user(other_org, Role.COORDINATOR, email="charlie@stillwater.example")
        populate(org, other_org, cast[Role.COORDINATOR], cast[Role.FACILITATOR], charlie)
        headers = {role: {"Authorization": bearer(user, org)["HTTP_AUTHORIZATION"]} for role, user in cast.items()}
        WORLD["world"] = World(headers, *id_pools(org))
        yield WORLD["world"]
        WORLD.clear()
        transaction.set_rollback(True)


def _call_and_check(case, role):
    world = WORLD["world"]
    with transaction.atomic():
        response = case.call(headers=world.headers[role])
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)
    named = {**(case.path_parameters or {}), **(case.query or {})}
    foreign = {k: v for k, v in named.items() if type(v) is int and v in world.theirs.get(k, [])}
    assert not foreign or response.status_code >= 400, (
        f"another organization's {foreign} answered {response.status_code}"
    )


SHARED_WORLD = [HealthCheck.function_scoped_fixture]  # the world is shared on purpose; examples roll back


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES[Role.COORDINATOR], suppress_health_check=SHARED_WORLD)
def test_as_a_coordinator_every_operation_answers_as_declared(case):
    _call_and_check(case, Role.COORDINATOR)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES[Role.FACILITATOR], suppress_health_check=SHARED_WORLD)
def test_as_a_facilitator_every_operation_answers_as_declared(case):
    _call_and_check(case, Role.FACILITATOR)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES[Role.RESEARCHER], suppress_health_check=SHARED_WORLD)
def test_as_a_researcher_every_operation_answers_as_declared(case):
    _call_and_check(case, Role.RESEARCHER)


# --- what the fuzzing (and probes after it) found, kept fixed ------------------------------------

ONCE_500 = [
    ("get", "/participants?offset=79980942333664795645968384", None),  # past the database's integer
    ("get", "/community/circles?limit=124&offset=19940370654961397154185216", None),
    ("post", "/community/never-together", {"participant_ids": [2**70, 2], "reason": "conflict"}),  # SQLite
    ("get", "/compliance/legal-status?substance=%00", None),  # PostgreSQL refuses NUL
    ("get", "/compliance/lawfulness?jurisdiction=US-OR&substance=psilocybin&framework=%00", None),
    ("post", "/compliance/rule-packs", {**_rule_pack(), "name": "Policy\x00"}),
    ("post", "/compliance/rule-packs", {**_rule_pack(), "sources": {"POL": "v1\x00"}}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body"), ONCE_500, ids=[f"{m} {p}" for m, p, _b in ONCE_500])
def test_what_once_answered_500_is_refused_with_a_422(method, path, body):
    response = call(
        Client(), method, path, body, HTTP_AUTHORIZATION=WORLD["world"].headers[Role.COORDINATOR]["Authorization"]
    )
    assert_error(response, 422)
